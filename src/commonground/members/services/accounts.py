"""A member's own account: profile, data export, deletion.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.core.capabilities import erase_personal_data, exported_sections

from ..models import (
    Membership,
    RoleAssignment,
    User,
    validate_time_zone,
)
from ._shared import Status, _transition


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
    erase_personal_data(user)
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
        raise ValidationError({"visibility": _("Choose who sees your name.")})
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


@transaction.atomic
def email_bounce_record(*, email: str, reason: str = "") -> int:
    """Mark an address whose mail bounced for good; 1 if a member has it, else 0.

    Newsletters and invitations then skip it and organisers see it. Recorded in the
    audit log without the address (the log is public to members).
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None or user.deleted_at is not None:
        return 0
    User.objects.filter(pk=user.pk).update(
        email_bounced_at=timezone.now(), email_bounce_reason=reason[:200]
    )
    audit_record(actor=None, action="member.email_bounced", target=user, data={})
    return 1


def email_bounce_clear(*, user: User) -> None:
    """The member confirmed or changed the address: mail may go to it again."""
    User.objects.filter(pk=user.pk).update(
        email_bounced_at=None, email_bounce_reason=""
    )
