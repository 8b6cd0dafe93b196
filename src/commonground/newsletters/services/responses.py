"""What comes back: unsubscribes from a newsletter's link, and bounce reports.

Unsubscribing is the notifications choice for the ``newsletters.newsletter`` kind in
the newsletter's group (so the member finds it on their preferences page), recorded
on the recipient row first so the report can count it. That kind is not statutory:
the statutory notices (a ballot opening) are other kinds, untouched here.

A hard bounce or a complaint marks the address (``members.services.
email_bounce_record``) so newsletters and invitations skip it; a soft bounce is only
counted. An address already marked is not marked again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from commonground.members.services import email_bounce_record
from commonground.notifications.services import preference_set, unsubscribe

from .. import bounces, emails
from ..models import Recipient


def recipient_unsubscribe(*, recipient: Recipient) -> str:
    """The one-click unsubscribe of the newsletter's link; the channel now chosen."""
    with transaction.atomic():
        Recipient.objects.filter(pk=recipient.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now()
        )
        return unsubscribe(
            member_id=recipient.member_id,
            kind=emails.KIND,
            group_id=recipient.newsletter.group_id,
        )


def recipient_resubscribe(*, recipient: Recipient) -> None:
    """Take the group's newsletters by email again (an unsubscribe by mistake)."""
    member = get_user_model().objects.get(pk=recipient.member_id)
    preference_set(
        member=member,
        kind=emails.KIND,
        group_id=recipient.newsletter.group_id,
        channel="email",
    )


@dataclass(frozen=True)
class BounceOutcome:
    newsletter_id: int | None  # the newsletter the bounce came back from, if known
    address_marked: bool


def _worse(current: str, new: str) -> bool:
    order = {"": 0, bounces.SOFT: 1, bounces.HARD: 2, bounces.COMPLAINT: 3}
    return order.get(new, 0) > order.get(current, 0)


def bounce_record(*, bounce: bounces.Bounce) -> BounceOutcome:
    """Record one bounce on its recipient row (found by Message-ID) and, if it is
    for good, on the address."""
    with transaction.atomic():
        row = None
        if bounce.message_id:
            row = (
                Recipient.objects.select_for_update(of=("self",))
                .select_related("newsletter")
                .filter(message_id=bounce.message_id)
                .first()
            )
        if row is not None and _worse(row.bounce, bounce.kind):
            row.bounce = bounce.kind
            row.bounced_at = timezone.now()
            row.save(update_fields=["bounce", "bounced_at"])
        marked = False
        if bounce.kind in (bounces.HARD, bounces.COMPLAINT):
            already = (
                get_user_model()
                .objects.filter(
                    email__iexact=bounce.email, email_bounced_at__isnull=False
                )
                .exists()
            )
            if not already:
                reason = bounce.reason or bounce.kind
                marked = bool(email_bounce_record(email=bounce.email, reason=reason))
        if row is not None and bounce.kind == bounces.COMPLAINT:
            # A member who reports the newsletter as spam wants no more of it.
            unsubscribe(
                member_id=row.member_id,
                kind=emails.KIND,
                group_id=row.newsletter.group_id,
            )
        return BounceOutcome(
            newsletter_id=row.newsletter_id if row is not None else None,
            address_marked=marked,
        )
