"""Sending: the audience materialised once, chunk tasks, exactly-once emails, pacing,
the periodic sweep, cancelling while sending."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.members import services as member_services
from commonground.members.models import Membership, Role
from commonground.newsletters import services, tasks
from commonground.newsletters.models import Newsletter, Recipient
from commonground.newsletters.services import sending
from commonground.notifications import services as notification_services
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Chunk tasks recorded instead of run: (newsletter id, first, last, eta)."""
    calls = []

    def record(args, eta=None, **kwargs):
        calls.append((*args, eta))

    monkeypatch.setattr(sending.send_chunk, "apply_async", record)
    return calls


def start(newsletter, actor, django_capture_on_commit_callbacks):
    """Schedule for a minute ahead, then start it as the sweep would, a minute on."""
    services.newsletter_schedule(
        actor=actor,
        newsletter=newsletter,
        send_at=timezone.now() + timedelta(minutes=1),
    )
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=2)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        started = services.newsletter_send_start(newsletter_id=newsletter.pk)
    newsletter.refresh_from_db()
    return started


def test_sending_now_emails_each_member_of_the_audience_once(
    draft, organiser, members, lapsed, york_member, send_now
):
    newsletter = draft()
    sent = send_now(newsletter, organiser)
    audience = {m.email for m in members} | {organiser.email}  # the organiser too
    assert sorted(m.to[0] for m in sent) == sorted(audience)
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in sent)
    assert newsletter.status == Newsletter.Status.SENT
    assert newsletter.recipient_count == newsletter.audience_count == 4
    rows = Recipient.objects.filter(newsletter=newsletter)
    assert {row.status for row in rows} == {"sent"}
    assert {row.message_id for row in rows} == {
        m.extra_headers["Message-ID"] for m in sent
    }
    actions = list(
        AuditEntry.objects.filter(action__startswith="newsletter.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "newsletter.scheduled",
        "newsletter.sending_started",
        "newsletter.sent",
    ]


def test_statuses_and_roles_choose_the_audience(
    draft, organiser, members, lapsed, leeds, send_now
):
    both = draft(statuses=["active", "lapsed"])
    emails = {m.to[0] for m in send_now(both, organiser)}
    assert lapsed.email in emails and members[0].email in emails
    organisers_only = draft(roles=[Role.ORGANISER])
    assert [m.to[0] for m in send_now(organisers_only, organiser)] == [organiser.email]


def test_a_role_held_above_the_audience_group_counts(
    draft, organiser, national, leeds, members, send_now
):
    national_admin = make_role(national, Role.ADMIN)
    make_member(leeds, user=national_admin)
    newsletter = draft(roles=[Role.ADMIN])
    assert [m.to[0] for m in send_now(newsletter, organiser)] == [national_admin.email]


def test_members_of_groups_inside_the_audience_group_are_included(
    draft, organiser, leeds, send_now
):
    inside = make_member(make_group(parent=leeds, name="Leeds North"))
    emails = {m.to[0] for m in send_now(draft(), organiser)}
    assert inside.email in emails


def test_bounced_deleted_and_opted_out_members_are_left_out(
    draft, organiser, members, leeds, national, send_now
):
    member_services.email_bounce_record(email=members[0].email, reason="5.1.1")
    notification_services.preference_set(
        member=members[1],
        kind="newsletters.newsletter",
        group_id=leeds.pk,
        channel="none",
    )
    # Switched off for another group's newsletters only: still gets Leeds's.
    notification_services.preference_set(
        member=members[2],
        kind="newsletters.newsletter",
        group_id=national.pk,
        channel="none",
    )
    newsletter = draft()
    emails = {m.to[0] for m in send_now(newsletter, organiser)}
    assert emails == {members[2].email, organiser.email}
    assert newsletter.audience_count == 3  # the bounced address is not in it
    assert newsletter.recipient_count == 2


def test_switching_newsletters_off_everywhere_is_honoured(
    draft, organiser, members, send_now
):
    notification_services.preference_set(
        member=members[0], kind="newsletters.newsletter", group_id=None, channel="none"
    )
    emails = {m.to[0] for m in send_now(draft(), organiser)}
    assert members[0].email not in emails and members[1].email in emails


def test_a_newsletter_to_nobody_is_sent_at_once(draft, organiser, send_now):
    newsletter = draft(statuses=["suspended"])
    assert send_now(newsletter, organiser) == []
    assert newsletter.status == Newsletter.Status.SENT
    assert newsletter.recipient_count == 0


def test_starting_twice_materialises_the_audience_once(
    draft, organiser, members, queued, django_capture_on_commit_callbacks
):
    newsletter = draft()
    assert start(newsletter, organiser, django_capture_on_commit_callbacks)
    assert services.newsletter_send_start(newsletter_id=newsletter.pk) is None
    assert Recipient.objects.filter(newsletter=newsletter).count() == 4
    assert len(queued) == 1


def test_the_database_refuses_a_second_row_for_a_member(draft, organiser, members):
    newsletter = draft()
    Recipient.objects.create(newsletter=newsletter, member=members[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Recipient.objects.create(newsletter=newsletter, member=members[0])


@override_settings(NEWSLETTER_BATCH_SIZE=2, NEWSLETTER_SEND_RATE=10)
def test_chunks_are_queued_after_commit_and_spread_at_the_rate(
    draft, organiser, members, queued, django_capture_on_commit_callbacks
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    ids = list(
        Recipient.objects.filter(newsletter=newsletter)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert [(first, last) for _n, first, last, _eta in queued] == [
        (ids[0], ids[1]),
        (ids[2], ids[3]),
    ]
    # Two emails a chunk at ten a second: the second chunk goes 0.2 s after the first.
    assert queued[1][3] - queued[0][3] == timedelta(seconds=0.2)
    assert newsletter.queued_until == queued[0][3] + timedelta(seconds=0.4)
    assert not mail.outbox


@override_settings(NEWSLETTER_SEND_RATE=10)
def test_a_second_newsletter_queues_behind_one_still_going_out(
    draft, organiser, members, queued, django_capture_on_commit_callbacks
):
    first, second = draft(), draft(subject="Second")
    start(first, organiser, django_capture_on_commit_callbacks)
    start(second, organiser, django_capture_on_commit_callbacks)
    assert queued[1][3] == first.queued_until


def test_the_same_chunk_run_twice_emails_nobody_twice(
    draft, organiser, members, queued, django_capture_on_commit_callbacks
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    (chunk,) = queued
    mail.outbox.clear()
    assert tasks.send_chunk(*chunk[:3]) == 4
    # The worker died after sending, before its ack: the broker delivers it again.
    assert tasks.send_chunk(*chunk[:3]) == 0
    assert (
        services.chunk_send(newsletter_id=chunk[0], first_id=chunk[1], last_id=chunk[2])
        == 0
    )
    assert len(mail.outbox) == 4
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.SENT


def test_a_failed_send_leaves_the_rest_pending_and_a_retry_sends_each_once(
    draft, organiser, members, queued, django_capture_on_commit_callbacks, monkeypatch
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    (chunk,) = queued
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages
    calls = []

    def flaky(self, messages):
        calls.append(1)
        if len(calls) == 3:
            raise smtplib.SMTPServerDisconnected("the server went away")
        return real(self, messages)

    mail.outbox.clear()
    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", flaky)
        with pytest.raises(OSError):
            services.chunk_send(
                newsletter_id=chunk[0], first_id=chunk[1], last_id=chunk[2]
            )
    assert len(mail.outbox) == 2
    statuses = Recipient.objects.filter(newsletter=newsletter).values_list(
        "status", flat=True
    )
    assert sorted(statuses) == ["pending", "pending", "sent", "sent"]
    assert tasks.send_chunk(*chunk[:3]) == 2  # the retry
    assert tasks.send_chunk(*chunk[:3]) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [organiser.email, *(m.email for m in members)]
    )


def test_the_task_retries_after_a_mail_server_error_and_emails_each_member_once(
    draft, organiser, members, queued, django_capture_on_commit_callbacks, monkeypatch
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    (chunk,) = queued
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages
    calls = []

    def fails_once(self, messages):
        calls.append(1)
        if len(calls) == 3:
            raise smtplib.SMTPServerDisconnected("the server went away")
        return real(self, messages)

    mail.outbox.clear()
    monkeypatch.setattr(EmailBackend, "send_messages", fails_once)
    # As a worker runs it (the error handled, not propagated): the retry runs at once.
    result = tasks.send_chunk.apply(args=chunk[:3], throw=False)
    assert result.successful() and result.get() == 2  # the retry sent the other two
    assert len(calls) == 5  # two sent, one failed, then the two left
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [organiser.email, *(m.email for m in members)]
    )
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.SENT


def test_an_address_the_server_refuses_is_passed_over(
    draft, organiser, members, queued, django_capture_on_commit_callbacks, monkeypatch
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    (chunk,) = queued
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages

    def refuse_one(self, messages):
        if messages[0].to == [members[1].email]:
            raise smtplib.SMTPRecipientsRefused({members[1].email: (550, b"no")})
        return real(self, messages)

    mail.outbox.clear()
    monkeypatch.setattr(EmailBackend, "send_messages", refuse_one)
    assert tasks.send_chunk(*chunk[:3]) == 3
    refused = Recipient.objects.get(newsletter=newsletter, member=members[1])
    assert (refused.status, refused.skip_reason) == ("skipped", "refused")


def test_changes_between_start_and_send_are_honoured(
    draft, organiser, members, leeds, queued, django_capture_on_commit_callbacks
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    member_services.membership_leave(user=members[0], group=leeds)
    notification_services.preference_set(
        member=members[1],
        kind="newsletters.newsletter",
        group_id=leeds.pk,
        channel="none",
    )
    member_services.email_bounce_record(email=organiser.email, reason="gone")
    (chunk,) = queued
    mail.outbox.clear()
    assert tasks.send_chunk(*chunk[:3]) == 1
    assert [m.to[0] for m in mail.outbox] == [members[2].email]
    reasons = dict(
        Recipient.objects.filter(newsletter=newsletter).values_list(
            "member_id", "skip_reason"
        )
    )
    assert reasons == {
        members[0].pk: "left",
        members[1].pk: "opted_out",
        organiser.pk: "left",  # a bounced address is no longer in the audience
        members[2].pk: "",
    }


def test_cancelling_while_sending_stops_the_rest(
    draft, organiser, members, queued, django_capture_on_commit_callbacks
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    assert services.newsletter_cancel(actor=organiser, newsletter=newsletter) == 4
    (chunk,) = queued
    mail.outbox.clear()
    assert tasks.send_chunk(*chunk[:3]) == 0
    assert not mail.outbox
    entry = AuditEntry.objects.get(action="newsletter.cancelled")
    assert entry.data["not_sent"] == 4


def test_the_sweep_starts_due_newsletters_once_and_leaves_later_ones(
    draft, organiser, members, django_capture_on_commit_callbacks
):
    due, later = draft(subject="Due"), draft(subject="Later")
    now = timezone.now()
    services.newsletter_schedule(
        actor=organiser, newsletter=due, send_at=now + timedelta(minutes=5)
    )
    services.newsletter_schedule(
        actor=organiser, newsletter=later, send_at=now + timedelta(hours=5)
    )
    mail.outbox.clear()
    with time_machine.travel(now + timedelta(minutes=6)):
        with django_capture_on_commit_callbacks(execute=True):
            report = tasks.newsletters_sweep()
        with django_capture_on_commit_callbacks(execute=True):
            again = tasks.newsletters_sweep()
    assert report["started"] == 1 and again == {
        "started": 0,
        "finished": 0,
        "requeued": 0,
    }
    assert len(mail.outbox) == 4
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == Newsletter.Status.SENT
    assert later.status == Newsletter.Status.SCHEDULED


def test_the_sweep_requeues_chunks_the_broker_lost(
    draft, organiser, members, queued, django_capture_on_commit_callbacks, monkeypatch
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    queued.clear()  # the broker lost the chunk
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.newsletters_sweep()["requeued"] == 0  # not overdue yet
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=30)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.newsletters_sweep()["requeued"] == 1
    (chunk,) = queued
    mail.outbox.clear()
    assert tasks.send_chunk(*chunk[:3]) == 4


def test_the_sweep_leaves_a_slow_newsletter_that_is_still_sending(
    draft, organiser, members, queued, django_capture_on_commit_callbacks
):
    newsletter = draft()
    start(newsletter, organiser, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(minutes=30)
    # One email went out a minute ago: late, but not lost.
    Recipient.objects.filter(
        pk=Recipient.objects.filter(newsletter=newsletter).first().pk
    ).update(status="sent", sent_at=later - timedelta(minutes=1))
    queued.clear()
    with (
        time_machine.travel(later),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.newsletters_sweep()["requeued"] == 0
    assert queued == []


def test_the_pacer_spaces_sends_at_the_rate():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    pacer = services.Pacer(4, sleep=sleep, clock=lambda: now[0])
    for _ in range(3):
        pacer.wait()
        now[0] += 0.05  # sending takes 50 ms
    # At four a second each send starts 0.25 s after the one before.
    assert slept == [0.2, 0.2]
    assert services.Pacer(0, sleep=sleep).interval == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_chunk_at_once_email_each_member_once(
    draft, organiser, members, queued, monkeypatch
):
    from django.core.mail.backends.locmem import EmailBackend

    for _ in range(20):
        make_member(members[0].memberships.get().group)
    newsletter = draft()
    services.newsletter_schedule(
        actor=organiser,
        newsletter=newsletter,
        send_at=timezone.now() + timedelta(minutes=1),
    )
    Newsletter.objects.filter(pk=newsletter.pk).update(
        scheduled_for=timezone.now() - timedelta(seconds=1)
    )
    services.newsletter_send_start(newsletter_id=newsletter.pk)
    (chunk,) = queued
    real = EmailBackend.send_messages
    sent_to: list[str] = []
    lock = threading.Lock()

    def slow_send(self, messages):
        with lock:
            sent_to.extend(m.to[0] for m in messages)
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow_send)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker():
        barrier.wait()
        try:
            results.append(
                services.chunk_send(
                    newsletter_id=chunk[0], first_id=chunk[1], last_id=chunk[2]
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 24
    assert len(sent_to) == len(set(sent_to)) == 24
    assert Recipient.objects.filter(status="sent").count() == 24


def test_a_member_who_left_every_group_is_not_in_the_audience(
    draft, organiser, members, leeds, send_now
):
    member_services.membership_leave(user=members[0], group=leeds)
    assert Membership.objects.get(user=members[0]).status == "left"
    emails = {m.to[0] for m in send_now(draft(), organiser)}
    assert members[0].email not in emails
