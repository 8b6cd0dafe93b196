"""Fixtures: a test kind registered like an app's, a group with members."""

from __future__ import annotations

import pytest

from commonground.core.capabilities import (
    Capability,
    NotificationKind,
    register,
    unregister,
)
from commonground.members import selectors as member_selectors
from commonground.members.models import Group

TEST_APP = "tests.notifications"


def still_in_group(group_id: int, member_ids: list[int]) -> set[int]:
    group = Group.objects.get(pk=group_id)
    return set(
        member_selectors.subtree_active_memberships(group)
        .filter(user_id__in=member_ids)
        .values_list("user_id", flat=True)
    )


@pytest.fixture
def kinds(db):
    register(
        Capability(
            app=TEST_APP,
            notification_kinds=(
                NotificationKind(
                    name="tests.news",
                    label="News",
                    default_channel="email",
                    still_in_group=still_in_group,
                ),
                NotificationKind(
                    name="tests.reply",
                    label="A reply",
                    default_channel="daily",
                    still_in_group=still_in_group,
                ),
                NotificationKind(
                    name="tests.notice",
                    label="Statutory notice",
                    default_channel="email",
                    statutory=True,
                    still_in_group=still_in_group,
                ),
            ),
        )
    )
    yield
    unregister(TEST_APP)


@pytest.fixture
def group(db):
    from factories import make_group

    return make_group(name="Leeds branch")


@pytest.fixture
def members(group):
    from factories import make_member

    return [make_member(group) for _ in range(3)]
