"""Support staff see members and groups in the Django admin, and change nothing."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from commonground.members.models import Group, User
from factories import UserFactory, make_group, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    Authenticator.objects.create(
        user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(staff)
    return client


def test_support_staff_list_and_read_members_and_groups(staff_client):
    group = make_group(name="Leeds branch")
    member = make_member(group, UserFactory(display_name="Ola"))
    for model, obj in ((User, member), (Group, group)):
        label = model._meta.model_name
        listing = staff_client.get(reverse(f"admin:members_{label}_changelist"))
        assert listing.status_code == 200
        detail = staff_client.get(
            reverse(f"admin:members_{label}_change", args=[obj.pk])
        )
        assert detail.status_code == 200
    assert (
        "Ola"
        in staff_client.get(reverse("admin:members_user_changelist")).content.decode()
    )


def test_the_admin_changes_nothing(staff_client):
    group = make_group(name="Leeds branch")
    url = reverse("admin:members_group_change", args=[group.pk])
    staff_client.post(url, {"name": "Renamed", "slug": group.slug, "kind": "branch"})
    group.refresh_from_db()
    assert group.name == "Leeds branch"
    assert staff_client.get(reverse("admin:members_group_add")).status_code == 403
    assert (
        staff_client.post(
            reverse("admin:members_group_delete", args=[group.pk])
        ).status_code
        == 403
    )
    assert Group.objects.filter(pk=group.pk).exists()
