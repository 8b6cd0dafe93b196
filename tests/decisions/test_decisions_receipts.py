"""Cast receipts: a row written in the cast's transaction, turned into the email by
the worker (decisions.send_cast_receipts) and then deleted."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from commonground.decisions import notifications, services
from commonground.decisions.models import PendingCastReceipt

pytestmark = pytest.mark.django_db


def ranks(*positions: int) -> dict[str, str]:
    return {
        f"rank_{position}": str(rank)
        for rank, position in enumerate(positions, start=1)
    }


def test_a_cast_leaves_its_receipt_row_until_the_commit_sends_it(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.ballot_cast(
            member=members[0], election=election, marks=ranks(0)
        )
        row = PendingCastReceipt.objects.get()
        assert (row.member_id, row.tracker) == (members[0].pk, receipt.tracker)
        assert mail.outbox == []
    assert not PendingCastReceipt.objects.exists()
    assert [m.to for m in mail.outbox] == [[members[0].email]]
    assert receipt.tracker in mail.outbox[0].body


def test_a_rolled_back_cast_leaves_no_receipt_to_send(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        try:
            with transaction.atomic():
                services.ballot_cast(
                    member=members[0], election=election, marks=ranks(0)
                )
                raise RuntimeError("the request failed after the cast")
        except RuntimeError:
            pass
    assert queued == [] and mail.outbox == []
    assert not PendingCastReceipt.objects.exists()


def test_the_sender_sends_every_waiting_receipt_once(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot()
    for member, tracker in zip(
        members[:3], ("A" * 16, "B" * 16, "C" * 16), strict=True
    ):
        with transaction.atomic():
            notifications.queue_cast_receipt_row(election.pk, member.pk, tracker)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.send_cast_receipts() == 3
        assert notifications.send_cast_receipts() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members[:3])
    assert not PendingCastReceipt.objects.exists()


def test_a_wake_up_that_fails_after_the_commit_leaves_the_cast_and_its_receipt(
    open_ballot, members, django_capture_on_commit_callbacks, monkeypatch
):
    election = open_ballot()

    def broker_down() -> None:
        raise ConnectionError("the broker went away after the commit")

    monkeypatch.setattr(notifications, "_wake_receipt_sender", broker_down)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.ballot_cast(
            member=members[0], election=election, marks=ranks(0)
        )
    assert PendingCastReceipt.objects.get().tracker == receipt.tracker
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.send_cast_receipts() == 1  # what the minute sweep does
    assert receipt.tracker in mail.outbox[0].body
