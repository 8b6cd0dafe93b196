"""Membership status changes and roles: joining, leaving, organisers' decisions, role grants.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commonground.audit.services import audit_record

from .. import notifications
from ..middleware import forget_second_factor_check
from ..models import (
    Group,
    Membership,
    MembershipChange,
    Role,
    RoleAssignment,
    User,
)
from ..selectors import coalition_eligible, viewer_for
from ._shared import Status, _locked_membership, _require_manager, _transition


@transaction.atomic
def membership_join(*, user: User, group: Group) -> Membership:
    """Join an open group, or apply to one whose organisers approve members."""
    if group.archived_at is not None:
        raise ValidationError(_("This group is archived and takes no new members."))
    if not coalition_eligible(user, group):
        raise ValidationError(
            _(
                "This coalition-wide group is open to members of its affiliated "
                "organisations."
            )
        )
    target = (
        Status.ACTIVE if group.join_policy == Group.JoinPolicy.OPEN else Status.APPLIED
    )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, group=group, status=target, since=timezone.now()
            )
    except IntegrityError:
        membership = Membership.objects.select_for_update().get(user=user, group=group)
        if membership.status in {Status.ACTIVE, Status.APPLIED}:
            return membership
        if membership.status == Status.SUSPENDED:
            raise ValidationError(
                _("Your membership of this group is suspended; ask its organisers.")
            ) from None
        return _transition(membership, target, actor=user)
    MembershipChange.objects.create(
        membership=membership,
        from_status="",
        to_status=target,
        actor=user,
        at=membership.since,
    )
    if target == Status.APPLIED:
        notifications.application_received(membership)
    return membership


@transaction.atomic
def membership_leave(*, user: User, group: Group) -> Membership:
    membership = (
        Membership.objects.select_for_update().filter(user=user, group=group).first()
    )
    if membership is None or membership.status not in {Status.ACTIVE, Status.APPLIED}:
        raise ValidationError(_("You are not a member of this group."))
    return _transition(membership, Status.LEFT, actor=user)


# Decision (the audit action is "membership.<decision>") -> the status it applies to,
# the status it leads to, and the refusal when the membership is in another status.
_DECISIONS = {
    "approved": (
        Status.APPLIED,
        Status.ACTIVE,
        gettext_lazy("Only a pending application can be approved."),
    ),
    "declined": (
        Status.APPLIED,
        Status.REJECTED,
        gettext_lazy("Only a pending application can be declined."),
    ),
    "suspended": (
        Status.ACTIVE,
        Status.SUSPENDED,
        gettext_lazy("Only an active membership can be suspended."),
    ),
    "reinstated": (
        Status.SUSPENDED,
        Status.ACTIVE,
        gettext_lazy("Only a suspended membership can be reinstated."),
    ),
    "lapsed": (
        Status.ACTIVE,
        Status.LAPSED,
        gettext_lazy("Only an active membership can lapse."),
    ),
}


def _organiser_decision(
    decision: str, *, actor: User | None, membership: Membership, reason: str = ""
) -> Membership:
    """One organiser decision on a membership: lock, check, change, audit.

    ``actor`` None is the system (e.g. dues lapsing), which needs no role.
    """
    expected, to_status, refusal = _DECISIONS[decision]
    action = f"membership.{decision}"
    membership = _locked_membership(membership)
    if actor is not None:
        _require_manager(actor, membership.group)
    if membership.status != expected:
        raise ValidationError(refusal)
    _transition(membership, to_status, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        action=action,
        target=membership,
        group=membership.group,
        reason=reason,
        data={"member": membership.user_id},
    )
    notifications.membership_decided(membership, decision, reason)
    return membership


@transaction.atomic
def membership_approve(*, actor: User, membership: Membership) -> Membership:
    return _organiser_decision("approved", actor=actor, membership=membership)


@transaction.atomic
def membership_decline(
    *, actor: User, membership: Membership, reason: str
) -> Membership:
    return _organiser_decision(
        "declined", actor=actor, membership=membership, reason=reason
    )


@transaction.atomic
def membership_suspend(
    *, actor: User, membership: Membership, reason: str
) -> Membership:
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the suspension.")})
    if membership.user_id == actor.pk:
        raise ValidationError(_("You cannot suspend yourself."))
    return _organiser_decision(
        "suspended", actor=actor, membership=membership, reason=reason
    )


@transaction.atomic
def membership_reinstate(
    *, actor: User, membership: Membership, reason: str = ""
) -> Membership:
    return _organiser_decision(
        "reinstated", actor=actor, membership=membership, reason=reason
    )


@transaction.atomic
def membership_lapse(
    *, actor: User | None, membership: Membership, reason: str
) -> Membership:
    """Mark an active membership as lapsed (e.g. dues unpaid); system or organiser."""
    return _organiser_decision(
        "lapsed", actor=actor, membership=membership, reason=reason
    )


@transaction.atomic
def role_assign(
    *, actor: User, group: Group, user: User, role: str, reason: str = ""
) -> RoleAssignment:
    if role not in Role.values or role == Role.MEMBER:
        raise ValidationError(
            {
                "role": _(
                    "Choose organiser, moderator, returning officer, writer, editor "
                    "or admin."
                )
            }
        )
    actor_view = viewer_for(actor, group)
    if not actor_view.can_manage:
        raise PermissionDenied(
            _("only the group's organisers and admins can assign roles")
        )
    if role == Role.ADMIN and not actor_view.is_admin:
        raise PermissionDenied(_("only an admin can make someone an admin"))
    if not viewer_for(user, group).is_member:
        raise ValidationError({"user": _("Roles go to active members of the group.")})
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, group=group, role=role, defaults={"assigned_at": timezone.now()}
    )
    forget_second_factor_check(user.pk)
    if created:
        audit_record(
            actor=actor,
            action="role.assigned",
            target=assignment,
            group=group,
            reason=reason,
            data={"member": user.pk, "role": role},
        )
    return assignment


@transaction.atomic
def role_grant_founding_admin(
    *, group: Group, user: User, reason: str
) -> RoleAssignment:
    """Give a new organisation its first admin (no one exists yet to grant it).

    Used by set-up commands, never by a web view; recorded as a system action.
    """
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        group=group,
        role=Role.ADMIN,
        defaults={"assigned_at": timezone.now()},
    )
    forget_second_factor_check(user.pk)
    if created:
        audit_record(
            actor=None,
            action="role.assigned",
            target=assignment,
            group=group,
            reason=reason,
            data={"member": user.pk, "role": Role.ADMIN},
        )
    return assignment


@transaction.atomic
def role_revoke(*, actor: User, assignment: RoleAssignment, reason: str = "") -> None:
    group = assignment.group
    actor_view = viewer_for(actor, group)
    if not actor_view.can_manage:
        raise PermissionDenied(
            "only the group's organisers and admins can revoke roles"
        )
    if assignment.role == Role.ADMIN and not actor_view.is_admin:
        raise PermissionDenied(_("only an admin can remove an admin"))
    audit_record(
        actor=actor,
        action="role.revoked",
        target=assignment,
        group=group,
        reason=reason,
        data={"member": assignment.user_id, "role": assignment.role},
    )
    assignment.delete()
