"""Fixtures for the assemblies tests: a branch, its organiser, members and an
outsider (see ``assembly_support`` for assemblies and pools)."""

from __future__ import annotations

import pytest

from commonground.members.models import Role


@pytest.fixture
def group(db):
    from factories import make_group

    return make_group(name="Leeds branch")


@pytest.fixture
def organiser(group):
    from factories import make_role

    return make_role(group, Role.ORGANISER)


@pytest.fixture
def members(group):
    from factories import make_member

    return [make_member(group) for _ in range(6)]


@pytest.fixture
def outsider(db):
    from factories import UserFactory

    return UserFactory()
