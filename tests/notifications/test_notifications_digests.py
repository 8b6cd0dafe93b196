"""Digests: each pending item once, never one emailed already or from a group the
member left, exactly once per member under reruns, failures and a concurrent run."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from commonground.members import services as member_services
from commonground.notifications import delivery, services
from commonground.notifications.models import Delivery

pytestmark = pytest.mark.django_db


def reply(members, group, title):
    """A ``tests.reply`` (daily digest by default) to each of ``members``."""
    return services.notify(
        "tests.reply",
        recipients=members,
        group=group,
        url="/replies/",
        context={"title": title},
    )


def digests_by_recipient():
    return {message.to[0]: message for message in mail.outbox}


def status_of(notification):
    return Delivery.objects.get(notification=notification, channel="daily").status


def test_a_member_who_left_the_group_gets_no_digest_item_from_it(kinds, group, members):
    leaver = members[0]
    (told_leaver, *_others) = reply(members, group, "Reply in Leeds")
    member_services.membership_leave(user=leaver, group=group)
    mail.outbox.clear()
    assert delivery.digests_send(channel="daily") == 2
    assert leaver.email not in digests_by_recipient()
    assert status_of(told_leaver) == "skipped"
    assert Delivery.objects.filter(status="sent").count() == 2


def test_items_from_the_group_left_are_dropped_and_the_other_groups_kept(
    kinds, group, members
):
    from factories import make_group, make_member

    member = members[0]
    york = make_group(name="York branch")
    make_member(york, user=member)
    (from_leeds,) = reply([member], group, "Reply in Leeds")
    (from_york,) = reply([member], york, "Reply in York")
    member_services.membership_leave(user=member, group=group)
    mail.outbox.clear()
    assert delivery.digests_send(channel="daily") == 1
    (digest,) = mail.outbox
    assert "Reply in York" in digest.body
    assert "Reply in Leeds" not in digest.body
    assert "(1)" in digest.subject
    assert status_of(from_leeds) == "skipped"
    assert status_of(from_york) == "sent"


def test_a_digest_run_twice_sends_once(kinds, group, members):
    reply(members, group, "Reply one")
    reply(members, group, "Reply two")
    mail.outbox.clear()
    assert delivery.digests_send(channel="daily") == 3
    assert delivery.digests_send(channel="daily") == 0
    assert len(mail.outbox) == 3
    assert delivery.digest_send_for(member_id=members[0].pk, channel="daily") == 0
    assert len(mail.outbox) == 3


def test_an_item_already_emailed_individually_is_not_in_the_digest(
    kinds, group, members
):
    member = members[0]
    reply([member], group, "Still waiting")
    (emailed,) = reply([member], group, "Emailed already")
    Delivery.objects.create(notification=emailed, channel="email", status="sent")
    mail.outbox.clear()
    assert delivery.digest_send_for(member_id=member.pk, channel="daily") == 1
    (digest,) = mail.outbox
    assert "Still waiting" in digest.body
    assert "Emailed already" not in digest.body
    assert status_of(emailed) == "skipped"


def test_chunks_of_members_send_one_email_per_member_with_each_item_once(
    kinds, group, members
):
    from factories import make_member

    everyone = [*members, *(make_member(group) for _ in range(4))]
    for title in ("First reply", "Second reply", "Third reply"):
        reply(everyone, group, title)
    mail.outbox.clear()
    assert delivery.digests_send(channel="daily", chunk_size=2) == len(everyone)
    digests = digests_by_recipient()
    assert len(mail.outbox) == len(digests) == len(everyone)
    for member in everyone:
        body = digests[member.email].body
        assert [body.count(title) for title in ("First", "Second", "Third")] == [1] * 3
        assert "/replies/" in body
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_chunk_costs_the_same_queries_however_many_members_it_holds(
    kinds, group, members
):
    from factories import make_member

    more = [make_member(group) for _ in range(6)]
    reply(members[:1], group, "Reply")
    reply(more, group, "Reply")
    reply(more, group, "Another reply")
    with CaptureQueriesContext(connection) as one_member:
        delivery.digest_send_for(member_id=members[0].pk, channel="daily")
    with CaptureQueriesContext(connection) as six_members:
        assert delivery.digests_send(channel="daily") == 6
    # The run also pages through member ids: one query more than a single digest.
    assert len(six_members) == len(one_member) + 1


def test_a_failure_while_sending_leaves_the_chunk_pending_and_a_rerun_sends_it_once(
    kinds, group, members, monkeypatch
):
    reply(members, group, "Reply")

    def mail_server_away(self, messages):
        raise OSError("mail server away")

    mail.outbox.clear()
    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", mail_server_away)
        with pytest.raises(OSError):
            delivery.digests_send(channel="daily")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}
    assert delivery.digests_send(channel="daily") == 3
    assert delivery.digests_send(channel="daily") == 0
    assert sorted(digests_by_recipient()) == sorted(m.email for m in members)
    assert len(mail.outbox) == 3


def test_digests_that_went_out_before_a_failure_are_not_sent_again(
    kinds, group, members, monkeypatch
):
    reply(members, group, "Reply")
    real_send = EmailBackend.send_messages

    def fail_on_the_second(self, messages):
        if len(mail.outbox) == 1:
            raise OSError("connection dropped")
        return real_send(self, messages)

    mail.outbox.clear()
    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", fail_on_the_second)
        with pytest.raises(OSError):
            delivery.digests_send(channel="daily")
    assert Delivery.objects.filter(status="sent").count() == 1
    assert Delivery.objects.filter(status="pending").count() == 2
    assert delivery.digests_send(channel="daily") == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_run_skips_members_another_run_holds(kinds, group, members):
    reply(members, group, "Reply")
    held, locked, release = members[0], threading.Event(), threading.Event()

    def other_run_holding_one_member():
        try:
            with transaction.atomic():
                list(
                    Delivery.objects.select_for_update().filter(
                        notification__recipient=held
                    )
                )
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    other = threading.Thread(target=other_run_holding_one_member)
    other.start()
    try:
        assert locked.wait(timeout=30)
        mail.outbox.clear()
        assert delivery.digests_send(channel="daily") == 2
        assert held.email not in digests_by_recipient()
    finally:
        release.set()
        other.join()
    assert delivery.digests_send(channel="daily") == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
