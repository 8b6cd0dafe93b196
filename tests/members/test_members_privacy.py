"""A member's data: export everything, delete (anonymise) everywhere (T24)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection

from commonground.audit.models import AuditEntry
from commonground.audit.services import audit_verify_chain
from commonground.members import services
from commonground.members.models import Membership, Role, User
from factories import PASSWORD, UserFactory, make_group, make_member, make_role


def _database_dump() -> str:
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    settings = connection.settings_dict
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check deletion on PostgreSQL"
    result = subprocess.run(
        [
            pg_dump,
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            "--data-only",
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.django_db
def test_export_holds_profile_emails_memberships_history_and_roles(client):
    group = make_group(name="Leeds branch")
    user = make_role(
        group,
        Role.MODERATOR,
        user=make_member(group, UserFactory(display_name="Erin Export")),
    )
    client.force_login(user)
    response = client.get("/me/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert (
        "no-store" in response["Cache-Control"]
        or "no-cache" in response["Cache-Control"]
    )
    data = json.loads(response.content)
    assert data["profile"]["email"] == user.email
    assert data["profile"]["display_name"] == "Erin Export"
    assert data["email_addresses"][0]["verified"] is True
    assert data["memberships"][0]["group"] == "Leeds branch"
    assert data["memberships"][0]["status"] == "active"
    assert data["roles"] == [
        {
            "group": "Leeds branch",
            "role": "moderator",
            "assigned_at": data["roles"][0]["assigned_at"],
        }
    ]


@pytest.mark.django_db
def test_export_needs_the_logged_in_owner(client):
    assert client.get("/me/export/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_deletion_leaves_no_trace_of_email_or_name_anywhere_in_the_database(client):
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    person = UserFactory(
        email="zoe.unique-person@example.org", display_name="Zoe Quarrington-Unique"
    )
    Authenticator.objects.create(
        user=person, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    membership = services.membership_join(user=person, group=group)
    services.membership_approve(actor=organiser, membership=membership)
    services.role_assign(actor=organiser, group=group, user=person, role=Role.MODERATOR)
    client.login(email=person.email, password=PASSWORD)  # a live session row
    person_id = person.pk
    dump_before = _database_dump()
    assert "zoe.unique-person" in dump_before and "Quarrington-Unique" in dump_before

    response = client.post("/me/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302

    dump_after = _database_dump()
    assert "zoe.unique-person" not in dump_after.lower()
    assert "quarrington-unique" not in dump_after.lower()
    deleted = User.objects.get(pk=person_id)
    assert deleted.public_name == "Deleted member"
    assert not deleted.has_usable_password() and not deleted.is_active
    # Still countable: the membership row and the audit chain remain, intact.
    assert Membership.objects.get(user_id=person_id).status == Membership.Status.LEFT
    assert AuditEntry.objects.filter(
        action="account.deleted", actor_id=person_id
    ).exists()
    assert audit_verify_chain().ok
    # The old session is gone: the client is logged out.
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.django_db
def test_deletion_needs_the_password_and_confirmation_with_field_errors(client):
    person = UserFactory()
    client.force_login(person)
    response = client.post("/me/delete/", {"password": "wrong-password-123"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This is not your current password." in body
    assert "This field is required." in body
    person.refresh_from_db()
    assert person.deleted_at is None


@pytest.mark.django_db
def test_deleted_member_shows_as_deleted_member_in_the_group_log(client):
    group = make_group()
    organiser = make_role(
        group,
        Role.ORGANISER,
        user=make_member(group, UserFactory(display_name="Gone Gwen")),
    )
    member = make_member(group)
    services.membership_suspend(
        actor=organiser,
        membership=Membership.objects.get(user=member, group=group),
        reason="x",
    )
    services.account_delete(user=organiser)
    client.force_login(make_member(group))
    page = client.get(f"/groups/{group.slug}/log/").content.decode()
    assert "Gone Gwen" not in page
    assert "Deleted member" in page


@pytest.mark.django_db
def test_profile_form_sets_name_and_visibility_with_field_errors(client):
    person = UserFactory()
    client.force_login(person)
    response = client.post(
        "/me/", {"display_name": "New Name", "visibility": "nonsense"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    client.post("/me/", {"display_name": "New Name", "visibility": "hidden"})
    person.refresh_from_db()
    assert (person.display_name, person.visibility) == ("New Name", "hidden")


@pytest.mark.django_db
def test_export_includes_sections_registered_by_other_capabilities(client):
    from commonground.core import capabilities

    person = UserFactory()
    capabilities.register(
        capabilities.Capability(
            app="tests.export_section",
            personal_data={"test_section": lambda user: [{"owner": user.pk}]},
        )
    )
    try:
        client.force_login(person)
        data = json.loads(client.get("/me/export/").content)
    finally:
        capabilities.unregister("tests.export_section")
    assert data["test_section"] == [{"owner": person.pk}]
