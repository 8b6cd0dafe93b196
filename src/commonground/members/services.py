"""Every state change of members, groups and roles.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.core.capabilities import exported_sections

from .middleware import forget_second_factor_check
from .models import (
    Group,
    Membership,
    MembershipChange,
    Organisation,
    Role,
    RoleAssignment,
    User,
    validate_time_zone,
)
from .selectors import coalition_eligible, viewer_for

Status = Membership.Status


def _transition(
    membership: Membership, to_status: str, *, actor: Any, reason: str = ""
) -> Membership:
    now = timezone.now()
    MembershipChange.objects.create(
        membership=membership,
        from_status=membership.status if membership.pk else "",
        to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
        at=now,
    )
    Membership.objects.filter(pk=membership.pk).update(status=to_status, since=now)
    membership.status = to_status
    membership.since = now
    return membership


def _require_manager(actor: Any, group: Group) -> None:
    if not viewer_for(actor, group).can_manage:
        raise PermissionDenied("only the group's organisers and admins can do this")


def _locked_membership(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update()
        .select_related("group", "user")
        .get(pk=membership.pk)
    )


@transaction.atomic
def membership_join(*, user: User, group: Group) -> Membership:
    """Join an open group, or apply to one whose organisers approve members."""
    if not coalition_eligible(user, group):
        raise ValidationError(
            "This coalition-wide group is open to members of its affiliated organisations."
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
                "Your membership of this group is suspended; ask its organisers."
            ) from None
        return _transition(membership, target, actor=user)
    MembershipChange.objects.create(
        membership=membership,
        from_status="",
        to_status=target,
        actor=user,
        at=membership.since,
    )
    return membership


@transaction.atomic
def membership_leave(*, user: User, group: Group) -> Membership:
    membership = (
        Membership.objects.select_for_update().filter(user=user, group=group).first()
    )
    if membership is None or membership.status not in {Status.ACTIVE, Status.APPLIED}:
        raise ValidationError("You are not a member of this group.")
    return _transition(membership, Status.LEFT, actor=user)


# Decision (the audit action is "membership.<decision>") -> the status it applies to,
# the status it leads to, and the refusal when the membership is in another status.
_DECISIONS = {
    "approved": (
        Status.APPLIED,
        Status.ACTIVE,
        "Only a pending application can be approved.",
    ),
    "declined": (
        Status.APPLIED,
        Status.REJECTED,
        "Only a pending application can be declined.",
    ),
    "suspended": (
        Status.ACTIVE,
        Status.SUSPENDED,
        "Only an active membership can be suspended.",
    ),
    "reinstated": (
        Status.SUSPENDED,
        Status.ACTIVE,
        "Only a suspended membership can be reinstated.",
    ),
    "lapsed": (Status.ACTIVE, Status.LAPSED, "Only an active membership can lapse."),
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
        raise ValidationError({"reason": "Give the reason for the suspension."})
    if membership.user_id == actor.pk:
        raise ValidationError("You cannot suspend yourself.")
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
            {"role": "Choose organiser, moderator, returning officer or admin."}
        )
    actor_view = viewer_for(actor, group)
    if not actor_view.can_manage:
        raise PermissionDenied(
            "only the group's organisers and admins can assign roles"
        )
    if role == Role.ADMIN and not actor_view.is_admin:
        raise PermissionDenied("only an admin can make someone an admin")
    if not viewer_for(user, group).is_member:
        raise ValidationError({"user": "Roles go to active members of the group."})
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
        raise PermissionDenied("only an admin can remove an admin")
    audit_record(
        actor=actor,
        action="role.revoked",
        target=assignment,
        group=group,
        reason=reason,
        data={"member": assignment.user_id, "role": assignment.role},
    )
    assignment.delete()


@transaction.atomic
def group_settings_update(
    *, actor: User, group: Group, description: str, join_policy: str, is_public: bool
) -> Group:
    _require_manager(actor, group)
    if join_policy not in Group.JoinPolicy.values:
        raise ValidationError({"join_policy": "Choose open joining or approval."})
    before = {
        "description": group.description,
        "join_policy": group.join_policy,
        "is_public": group.is_public,
    }
    after = {
        "description": description,
        "join_policy": join_policy,
        "is_public": is_public,
    }
    changed = {
        key: [before[key], after[key]] for key in after if before[key] != after[key]
    }
    if not changed:
        return group
    Group.objects.filter(pk=group.pk).update(**after)
    for key, value in after.items():
        setattr(group, key, value)
    audit_record(
        actor=actor,
        action="group.settings_changed",
        target=group,
        group=group,
        data={"changed": changed},
    )
    return group


@transaction.atomic
def group_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    slug: str,
    kind: str,
    parent: Group | None = None,
    description: str = "",
    join_policy: str = Group.JoinPolicy.APPROVAL,
) -> Group:
    if parent is not None:
        if actor is not None:
            _require_manager(actor, parent)
        if parent.organisation_id != organisation.pk:
            raise ValidationError(
                {"parent": "A sub-group belongs to its parent's organisation."}
            )
    group = Group.objects.create(
        organisation=organisation,
        parent=parent,
        name=name,
        slug=slug,
        kind=kind,
        description=description,
        join_policy=join_policy,
        path="",
    )
    group.path = f"{parent.path if parent else '/'}{group.pk}/"
    Group.objects.filter(pk=group.pk).update(path=group.path)
    audit_record(
        actor=actor,
        action="group.created",
        target=group,
        group=group,
        data={"name": name},
    )
    return group


def account_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds about a member, as JSON-ready data."""
    from allauth.account.models import EmailAddress

    from commonground.audit.models import AuditEntry

    memberships = (
        Membership.objects.filter(user=user)
        .select_related("group")
        .prefetch_related("history")
    )
    return {
        "format": "commonground-member-export/1",
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": user.pk,
            "email": user.email,
            "display_name": user.display_name,
            "visibility": user.visibility,
            "time_zone": user.time_zone,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user)
        ],
        "memberships": [
            {
                "group": m.group.name,
                "group_slug": m.group.slug,
                "status": m.status,
                "since": m.since.isoformat(),
                "history": [
                    {
                        "from": h.from_status,
                        "to": h.to_status,
                        "at": h.at.isoformat(),
                        "reason": h.reason,
                    }
                    for h in m.history.all()
                ],
            }
            for m in memberships
        ],
        "roles": [
            {
                "group": a.group.name,
                "role": a.role,
                "assigned_at": a.assigned_at.isoformat(),
            }
            for a in RoleAssignment.objects.filter(user=user).select_related("group")
        ],
        **exported_sections(user),
        "privileged_actions": [
            {
                "id": e.pk,
                "action": e.action,
                "at": e.created_at.isoformat(),
                "reason": e.reason,
            }
            for e in AuditEntry.objects.filter(actor=user)
        ],
    }


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Anonymise a member everywhere, keeping what must stay countable.

    The user row stays (so cast ballots, comments and the audit chain keep their
    counts and references) but holds nothing personal: no email, no name, no
    password, no sessions, no second factor. Authored content shows "Deleted member".
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.contrib.admin.models import LogEntry

    user_id = user.pk
    audit_record(actor=user, action="account.deleted", target=user)
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    LogEntry.objects.filter(object_id=str(user_id), content_type__model="user").delete()
    for session in Session.objects.all().iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            session.delete()
    RoleAssignment.objects.filter(user=user).delete()
    for membership in Membership.objects.select_for_update().filter(
        user=user,
        status__in=[Status.ACTIVE, Status.APPLIED, Status.SUSPENDED, Status.LAPSED],
    ):
        _transition(membership, Status.LEFT, actor=None, reason="account deleted")
    User.objects.filter(pk=user_id).update(
        email=f"deleted-{user_id}@deleted.invalid",
        display_name="",
        time_zone="",
        password="!",  # an unusable password
        is_active=False,
        is_staff=False,
        is_superuser=False,
        last_login=None,
        deleted_at=timezone.now(),
    )


@transaction.atomic
def profile_update(
    *, user: User, display_name: str, visibility: str, time_zone: str | None = None
) -> User:
    """Save the member's profile; ``time_zone`` None leaves the zone as it is."""
    if visibility not in User.Visibility.values:
        raise ValidationError({"visibility": "Choose who sees your name."})
    changes: dict[str, str] = {
        "display_name": display_name.strip(),
        "visibility": visibility,
    }
    if time_zone is not None:
        validate_time_zone(time_zone)
        changes["time_zone"] = time_zone
    User.objects.filter(pk=user.pk).update(**changes)
    for key, value in changes.items():
        setattr(user, key, value)
    return user


def _store_logo(organisation: Organisation, prepared: Any) -> tuple[str, list[Any]]:
    """Write a prepared logo's source and renditions; returns their storage names."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    stem = f"{organisation.slug}-{prepared.digest}"
    field = Organisation._meta.get_field("logo")
    source_name = default_storage.save(
        field.generate_filename(organisation, f"{stem}.png"),  # type: ignore[attr-defined]
        ContentFile(prepared.source.png),
    )
    renditions = [
        {
            "width": image.width,
            "height": image.height,
            "name": default_storage.save(
                field.generate_filename(organisation, f"{stem}-{image.width}.png"),  # type: ignore[attr-defined]
                ContentFile(image.png),
            ),
        }
        for image in prepared.renditions
    ]
    return source_name, renditions


def _delete_logo_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


@transaction.atomic
def organisation_branding_update(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    accent_colour: str,
    logo: Any = None,
    remove_logo: bool = False,
) -> Organisation:
    """Change an organisation's name, accent colour and logo; its admins only.

    ``logo`` is an uploaded file (checked by content and resized here, see
    ``members.branding.logo_prepare``) or None to keep the current one;
    ``remove_logo`` drops it. The replaced files are deleted once the change commits.
    """
    from . import branding
    from .selectors import is_organisation_admin

    if not is_organisation_admin(actor, organisation):
        raise PermissionDenied("only the organisation's admins can change its branding")
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the organisation's name.")})
    try:
        accent = branding.accent_check(accent_colour).colour
    except ValidationError as error:
        raise ValidationError({"accent_colour": error}) from None
    after: dict[str, Any] = {"name": name, "accent_colour": accent}
    old_files = [organisation.logo.name or ""] + [
        item["name"] for item in organisation.logo_renditions or []
    ]
    if logo is not None:
        try:
            prepared = branding.logo_prepare(logo)
        except ValidationError as error:
            raise ValidationError({"logo": error}) from None
        after["logo"], after["logo_renditions"] = _store_logo(organisation, prepared)
    elif remove_logo:
        after["logo"], after["logo_renditions"] = "", []
    before = {
        "name": organisation.name,
        "accent_colour": organisation.accent_colour,
        "logo": organisation.logo.name or "",
    }
    changed = {
        key: [before[key], after[key]]
        for key in ("name", "accent_colour", "logo")
        if key in after and before[key] != after[key]
    }
    if not changed:
        return organisation
    Organisation.objects.filter(pk=organisation.pk).update(**after)
    if "logo" in after:
        transaction.on_commit(lambda: _delete_logo_files(old_files))
    organisation.refresh_from_db()
    audit_record(
        actor=actor,
        action="organisation.branding_changed",
        target=organisation,
        group=organisation.groups.filter(parent__isnull=True).order_by("path").first(),
        data={"changed": changed},
    )
    return organisation
