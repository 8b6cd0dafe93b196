"""Sending: materialise the audience, queue chunk tasks, send each email once.

Starting (:func:`newsletter_send_start`) locks the newsletter, writes one
``Recipient`` row per member of the audience who has not switched newsletters off
(bulk inserts, unique per newsletter and member), marks it sending and, once that
commits, queues one :func:`send_chunk` task per ``NEWSLETTER_BATCH_SIZE`` rows.
The chunks are spread over time at ``NEWSLETTER_SEND_RATE`` emails per second (each
chunk's ETA is when the ones before it should be done, after any newsletter still
going out) and each chunk paces itself at that rate, so the mail server sees the
rate it accepts.

Exactly once: each email is its own transaction that locks its pending row
(``select_for_update(skip_locked=True)``), sends, and marks the row sent with the
Message-ID. A retried task, the same chunk run twice (a worker lost before its ack,
a redelivery) or two runs at once find nothing pending or take different rows. The
one gap any sender has remains: a crash between the mail server's "accepted" and
the commit leaves that one row pending, and it is sent again.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from commonground.audit.services import audit_record
from commonground.notifications.registry import kind_named
from commonground.notifications.services import channels_for

from .. import emails, locks, selectors
from ..models import Newsletter, Recipient
from ._shared import batch_size, send_rate

# Rows per INSERT when materialising, and members per preference look-up.
INSERT_BATCH = 5000
# A sending newsletter whose chunks are this late is re-queued by the sweep (the
# broker may have lost them); a chunk that is merely slow is harmless to re-run.
STALL_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Chunk:
    newsletter_id: int
    first_id: int
    last_id: int
    eta: datetime | None


# Starting -------------------------------------------------------------------------


@shared_task(name="newsletters.start", acks_late=True, reject_on_worker_lost=True)
def start_sending(newsletter_id: int) -> int:
    """Start a newsletter that is due (idempotent: a started one is left alone);
    the number of recipients queued."""
    newsletter = newsletter_send_start(newsletter_id=newsletter_id)
    return newsletter.recipient_count if newsletter is not None else 0


def _materialise(newsletter: Newsletter) -> tuple[int, int]:
    """Insert a pending row per member of the audience who still takes newsletters
    from the group; (members in the audience, rows written)."""
    kind = kind_named(emails.KIND)
    member_ids = selectors.audience_member_ids(newsletter)
    written = 0
    for start in range(0, len(member_ids), INSERT_BATCH):
        batch = member_ids[start : start + INSERT_BATCH]
        channels = channels_for(kind, batch, newsletter.group_id)
        rows = [
            Recipient(newsletter_id=newsletter.pk, member_id=member_id)
            for member_id in batch
            if channels[member_id] != "none"
        ]
        Recipient.objects.bulk_create(rows, batch_size=INSERT_BATCH)
        written += len(rows)
    return len(member_ids), written


def _chunks(newsletter: Newsletter, begin: datetime) -> list[Chunk]:
    """The newsletter's pending rows as id ranges, each with the time it may go."""
    ids = list(
        Recipient.objects.filter(newsletter=newsletter, status=Recipient.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    size, rate = batch_size(), send_rate()
    chunks = []
    for number, start in enumerate(range(0, len(ids), size)):
        part = ids[start : start + size]
        eta = begin + timedelta(seconds=number * size / rate) if rate else None
        chunks.append(Chunk(newsletter.pk, part[0], part[-1], eta))
    return chunks


def _queue_after_commit(chunks: Sequence[Chunk]) -> None:
    def publish() -> None:
        for chunk in chunks:
            send_chunk.apply_async(
                args=[chunk.newsletter_id, chunk.first_id, chunk.last_id],
                eta=chunk.eta,
            )

    if chunks:
        transaction.on_commit(publish)


def _send_window(now: datetime, count: int) -> tuple[datetime, datetime]:
    """When this newsletter's first chunk may go (after any still going out, so the
    server's rate holds across newsletters) and when its last should be done."""
    rate = send_rate()
    if not rate:
        return now, now
    busy = Newsletter.objects.filter(status=Newsletter.Status.SENDING).aggregate(
        until=Max("queued_until")
    )["until"]
    begin = max(now, busy) if busy else now
    return begin, begin + timedelta(seconds=count / rate)


def newsletter_send_start(*, newsletter_id: int) -> Newsletter | None:
    """Start sending a scheduled newsletter that is due; None if it is not (not
    scheduled, not yet due, already started or cancelled)."""
    with transaction.atomic():
        newsletter = locks.newsletter_for_update(newsletter_id)
        now = timezone.now()
        if (
            newsletter is None
            or newsletter.status != Newsletter.Status.SCHEDULED
            or newsletter.scheduled_for is None
            or newsletter.scheduled_for > now
        ):
            return None
        audience, written = _materialise(newsletter)
        begin, until = _send_window(now, written)
        newsletter.status = Newsletter.Status.SENDING
        newsletter.started_at = now
        newsletter.audience_count = audience
        newsletter.recipient_count = written
        newsletter.queued_until = until
        newsletter.save(
            update_fields=[
                "status",
                "started_at",
                "audience_count",
                "recipient_count",
                "queued_until",
            ]
        )
        audit_record(
            actor=None,
            action="newsletter.sending_started",
            target=newsletter,
            group=newsletter.group,
            data={"newsletter": newsletter.pk, "recipients": written},
        )
        if written:
            _queue_after_commit(_chunks(newsletter, begin))
        else:
            _finish(newsletter, now)
    return newsletter


# Sending one chunk ------------------------------------------------------------------


class Pacer:
    """Spaces sends ``1 / rate`` seconds apart (no waiting when ``rate`` is 0)."""

    def __init__(
        self,
        rate: float,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self.sleep, self.clock = sleep, clock
        self.next_at = clock()

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def _skip(row_ids: Sequence[int], reason: str) -> None:
    if row_ids:
        Recipient.objects.filter(
            pk__in=list(row_ids), status=Recipient.Status.PENDING
        ).update(status=Recipient.Status.SKIPPED, skip_reason=reason)


def _still_wanted(newsletter: Newsletter, rows: list[tuple[int, int]]) -> list[int]:
    """Row ids whose member is still in the audience and still takes newsletters
    from the group (two queries); the other rows are marked not sent."""
    member_ids = [member_id for _row, member_id in rows]
    in_audience = set(selectors.audience_member_ids(newsletter, among=member_ids))
    channels = channels_for(kind_named(emails.KIND), member_ids, newsletter.group_id)
    left = [row for row, member in rows if member not in in_audience]
    opted_out = [
        row
        for row, member in rows
        if member in in_audience and channels[member] == "none"
    ]
    _skip(left, "left")
    _skip(opted_out, "opted_out")
    gone = set(left) | set(opted_out)
    return [row for row, _member in rows if row not in gone]


def recipient_send(
    *, recipient_id: int, prepared: emails.Prepared, connection: Any
) -> int:
    """Send one member's copy if its row is still pending; 1 if sent now, else 0."""
    with transaction.atomic():
        row = locks.pending_recipient_for_update(recipient_id)
        if row is None:
            return 0
        member = row.member
        if member.deleted_at is not None or not member.is_active or not member.email:
            reason = "no_address"
        elif member.email_bounced_at is not None:
            reason = "bounced"
        else:
            reason = ""
        if reason:
            row.status, row.skip_reason = Recipient.Status.SKIPPED, reason
            row.save(update_fields=["status", "skip_reason"])
            return 0
        message_id = emails.message_id_for(prepared, row.pk)
        links = emails.recipient_links(
            prepared, recipient_id=row.pk, member_id=member.pk
        )
        message = emails.newsletter_message(
            prepared, to=member.email, links=links, message_id=message_id
        )
        try:
            connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused:
            # The server refuses this address for good: retrying the chunk would
            # stop at it every time.
            row.status, row.skip_reason = Recipient.Status.SKIPPED, "refused"
            row.save(update_fields=["status", "skip_reason"])
            return 0
        row.status = Recipient.Status.SENT
        row.sent_at = timezone.now()
        row.message_id = message_id
        row.save(update_fields=["status", "sent_at", "message_id"])
        return 1


def chunk_send(
    *,
    newsletter_id: int,
    first_id: int,
    last_id: int,
    pacer: Pacer | None = None,
    connection: Any = None,
) -> int:
    """Send the pending rows with ids from ``first_id`` to ``last_id``; emails sent.

    Rows sent already (an earlier run) or locked by a concurrent run are passed
    over; a mail server error propagates with the rest still pending.
    """
    newsletter = (
        Newsletter.objects.select_related("group__organisation", "audience_group")
        .filter(pk=newsletter_id, status=Newsletter.Status.SENDING)
        .first()
    )
    if newsletter is None:  # cancelled, or finished by an earlier run
        return 0
    rows = list(
        Recipient.objects.filter(
            newsletter=newsletter,
            pk__gte=first_id,
            pk__lte=last_id,
            status=Recipient.Status.PENDING,
        )
        .order_by("pk")
        .values_list("pk", "member_id")
    )
    if not rows:
        return 0
    wanted = _still_wanted(newsletter, rows)
    prepared = emails.prepare(newsletter)
    pacer = pacer or Pacer(0)
    connection = connection or get_connection()
    sent = 0
    with connection:  # one SMTP session for the chunk
        for recipient_id in wanted:
            pacer.wait()
            sent += recipient_send(
                recipient_id=recipient_id, prepared=prepared, connection=connection
            )
    return sent


@shared_task(
    name="newsletters.send_chunk",
    bind=True,
    max_retries=20,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_chunk(self, newsletter_id: int, first_id: int, last_id: int) -> int:  # type: ignore[no-untyped-def]
    """Send one chunk; a retry sends only what is still pending."""
    # Pacing is for workers: run eagerly or called in-process (development, tests)
    # the chunk is someone's request or script, and nothing else is sending.
    in_process = self.request.is_eager or self.request.called_directly
    pacer = Pacer(0 if in_process else send_rate())
    try:
        sent = chunk_send(
            newsletter_id=newsletter_id,
            first_id=first_id,
            last_id=last_id,
            pacer=pacer,
        )
    except OSError as error:  # the mail server is away or busy (SMTPException too)
        raise self.retry(exc=error, countdown=60) from error
    newsletter_finish_if_done(newsletter_id=newsletter_id)
    return sent


# Finishing and the sweep ------------------------------------------------------------


def _finish(newsletter: Newsletter, now: datetime) -> None:
    newsletter.status = Newsletter.Status.SENT
    newsletter.finished_at = now
    newsletter.save(update_fields=["status", "finished_at"])
    sent = Recipient.objects.filter(
        newsletter=newsletter, status=Recipient.Status.SENT
    ).count()
    audit_record(
        actor=None,
        action="newsletter.sent",
        target=newsletter,
        group=newsletter.group,
        data={"newsletter": newsletter.pk, "sent": sent},
    )


def _has_pending(newsletter_id: int) -> bool:
    return Recipient.objects.filter(
        newsletter_id=newsletter_id, status=Recipient.Status.PENDING
    ).exists()


def newsletter_finish_if_done(*, newsletter_id: int) -> bool:
    """Mark a sending newsletter sent once no row is pending; whether it was now."""
    if _has_pending(newsletter_id):
        return False
    with transaction.atomic():
        newsletter = locks.newsletter_for_update(newsletter_id)
        if (
            newsletter is None
            or newsletter.status != Newsletter.Status.SENDING
            or _has_pending(newsletter_id)
        ):
            return False
        _finish(newsletter, timezone.now())
        return True


def _requeue_stalled(now: datetime) -> int:
    """Queue again the pending chunks of newsletters whose chunks are long overdue
    and that sent nothing for a while (slow is not lost: a slow newsletter still
    sending is left alone, so its chunks do not run twice at once)."""
    stalled = Newsletter.objects.filter(
        status=Newsletter.Status.SENDING, queued_until__lt=now - STALL_AFTER
    ).select_related("group")
    requeued = 0
    for newsletter in stalled:
        with transaction.atomic():
            locked = locks.newsletter_for_update(newsletter.pk)
            if locked is None or locked.status != Newsletter.Status.SENDING:
                continue
            if Recipient.objects.filter(
                newsletter=locked, sent_at__gte=now - STALL_AFTER
            ).exists():
                continue
            pending = Recipient.objects.filter(
                newsletter=locked, status=Recipient.Status.PENDING
            ).count()
            begin, until = _send_window(now, pending)
            locked.queued_until = until
            locked.save(update_fields=["queued_until"])
            _queue_after_commit(_chunks(locked, begin))
            requeued += 1
    return requeued


def newsletters_sweep() -> dict[str, int]:
    """What the periodic task does every minute; each step is idempotent."""
    now = timezone.now()
    due = Newsletter.objects.filter(
        status=Newsletter.Status.SCHEDULED, scheduled_for__lte=now
    ).values_list("pk", flat=True)
    started = sum(
        newsletter_send_start(newsletter_id=pk) is not None for pk in list(due)
    )
    sending = Newsletter.objects.filter(status=Newsletter.Status.SENDING).values_list(
        "pk", flat=True
    )
    finished = sum(newsletter_finish_if_done(newsletter_id=pk) for pk in list(sending))
    return {
        "started": started,
        "finished": finished,
        "requeued": _requeue_stalled(now),
    }
