"""The demo movement loaded by ``seed_demo``."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from commonground.audit.services import audit_verify_chain
from commonground.members.models import (
    Group,
    Membership,
    Organisation,
    Role,
    RoleAssignment,
    User,
)

pytestmark = pytest.mark.django_db


def test_demo_is_rich_enough_to_click_through_and_idempotent(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Group.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (
        User.objects.count(),
        Group.objects.count(),
        Membership.objects.count(),
    ) == counts
    output = capsys.readouterr().out
    assert "organiser@demo.commonground.example" in output and "password" in output
    members = (
        User.objects.filter(memberships__status=Membership.Status.ACTIVE)
        .distinct()
        .count()
    )
    assert 180 <= members <= 220
    assert Group.objects.filter(kind=Group.Kind.BRANCH).count() == 6
    coalition = Organisation.objects.get(kind=Organisation.Kind.COALITION)
    assert (
        coalition.affiliates.count() == 3
    )  # the party and two affiliated organisations
    roles = set(RoleAssignment.objects.values_list("role", flat=True))
    assert {Role.ORGANISER, Role.MODERATOR, Role.RETURNING_OFFICER, Role.ADMIN} <= roles
    assert Membership.objects.filter(status=Membership.Status.APPLIED).exists()
    assert audit_verify_chain().ok


def test_demo_pages_render(client):
    call_command("seed_demo")
    client.force_login(User.objects.get(email="organiser@demo.commonground.example"))
    for path in (
        "/",
        "/groups/",
        "/groups/npp-leeds/",
        "/groups/npp-leeds/members/",
        "/groups/npp-leeds/manage/",
        "/groups/npp-leeds/log/",
        "/dashboard/",
        "/me/",
    ):
        assert client.get(path).status_code == 200, path
