"""Sending: one email per delivery, digests, and the task that sends them.

Exactly once: each send locks its ``Delivery`` row with
``select_for_update(skip_locked=True)``, sends, and marks it sent in the same
transaction, so a retried or repeated task finds nothing pending. Services queue
:func:`send_emails` after commit; ``tasks`` holds the periodic digest tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from .models import Channel, Delivery, Notification
from .registry import kind_named
from .tokens import unsubscribe_token

SUBJECT_PREFIX = "[Common Ground] "


def site_url(path: str) -> str:
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{path}"


# Email ----------------------------------------------------------------------------


def _footer_links(member_id: int, kind: str, group_id: int | None) -> dict[str, str]:
    token = unsubscribe_token(member_id=member_id, kind=kind, group_id=group_id)
    return {
        "unsubscribe_url": site_url(reverse("notifications:unsubscribe", args=[token])),
        "preferences_url": site_url(reverse("notifications:preferences")),
    }


def _message(
    *, to: str, subject: str, text: str, html: str, links: dict[str, str]
) -> EmailMultiAlternatives:
    footer = render_to_string("notifications/email/footer.txt", links)
    html_footer = render_to_string("notifications/email/footer.html", links)
    message = EmailMultiAlternatives(
        subject=SUBJECT_PREFIX + subject,
        body=f"{text}\n{footer}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string(
            "notifications/email/message.html",
            {"subject": subject, "html": html, "footer": html_footer},
        ),
        "text/html",
    )
    return message


def _html_of(notification: Notification) -> str:
    return notification.html or linebreaks(escape(notification.body))


def _still_in_group(notification: Notification) -> bool:
    if notification.group_id is None:
        return True
    try:
        kind = kind_named(notification.kind)
    except LookupError:
        return True
    if kind.still_in_group is None:
        return True
    return notification.recipient_id in kind.still_in_group(
        notification.group_id, [notification.recipient_id]
    )


def delivery_send(*, delivery_id: int) -> int:
    """Send one email delivery if still pending; 1 if sent now, else 0."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__recipient")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return 0
        notification = delivery.notification
        recipient = notification.recipient
        if (
            getattr(recipient, "deleted_at", None) is not None
            or not recipient.email
            or not _still_in_group(notification)
        ):
            delivery.status = Delivery.Status.SKIPPED
            delivery.save(update_fields=["status"])
            return 0
        _message(
            to=recipient.email,
            subject=notification.title,
            text=notification.body,
            html=_html_of(notification),
            links=_footer_links(recipient.pk, notification.kind, notification.group_id),
        ).send(fail_silently=False)
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["status", "sent_at"])
        return 1


def digest_send_for(*, member_id: int, channel: str, connection: Any = None) -> int:
    """One digest email with each of the member's pending items once; 1 if sent."""
    with transaction.atomic():
        pending = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification")
            .filter(
                channel=channel,
                status=Delivery.Status.PENDING,
                notification__recipient_id=member_id,
            )
            .order_by("notification__created_at", "notification_id")
        )
        if not pending:
            return 0
        already = set(
            Delivery.objects.filter(
                notification_id__in=[delivery.notification_id for delivery in pending],
                channel=Channel.EMAIL,
                status=Delivery.Status.SENT,
            ).values_list("notification_id", flat=True)
        )
        now = timezone.now()
        items, seen = [], set()
        for delivery in pending:
            notification = delivery.notification
            if notification.pk in already or notification.pk in seen:
                delivery.status = Delivery.Status.SKIPPED
            else:
                seen.add(notification.pk)
                items.append(notification)
                delivery.status = Delivery.Status.SENT
                delivery.sent_at = now
        recipient = get_user_model().objects.filter(pk=member_id).first()
        sent = 0
        if items and recipient is not None and recipient.email:
            links = {
                "unsubscribe_url": _footer_links(member_id, "digest." + channel, None)[
                    "unsubscribe_url"
                ],
                "preferences_url": site_url(reverse("notifications:preferences")),
            }
            context = {
                "items": [
                    {"title": n.title, "body": n.body, "url": site_url(n.url)}
                    for n in items
                ],
                "weekly": channel == Channel.WEEKLY,
            }
            subject = (
                _("Your weekly digest")
                if channel == Channel.WEEKLY
                else _("Your daily digest")
            )
            message = _message(
                to=recipient.email,
                subject=f"{subject} ({len(items)})",
                text=render_to_string("notifications/email/digest.txt", context),
                html=render_to_string("notifications/email/digest.html", context),
                links=links,
            )
            message.connection = connection
            message.send(fail_silently=False)
            sent = 1
        else:
            for delivery in pending:
                delivery.status = Delivery.Status.SKIPPED
        Delivery.objects.bulk_update(pending, ["status", "sent_at"])
        return sent


def digest_member_ids(channel: str) -> Iterable[int]:
    """Ids of members with pending items on this digest channel, streamed."""
    return (
        Delivery.objects.filter(channel=channel, status=Delivery.Status.PENDING)
        .values_list("notification__recipient_id", flat=True)
        .distinct()
        .order_by("notification__recipient_id")
        .iterator(chunk_size=2000)
    )


def digests_send(*, channel: str, chunk_size: int = 500) -> int:
    """Send every member's digest on ``channel``, in chunks of members; emails sent."""
    sent = 0
    connection = get_connection()
    chunk: list[int] = []
    member_ids = list(digest_member_ids(channel))
    for member_id in member_ids:
        chunk.append(member_id)
        if len(chunk) >= chunk_size:
            sent += _digest_chunk(chunk, channel, connection)
            chunk = []
    if chunk:
        sent += _digest_chunk(chunk, channel, connection)
    return sent


def _digest_chunk(member_ids: list[int], channel: str, connection: Any) -> int:
    return sum(
        digest_send_for(member_id=member_id, channel=channel, connection=connection)
        for member_id in member_ids
    )


@shared_task(name="notifications.send_emails", bind=True, max_retries=5)
def send_emails(self, delivery_ids: list[int]) -> int:  # type: ignore[no-untyped-def]
    """Send these email deliveries; a retry sends only what is still pending."""
    sent = 0
    try:
        for delivery_id in delivery_ids:
            sent += delivery_send(delivery_id=delivery_id)
    except OSError as error:  # the mail server is away: try again later
        raise self.retry(exc=error, countdown=60) from error
    return sent
