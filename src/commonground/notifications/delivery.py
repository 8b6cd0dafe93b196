"""Sending: one email per delivery, digests, and the task that sends them.

Exactly once: each send locks its ``Delivery`` row with
``select_for_update(skip_locked=True)``, sends, and marks it sent in the same
transaction, so a retried or repeated task finds nothing pending. Services queue
:func:`send_emails` after commit; ``tasks`` holds the periodic digest tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from itertools import islice
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from commonground.core.capabilities import email_brand

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
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    links: dict[str, str],
    brand: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One email: plain text and HTML, the one-click unsubscribe headers, and the
    look of the organisation it comes from (its name as sender and subject prefix,
    its colour and logo in the HTML) when there is one."""
    context = {**links, "brand": brand}
    footer = render_to_string("notifications/email/footer.txt", context)
    html_footer = render_to_string("notifications/email/footer.html", context)
    prefix = f"[{brand['name']}] " if brand else SUBJECT_PREFIX
    sender = settings.DEFAULT_FROM_EMAIL
    if brand:
        sender = formataddr((brand["name"], parseaddr(sender)[1] or sender))
    message = EmailMultiAlternatives(
        subject=prefix + subject,
        body=f"{text}\n{footer}",
        from_email=sender,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    logo = (brand or {}).get("logo_url", "")
    message.attach_alternative(
        render_to_string(
            "notifications/email/message.html",
            {
                "subject": subject,
                "html": html,
                "footer": html_footer,
                "brand": brand,
                "logo_url": site_url(logo) if logo.startswith("/") else logo,
            },
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
            brand=email_brand(notification.group_id),
        ).send(fail_silently=False)
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["status", "sent_at"])
        return 1


# Digests ----------------------------------------------------------------------------
#
# A run walks the members with pending items in ascending id order, a chunk at a time.
# Per chunk: one query locks the chunk's pending rows (skip_locked, so a concurrent run
# takes other members), one query reads the addresses, one call per (check, group)
# re-checks group membership; then each member's digest goes out over the chunk's
# connection, and the rows of every digest that went out are marked in the same
# transaction. The unique (notification, channel) constraint means a member has each
# item once on a channel, so a digest lists each item once.


@dataclass(frozen=True)
class _PendingItem:
    """A locked digest delivery row and what the digest shows of its notification."""

    delivery_id: int
    member_id: int
    kind: str
    group_id: int | None
    title: str
    url: str
    emailed: bool


@dataclass
class _Digest:
    member_id: int
    email: str
    items: list[_PendingItem] = field(default_factory=list)


def _locked_pending(member_ids: list[int], channel: str) -> list[_PendingItem]:
    """The members' pending rows on ``channel``, locked, oldest item first."""
    emailed = Delivery.objects.filter(
        notification_id=OuterRef("notification_id"),
        channel=Channel.EMAIL,
        status=Delivery.Status.SENT,
    )
    rows = (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            channel=channel,
            status=Delivery.Status.PENDING,
            notification__recipient_id__in=member_ids,
        )
        .annotate(emailed=Exists(emailed))
        .order_by(
            "notification__recipient_id", "notification__created_at", "notification_id"
        )
        .values_list(
            "pk",
            "notification__recipient_id",
            "notification__kind",
            "notification__group_id",
            "notification__title",
            "notification__url",
            "emailed",
        )
    )
    return [_PendingItem(*row) for row in rows]


def _left_their_group(items: list[_PendingItem]) -> set[int]:
    """Delivery ids of items from a group their member has left since.

    One ``still_in_group`` call per (check, group) for the whole chunk rather than one
    per item: kinds sharing a check share the call.
    """
    checks: dict[str, Callable[[int, list[int]], set[int]] | None] = {}
    asked: dict[tuple[Callable[[int, list[int]], set[int]], int], set[int]] = {}
    for item in items:
        if item.group_id is None:
            continue
        if item.kind not in checks:
            try:
                checks[item.kind] = kind_named(item.kind).still_in_group
            except LookupError:  # a kind no app registers any more: nothing to check
                checks[item.kind] = None
        check = checks[item.kind]
        if check is not None:
            asked.setdefault((check, item.group_id), set()).add(item.member_id)
    still = {
        (check, group_id): check(group_id, sorted(member_ids))
        for (check, group_id), member_ids in asked.items()
    }
    return {
        item.delivery_id
        for item in items
        if item.group_id is not None
        and (check := checks[item.kind]) is not None
        and item.member_id not in still[(check, item.group_id)]
    }


def _addresses(member_ids: list[int]) -> dict[int, str]:
    """Email addresses of these members whose account is not deleted."""
    return dict(
        get_user_model()
        .objects.filter(pk__in=member_ids, deleted_at__isnull=True)
        .exclude(email="")
        .values_list("pk", "email")
    )


def _digests_of(
    items: list[_PendingItem], addresses: dict[int, str]
) -> tuple[list[_Digest], list[int]]:
    """The digests to send, and the delivery ids that go in none.

    Left out: items already emailed individually, items from a group the member has
    left, and everything for a member without an address (deleted account).
    """
    left = _left_their_group(items)
    digests: dict[int, _Digest] = {}
    skipped = []
    for item in items:
        email = addresses.get(item.member_id)
        if item.emailed or item.delivery_id in left or email is None:
            skipped.append(item.delivery_id)
            continue
        digest = digests.get(item.member_id)
        if digest is None:
            digest = digests[item.member_id] = _Digest(item.member_id, email)
        digest.items.append(item)
    return list(digests.values()), skipped


def _digest_message(
    digest: _Digest, channel: str, preferences_url: str
) -> EmailMultiAlternatives:
    weekly = channel == Channel.WEEKLY
    context = {
        "items": [
            {"title": item.title, "url": site_url(item.url) if item.url else ""}
            for item in digest.items
        ],
        "weekly": weekly,
    }
    subject = _("Your weekly digest") if weekly else _("Your daily digest")
    token = unsubscribe_token(
        member_id=digest.member_id, kind="digest." + channel, group_id=None
    )
    return _message(
        to=digest.email,
        subject=f"{subject} ({len(digest.items)})",
        text=render_to_string("notifications/email/digest.txt", context),
        html=render_to_string("notifications/email/digest.html", context),
        links={
            "unsubscribe_url": site_url(
                reverse("notifications:unsubscribe", args=[token])
            ),
            "preferences_url": preferences_url,
        },
    )


def _send_each(
    digests: list[_Digest], channel: str, connection: Any
) -> tuple[list[_Digest], Exception | None]:
    """Send the digests one by one over ``connection``; those that went out, and the
    error that stopped the rest (None if all went)."""
    preferences_url = site_url(reverse("notifications:preferences"))
    sent: list[_Digest] = []
    try:
        with connection:  # one connection (SMTP session) per chunk
            for digest in digests:
                connection.send_messages(
                    [_digest_message(digest, channel, preferences_url)]
                )
                sent.append(digest)
    except Exception as error:  # noqa: BLE001 - re-raised once the sent ones are marked
        return sent, error
    return sent, None


def _digest_chunk(member_ids: list[int], channel: str, connection: Any) -> int:
    """Send these members' digests on ``channel``; the number of emails sent.

    A member's digest and the marking of its rows commit together: if sending stops
    partway, the digests that went out are marked sent, the rest stay pending for the
    next run, and the error is raised once that is committed.
    """
    with transaction.atomic():
        items = _locked_pending(member_ids, channel)
        if not items:
            return 0
        digests, skipped = _digests_of(items, _addresses(member_ids))
        sent, failure = _send_each(digests, channel, connection)
        now = timezone.now()
        Delivery.objects.filter(
            pk__in=[item.delivery_id for digest in sent for item in digest.items]
        ).update(status=Delivery.Status.SENT, sent_at=now)
        Delivery.objects.filter(pk__in=skipped).update(status=Delivery.Status.SKIPPED)
    if failure is not None:
        raise failure
    return len(sent)


def digest_send_for(*, member_id: int, channel: str, connection: Any = None) -> int:
    """One digest email with each of the member's pending items once; 1 if sent."""
    return _digest_chunk([member_id], channel, connection or get_connection())


def digest_member_ids(channel: str, *, page_size: int = 5000) -> Iterator[int]:
    """Ids of members with pending items on this digest channel, ascending, streamed.

    Keyset pages (ids above the last one seen), each its own query: memory holds one
    page, and rows marked sent between pages cannot upset an open cursor (SQLite does
    not isolate a connection's reads from its own writes).
    """
    after = 0
    while True:
        page = list(
            Notification.objects.filter(
                recipient_id__gt=after,
                deliveries__channel=channel,
                deliveries__status=Delivery.Status.PENDING,
            )
            .order_by("recipient_id")
            .values_list("recipient_id", flat=True)
            .distinct()[:page_size]
        )
        yield from page
        if len(page) < page_size:
            return
        after = page[-1]


def digests_send(*, channel: str, chunk_size: int = 500) -> int:
    """Send every member's digest on ``channel``, in chunks of members; emails sent."""
    sent = 0
    connection = get_connection()
    member_ids = digest_member_ids(channel)
    while chunk := list(islice(member_ids, chunk_size)):
        sent += _digest_chunk(chunk, channel, connection)
    return sent


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
