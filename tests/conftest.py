"""Platform-wide fixtures. Engine tests do not need Django and ignore these."""

from __future__ import annotations

import pytest


@pytest.fixture
def password():
    from factories import PASSWORD

    return PASSWORD


@pytest.fixture
def user(db):
    from factories import UserFactory

    return UserFactory()


@pytest.fixture
def branch(db):
    from factories import make_group

    return make_group(name="Leeds branch")
