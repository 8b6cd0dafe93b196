"""Membership, role and settings services: state, history and audit side effects."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from commonground.audit.models import AuditEntry
from commonground.audit.services import audit_verify_chain
from commonground.members import services
from commonground.members.models import (
    Group,
    Membership,
    Organisation,
    Role,
    RoleAssignment,
)
from commonground.members.selectors import viewer_for
from factories import (
    OrganisationFactory,
    UserFactory,
    make_group,
    make_member,
    make_role,
)

pytestmark = pytest.mark.django_db
Status = Membership.Status


def test_joining_an_open_group_makes_an_active_member_with_history():
    group = make_group(join_policy=Group.JoinPolicy.OPEN)
    user = UserFactory()
    membership = services.membership_join(user=user, group=group)
    assert membership.status == Status.ACTIVE
    assert [h.to_status for h in membership.history.all()] == [Status.ACTIVE]


def test_joining_an_approval_group_makes_an_application_until_an_organiser_approves():
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    applicant = UserFactory()
    membership = services.membership_join(user=applicant, group=group)
    assert membership.status == Status.APPLIED
    assert not viewer_for(applicant, group).is_member
    services.membership_approve(actor=organiser, membership=membership)
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert viewer_for(applicant, group).is_member
    entry = AuditEntry.objects.get(action="membership.approved")
    assert (entry.actor_id, entry.group_id, entry.target_id) == (
        organiser.pk,
        group.pk,
        str(membership.pk),
    )
    assert [h.to_status for h in membership.history.all()] == [
        Status.APPLIED,
        Status.ACTIVE,
    ]


def test_a_plain_member_cannot_approve_and_nothing_is_written():
    group = make_group()
    member = make_member(group)
    application = services.membership_join(user=UserFactory(), group=group)
    with pytest.raises(PermissionDenied):
        services.membership_approve(actor=member, membership=application)
    application.refresh_from_db()
    assert application.status == Status.APPLIED
    assert not AuditEntry.objects.filter(action="membership.approved").exists()


def test_roles_apply_to_the_whole_subtree():
    national = make_group(kind=Group.Kind.NATIONAL)
    region = make_group(parent=national, kind=Group.Kind.REGION)
    branch = make_group(parent=region)
    organiser = make_role(national, Role.ORGANISER)
    application = services.membership_join(user=UserFactory(), group=branch)
    services.membership_approve(actor=organiser, membership=application)
    assert viewer_for(organiser, branch).can_manage
    # ... but not upwards: a branch organiser does not manage the region.
    branch_organiser = make_role(branch, Role.ORGANISER)
    assert not viewer_for(branch_organiser, region).can_manage


def test_branch_members_count_as_members_of_the_parent_groups():
    national = make_group(kind=Group.Kind.NATIONAL)
    branch = make_group(parent=national)
    member = make_member(branch)
    assert viewer_for(member, national).is_member
    assert not viewer_for(member, make_group(parent=national)).is_member


def test_suspension_needs_a_reason_and_is_audited_with_it():
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    member = make_member(group)
    membership = Membership.objects.get(user=member, group=group)
    with pytest.raises(ValidationError):
        services.membership_suspend(actor=organiser, membership=membership, reason="  ")
    services.membership_suspend(
        actor=organiser, membership=membership, reason="Abusive messages"
    )
    membership.refresh_from_db()
    assert membership.status == Status.SUSPENDED
    assert not viewer_for(member, group).is_member
    assert (
        AuditEntry.objects.get(action="membership.suspended").reason
        == "Abusive messages"
    )
    services.membership_reinstate(
        actor=organiser, membership=membership, reason="Apologised"
    )
    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    statuses = [h.to_status for h in membership.history.all()]
    assert statuses[-2:] == [Status.SUSPENDED, Status.ACTIVE]


def test_a_suspended_member_cannot_rejoin_by_themselves():
    group = make_group(join_policy=Group.JoinPolicy.OPEN)
    organiser = make_role(group, Role.ORGANISER)
    member = make_member(group)
    membership = Membership.objects.get(user=member, group=group)
    services.membership_suspend(actor=organiser, membership=membership, reason="Spam")
    with pytest.raises(ValidationError, match="suspended"):
        services.membership_join(user=member, group=group)


def test_leaving_and_rejoining_keeps_one_membership_with_full_history():
    group = make_group(join_policy=Group.JoinPolicy.OPEN)
    user = UserFactory()
    services.membership_join(user=user, group=group)
    services.membership_leave(user=user, group=group)
    services.membership_join(user=user, group=group)
    membership = Membership.objects.get(user=user, group=group)
    assert [h.to_status for h in membership.history.all()] == [
        Status.ACTIVE,
        Status.LEFT,
        Status.ACTIVE,
    ]


def test_joining_twice_does_not_duplicate():
    group = make_group(join_policy=Group.JoinPolicy.OPEN)
    user = UserFactory()
    services.membership_join(user=user, group=group)
    services.membership_join(user=user, group=group)
    assert Membership.objects.filter(user=user, group=group).count() == 1


def test_coalition_groups_are_open_to_members_of_every_affiliate_only():
    party, union, outsider_org = (
        OrganisationFactory(),
        OrganisationFactory(),
        OrganisationFactory(),
    )
    coalition = OrganisationFactory(kind=Organisation.Kind.COALITION)
    coalition.affiliates.set([party, union])
    assembly = make_group(
        organisation=coalition,
        kind=Group.Kind.COALITION,
        join_policy=Group.JoinPolicy.OPEN,
    )
    party_member = make_member(make_group(organisation=party))
    union_member = make_member(make_group(organisation=union))
    outsider = make_member(make_group(organisation=outsider_org))
    assert (
        services.membership_join(user=party_member, group=assembly).status
        == Status.ACTIVE
    )
    assert (
        services.membership_join(user=union_member, group=assembly).status
        == Status.ACTIVE
    )
    with pytest.raises(ValidationError, match="affiliated"):
        services.membership_join(user=outsider, group=assembly)
    # Each organisation keeps its own members.
    assert not viewer_for(union_member, make_group(organisation=party)).is_member


def test_role_assignment_rules():
    group = make_group()
    admin = make_role(group, Role.ADMIN)
    organiser = make_role(group, Role.ORGANISER)
    member = make_member(group)
    services.role_assign(actor=organiser, group=group, user=member, role=Role.MODERATOR)
    with pytest.raises(PermissionDenied):
        services.role_assign(actor=organiser, group=group, user=member, role=Role.ADMIN)
    services.role_assign(
        actor=admin, group=group, user=member, role=Role.RETURNING_OFFICER
    )
    with pytest.raises(ValidationError):
        services.role_assign(
            actor=admin, group=group, user=UserFactory(), role=Role.ORGANISER
        )
    with pytest.raises(ValidationError):
        services.role_assign(actor=admin, group=group, user=member, role="emperor")
    assert set(
        RoleAssignment.objects.filter(user=member).values_list("role", flat=True)
    ) == {
        Role.MODERATOR,
        Role.RETURNING_OFFICER,
    }
    assignment = RoleAssignment.objects.get(user=member, role=Role.MODERATOR)
    services.role_revoke(actor=organiser, assignment=assignment, reason="Stepped down")
    actions = list(
        AuditEntry.objects.filter(action__startswith="role.").values_list(
            "action", flat=True
        )
    )
    assert (
        actions.count("role.assigned") == 3
    )  # the founding admin grant, then the two above
    assert actions.count("role.revoked") == 1


def test_settings_changes_are_audited_with_before_and_after():
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    services.group_settings_update(
        actor=organiser,
        group=group,
        description="New text",
        join_policy=Group.JoinPolicy.OPEN,
        is_public=True,
    )
    entry = AuditEntry.objects.get(action="group.settings_changed")
    assert entry.data["changed"]["join_policy"] == [
        Group.JoinPolicy.APPROVAL,
        Group.JoinPolicy.OPEN,
    ]
    group.refresh_from_db()
    assert group.join_policy == Group.JoinPolicy.OPEN
    with pytest.raises(PermissionDenied):
        services.group_settings_update(
            actor=make_member(group),
            group=group,
            description="",
            join_policy="open",
            is_public=False,
        )


def test_every_privileged_action_keeps_the_chain_intact():
    group = make_group()
    organiser = make_role(group, Role.ORGANISER)
    for _ in range(3):
        services.membership_approve(
            actor=organiser,
            membership=services.membership_join(user=UserFactory(), group=group),
        )
    assert audit_verify_chain().ok


def test_the_system_can_mark_a_membership_lapsed_and_it_is_audited_as_the_system():
    group = make_group()
    member = make_member(group)
    membership = Membership.objects.get(user=member, group=group)
    services.membership_lapse(
        actor=None, membership=membership, reason="Dues unpaid for a year"
    )
    membership.refresh_from_db()
    assert membership.status == Status.LAPSED
    entry = AuditEntry.objects.get(action="membership.lapsed")
    assert entry.actor_id is None and entry.reason == "Dues unpaid for a year"
    with pytest.raises(ValidationError, match="Only an active membership"):
        services.membership_lapse(actor=None, membership=membership, reason="again")
