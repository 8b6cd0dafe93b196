"""members_enrol: many members of an organisation in one batch, in a fixed number of
queries, with their history, addresses and invitations (members.services.enrolment)."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from commonground.members.models import Invitation, Membership, MembershipChange, User
from commonground.members.services import (
    EnrolResult,
    EnrolRow,
    enrolment_accounts,
    enrolment_directory,
    members_enrol,
    members_enrol_plan,
)
from factories import UserFactory, make_group, make_member

pytestmark = pytest.mark.django_db
JOINED = dt.datetime(2019, 4, 1, tzinfo=dt.UTC)


def enrol(admin, organisation, rows):
    with transaction.atomic():
        return members_enrol(
            actor=admin, organisation=organisation, rows=rows, invited_by=admin
        )


def rows_for(group, count, start=0, **fields):
    return [
        EnrolRow(
            line=start + i + 2,
            email=f"Member{start + i}@Example.net",
            name=f"Person {start + i}",
            group_id=group.pk,
            **fields,
        )
        for i in range(count)
    ]


def test_new_people_get_an_account_address_membership_history_and_invitation(
    admin, organisation, leeds
):
    outcome = enrol(
        admin, organisation, rows_for(leeds, 2, status="lapsed", since=JOINED)
    )
    assert (outcome.created, outcome.updated, outcome.unchanged) == (2, 0, 0)
    user = User.objects.get(email="member0@example.net")
    assert user.display_name == "Person 0"
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (
        "member0@example.net",
        False,
        True,
    )
    membership = Membership.objects.get(user=user)
    assert (membership.group, membership.status, membership.since) == (
        leeds,
        "lapsed",
        JOINED,
    )
    change = MembershipChange.objects.get(membership=membership)
    assert (change.from_status, change.to_status, change.actor) == ("", "lapsed", admin)
    assert change.reason == "imported from the register"
    invitation = Invitation.objects.get(user=user)
    assert (invitation.organisation, invitation.invited_by) == (organisation, admin)
    assert (invitation.send_count, invitation.last_sent_at) == (0, None)
    assert outcome.lines[2].user_id == user.pk
    assert outcome.lines[2].membership_id == membership.pk


def test_the_same_rows_again_change_nothing(admin, organisation, leeds):
    enrol(admin, organisation, rows_for(leeds, 3, status="active"))
    before = MembershipChange.objects.count()
    outcome = enrol(admin, organisation, rows_for(leeds, 3, status="active"))
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 3)
    assert MembershipChange.objects.count() == before
    assert User.objects.filter(email__startswith="member").count() == 3
    assert Invitation.objects.count() == 3


def test_a_status_change_is_a_transition_with_its_history(admin, organisation, leeds):
    enrol(admin, organisation, rows_for(leeds, 1, status="active"))
    outcome = enrol(admin, organisation, rows_for(leeds, 1, status="suspended"))
    assert outcome.updated == 1
    membership = Membership.objects.get(user__email="member0@example.net")
    assert membership.status == "suspended"
    assert list(membership.history.values_list("from_status", "to_status")) == [
        ("", "active"),
        ("active", "suspended"),
    ]


def test_without_a_status_a_member_keeps_theirs(admin, organisation, leeds):
    enrol(admin, organisation, rows_for(leeds, 1, status="lapsed"))
    outcome = enrol(admin, organisation, rows_for(leeds, 1))
    assert outcome.unchanged == 1
    assert Membership.objects.get(user__email="member0@example.net").status == "lapsed"


def test_moving_branch_ends_the_old_membership_and_carries_the_status_along(
    admin, organisation, leeds, york
):
    enrol(admin, organisation, rows_for(leeds, 1, status="lapsed"))
    outcome = enrol(admin, organisation, rows_for(york, 1, previous_group_id=leeds.pk))
    assert outcome.updated == 1
    user = User.objects.get(email="member0@example.net")
    assert dict(
        Membership.objects.filter(user=user).values_list("group", "status")
    ) == {
        leeds.pk: "left",
        york.pk: "lapsed",
    }
    assert outcome.lines[2].membership_id == Membership.objects.get(group=york).pk


def test_someone_marked_as_left_without_an_account_is_skipped(
    admin, organisation, leeds
):
    outcome = enrol(admin, organisation, rows_for(leeds, 1, status="left"))
    assert outcome.skipped == 1
    assert not User.objects.filter(email="member0@example.net").exists()


def test_a_member_who_claimed_their_account_keeps_their_chosen_name(
    admin, organisation, leeds
):
    claimed = make_member(
        leeds, UserFactory(email="member0@example.net", display_name="Zed")
    )
    enrol(admin, organisation, rows_for(leeds, 2))
    Invitation.objects.update(claimed_at=None)
    outcome = enrol(
        admin,
        organisation,
        [
            EnrolRow(
                line=2, email="MEMBER0@example.net", name="Renamed", group_id=leeds.pk
            ),
            EnrolRow(
                line=3, email="member1@example.net", name="Corrected", group_id=leeds.pk
            ),
        ],
    )
    claimed.refresh_from_db()
    assert claimed.display_name == "Zed"  # has a password of their own
    assert User.objects.get(email="member1@example.net").display_name == "Corrected"
    assert outcome.lines[2].result == EnrolResult.UNCHANGED
    assert outcome.lines[3].result == EnrolResult.UPDATED


def test_the_plan_says_what_would_happen_and_writes_nothing(admin, organisation, leeds):
    enrol(admin, organisation, rows_for(leeds, 2, status="active"))
    users = User.objects.count()
    outcome = members_enrol_plan(
        organisation=organisation,
        rows=rows_for(leeds, 4, status="lapsed"),
    )
    assert (outcome.created, outcome.updated) == (2, 2)
    assert User.objects.count() == users
    assert not Membership.objects.filter(status="lapsed").exists()


def test_the_number_of_queries_does_not_grow_with_the_batch(
    admin, organisation, leeds, york
):
    def queries(start, count):
        rows = rows_for(leeds, count, start=start, status="active")
        with CaptureQueriesContext(connection) as captured:
            enrol(admin, organisation, rows)
        return len(captured)

    small, large = queries(0, 5), queries(100, 60)
    assert small == large, (small, large)
    # Updates too: every member moves branch and changes status.
    moved = [
        EnrolRow(
            line=i,
            email=f"member{100 + i}@example.net",
            name="X",
            group_id=york.pk,
            status="lapsed",
            previous_group_id=leeds.pk,
        )
        for i in range(60)
    ]
    with CaptureQueriesContext(connection) as captured:
        enrol(admin, organisation, moved)
    assert len(captured) <= large + 2


def test_only_the_organisation_s_admins_may_enrol(organisation, leeds):
    organiser = make_member(leeds)
    with pytest.raises(PermissionDenied):
        enrol(organiser, organisation, rows_for(leeds, 1))


def test_a_group_of_another_organisation_is_refused(admin, organisation):
    elsewhere = make_group(name="Elsewhere")
    with pytest.raises(ValueError, match="outside the organisation"):
        enrol(admin, organisation, rows_for(elsewhere, 1))


def test_an_email_twice_in_a_batch_is_refused(admin, organisation, leeds):
    rows = rows_for(leeds, 1) + [
        EnrolRow(line=9, email="member0@example.net", name="", group_id=leeds.pk)
    ]
    with pytest.raises(ValueError, match="once"):
        enrol(admin, organisation, rows)


def test_enrolment_runs_only_inside_the_caller_s_transaction(
    admin, organisation, leeds
):
    with pytest.raises(RuntimeError, match="transaction"):
        # pytest-django wraps each test in a transaction; leave it for this call.
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            members_enrol(
                actor=admin, organisation=organisation, rows=[], invited_by=admin
            )
        finally:
            connection.in_atomic_block = saved


def test_the_directory_finds_groups_by_slug_or_name_and_the_top_group(
    organisation, national, leeds
):
    directory = enrolment_directory(organisation=organisation)
    assert directory.top_group == national
    assert directory.by_slug["leeds"] == leeds
    assert directory.by_name["leeds branch"] == leeds


def test_accounts_are_found_by_email_whatever_its_case(admin, organisation, leeds):
    enrol(admin, organisation, rows_for(leeds, 2))
    accounts = enrolment_accounts(emails=["MEMBER0@example.NET", "nobody@example.net"])
    assert accounts == {
        "member0@example.net": User.objects.get(email="member0@example.net").pk
    }
