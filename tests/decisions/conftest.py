"""Fixtures for decisions tests: a branch with members, an organiser and ballots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commonground.decisions import services
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


@pytest.fixture
def open_ballot(group, organiser, members):
    """Build and open a ballot now, closing in a day."""

    def build(
        method: str = "irv", options: Any = ("Ann", "Bo", "Cy", "Di"), **spec: Any
    ):
        now = timezone.now()
        spec.setdefault("closes_at", now + timedelta(days=1))
        return services.election_create(
            actor=organiser,
            group=group,
            kind="question",
            spec=services.ElectionSpec(
                title=f"{method} ballot",
                method=method,
                options=list(options),
                opens_at=now,
                **spec,
            ),
        )

    return build
