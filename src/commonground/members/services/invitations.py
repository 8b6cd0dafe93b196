"""Inviting members who were imported from a register to claim their accounts.

An invitation link carries a signed token naming the invitation; it expires after
``INVITATION_DAYS`` and is spent once the account is claimed. Claiming sets the
password, confirms the address (the link reached it) and clears any bounce. The
email goes through the notification service (a statutory notice, never in the
centre), queued after commit. Addresses that bounced are skipped.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.notifications.delivery import site_url
from commonground.notifications.services import notify

from .. import notifications
from ..models import Invitation, Organisation, User
from ..selectors import is_organisation_admin

INVITATION_DAYS = 21
SALT = "commonground.members.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk}, salt=SALT, compress=True)


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link names; ValidationError if bad, expired or spent."""
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired:
        raise ValidationError(
            _("This invitation has expired: ask your organisers to send a new one.")
        ) from None
    except signing.BadSignature:
        raise ValidationError(_("This invitation link is not valid.")) from None
    invitation = (
        Invitation.objects.select_related("user", "organisation")
        .filter(pk=data.get("i"))
        .first()
    )
    if invitation is None or invitation.user.deleted_at is not None:
        raise ValidationError(_("This invitation link is not valid."))
    if invitation.claimed_at is not None:
        raise ValidationError(_("This account is claimed already: sign in instead."))
    return invitation


def _send(invitation: Invitation) -> None:
    path = reverse("members:invitation_claim", args=[invitation_token(invitation)])
    notify(
        notifications.INVITATION,
        recipients=[invitation.user],
        context={
            "organisation": invitation.organisation,
            "url": site_url(path),
            "days": INVITATION_DAYS,
        },
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        send_count=invitation.send_count + 1, last_sent_at=timezone.now()
    )


def _require_admin(actor: User, organisation: Organisation) -> None:
    if not is_organisation_admin(actor, organisation):
        raise PermissionDenied(_("Only the organisation's admins can invite members."))


@transaction.atomic
def invitations_send(*, actor: User, organisation: Organisation) -> int:
    """Send every invitation not sent yet (unclaimed, address not bounced)."""
    _require_admin(actor, organisation)
    pending = Invitation.objects.select_related("user", "organisation").filter(
        organisation=organisation,
        claimed_at__isnull=True,
        send_count=0,
        user__email_bounced_at__isnull=True,
        user__deleted_at__isnull=True,
    )
    sent = 0
    for invitation in pending.iterator(chunk_size=500):
        _send(invitation)
        sent += 1
    audit_record(
        actor=actor,
        action="invitations.sent",
        target=organisation,
        data={"sent": sent},
    )
    return sent


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> None:
    _require_admin(actor, invitation.organisation)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.claimed_at is not None:
        raise ValidationError(_("This account is claimed already."))
    if invitation.user.email_bounced_at is not None:
        raise ValidationError(
            _(
                "Mail to this address bounced: correct the address in the register first."
            )
        )
    _send(invitation)
    audit_record(
        actor=actor,
        action="invitations.sent",
        target=invitation.organisation,
        data={"sent": 1, "member": invitation.user_id},
    )


@transaction.atomic
def invitation_claim(*, token: str, password: str) -> User:
    """Claim the account: set the password, confirm the address, spend the link."""
    from allauth.account.models import EmailAddress

    invitation = invitation_from_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.claimed_at is not None:  # claimed by a concurrent request
        raise ValidationError(_("This account is claimed already: sign in instead."))
    user = invitation.user
    validate_password(password, user)
    user.set_password(password)
    user.email_bounced_at = None
    user.email_bounce_reason = ""
    user.save(update_fields=["password", "email_bounced_at", "email_bounce_reason"])
    EmailAddress.objects.update_or_create(
        user=user,
        email__iexact=user.email,
        defaults={"email": user.email, "verified": True, "primary": True},
    )
    Invitation.objects.filter(pk=invitation.pk).update(claimed_at=timezone.now())
    audit_record(actor=user, action="invitation.claimed", target=user)
    return user
