"""Group pages, organiser tools and their refusals, through real requests."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commonground.audit.models import AuditEntry
from commonground.members.models import Group, Membership, Role, RoleAssignment
from factories import UserFactory, make_group, make_member, make_role

pytestmark = pytest.mark.django_db
Status = Membership.Status


def test_group_page_shows_description_subgroups_and_join_button(client):
    parent = make_group(name="North region", kind=Group.Kind.REGION)
    make_group(parent=parent, name="Leeds branch")
    client.force_login(UserFactory())
    page = client.get(f"/groups/{parent.slug}/").content.decode()
    assert "North region" in page and "Leeds branch" in page
    assert "Apply to join North region" in page


def test_member_list_shows_names_never_emails_and_respects_hidden_names(client):
    group = make_group()
    shown = make_member(group, UserFactory(display_name="Visible Vera"))
    hidden = make_member(
        group, UserFactory(display_name="Private Pat", visibility="hidden")
    )
    viewer = make_member(group)
    client.force_login(viewer)
    page = client.get(f"/groups/{group.slug}/members/").content.decode()
    assert "Visible Vera" in page
    assert "Private Pat" not in page
    assert "1 member who keeps their name private" in page
    for person in (shown, hidden, viewer):
        assert person.email not in page


def test_member_list_is_for_members_only(client):
    group = make_group()
    client.force_login(UserFactory())
    assert client.get(f"/groups/{group.slug}/members/").status_code == 404


def test_private_group_is_invisible_to_outsiders_even_by_url(client):
    group = make_group(is_public=False)
    client.force_login(UserFactory())
    for path in ("", "members/", "log/", "manage/"):
        assert client.get(f"/groups/{group.slug}/{path}").status_code == 404
    assert client.post(f"/groups/{group.slug}/join/").status_code == 404


def test_organiser_of_another_group_cannot_use_organiser_tools_here(client):
    group, other = make_group(), make_group()
    outsider_organiser = make_role(other, Role.ORGANISER)
    application = Membership.objects.create(
        user=UserFactory(),
        group=group,
        status=Status.APPLIED,
        since="2026-01-01T00:00Z",
    )
    client.force_login(outsider_organiser)
    assert client.get(f"/groups/{group.slug}/manage/").status_code == 404
    response = client.post(
        f"/groups/{group.slug}/manage/memberships/{application.pk}/approve/"
    )
    assert response.status_code == 404
    # Nor through their own group's URL with this group's membership id.
    response = client.post(
        f"/groups/{other.slug}/manage/memberships/{application.pk}/approve/"
    )
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == Status.APPLIED


def test_apply_then_organiser_approves_then_applicant_sees_it(client):
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    applicant = UserFactory(display_name="Nia Newcomer")
    client.force_login(applicant)
    client.post(f"/groups/{group.slug}/join/")
    assert (
        "application is waiting"
        in client.get(f"/groups/{group.slug}/").content.decode()
    )
    client.force_login(organiser)
    dashboard = client.get("/dashboard/").content.decode()
    assert "Nia Newcomer applied to" in dashboard
    membership = Membership.objects.get(user=applicant, group=group)
    response = client.post(
        f"/groups/{group.slug}/manage/memberships/{membership.pk}/approve/"
    )
    assert response.status_code == 302
    client.force_login(applicant)
    assert "You are a member" in client.get(f"/groups/{group.slug}/").content.decode()


def test_suspension_without_reason_gives_a_field_error_and_changes_nothing(client):
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    member = make_member(group)
    membership = Membership.objects.get(user=member, group=group)
    client.force_login(organiser)
    response = client.post(
        f"/groups/{group.slug}/manage/memberships/{membership.pk}/suspend/",
        {"reason": ""},
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert not AuditEntry.objects.filter(action="membership.suspended").exists()


def test_unknown_action_and_garbage_ids_are_404_not_500(client):
    group = make_group()
    client.force_login(make_role(group, Role.ORGANISER))
    assert (
        client.post(
            f"/groups/{group.slug}/manage/memberships/999999/approve/"
        ).status_code
        == 404
    )
    assert (
        client.post(f"/groups/{group.slug}/manage/memberships/1/explode/").status_code
        == 404
    )
    assert (
        client.post(f"/groups/{group.slug}/manage/roles/999999/revoke/").status_code
        == 404
    )
    assert client.get("/groups/%00%ff/").status_code == 404


def test_role_form_gives_field_errors(client):
    group = make_group()
    client.force_login(make_role(group, Role.ORGANISER))
    response = client.post(
        f"/groups/{group.slug}/manage/roles/", {"user": "abc", "role": "emperor"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice" in body
    assert not RoleAssignment.objects.filter(role="emperor").exists()


def test_group_log_is_readable_by_members_and_names_actions(client):
    group = make_group()
    organiser = make_role(
        group,
        Role.ORGANISER,
        user=make_member(group, UserFactory(display_name="Olu Organiser")),
    )
    member = make_member(group)
    membership = Membership.objects.get(user=member, group=group)
    client.force_login(organiser)
    client.post(
        f"/groups/{group.slug}/manage/memberships/{membership.pk}/suspend/",
        {"reason": "Spam links"},
    )
    client.force_login(make_member(group))
    page = client.get(f"/groups/{group.slug}/log/").content.decode()
    assert (
        "Olu Organiser" in page
        and "suspended a member" in page
        and "Spam links" in page
    )


def _queries(client, path: str) -> int:
    client.get(path)  # warm per-member caches (the second-factor check)
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def test_dashboard_runs_a_constant_number_of_queries(client):
    user = UserFactory()
    client.force_login(user)
    groups = [make_group() for _ in range(2)]
    for group in groups:
        make_member(group, user)
        make_role(group, Role.ORGANISER, user=user) if group is groups[0] else None
        Membership.objects.create(
            user=UserFactory(),
            group=group,
            status=Status.APPLIED,
            since="2026-01-01T00:00Z",
        )
    few = _queries(client, "/dashboard/")
    for _ in range(8):
        group = make_group()
        make_member(group, user)
        make_role(group, Role.ORGANISER, user=user)
        for _ in range(3):
            Membership.objects.create(
                user=UserFactory(),
                group=group,
                status=Status.APPLIED,
                since="2026-01-01T00:00Z",
            )
    assert _queries(client, "/dashboard/") == few


def test_member_list_runs_a_constant_number_of_queries(client):
    group = make_group()
    viewer = make_member(group)
    client.force_login(viewer)
    make_member(make_group(parent=group))
    few = _queries(client, f"/groups/{group.slug}/members/")
    for _ in range(3):
        branch = make_group(parent=group)
        for _ in range(10):
            make_member(branch)
    assert _queries(client, f"/groups/{group.slug}/members/") == few


def test_join_with_htmx_returns_the_refreshed_membership_section(client):
    group = make_group(join_policy=Group.JoinPolicy.OPEN)
    client.force_login(UserFactory())
    response = client.post(f"/groups/{group.slug}/join/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="membership"')
    assert "You are now a member" in body and "Leave" in body
    response = client.post(f"/groups/{group.slug}/leave/", HTTP_HX_REQUEST="true")
    assert "You have left" in response.content.decode()


def test_group_log_labels_every_apps_actions_and_retired_names(client):
    from django.db import transaction

    from commonground.audit.services import audit_record

    group = make_group(name="Leeds branch")
    member = make_member(group)
    with transaction.atomic():
        for action in ("election.opened", "comment.removed", "membership.approve"):
            audit_record(actor=None, action=action, group=group)
    client.force_login(member)
    page = client.get(f"/groups/{group.slug}/log/").content.decode()
    assert "opened a ballot" in page
    assert "removed a comment" in page
    assert "approved an application" in page  # an entry written under the old name
    for raw in ("election.opened", "comment.removed", "membership.approve"):
        assert raw not in page
