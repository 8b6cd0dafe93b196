"""Decisions emails: queued only once the change commits, sent by named Celery tasks."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from commonground.decisions import notifications
from commonground.site.celery import app

pytestmark = pytest.mark.django_db


def test_a_worker_finds_every_decisions_task_by_its_queue_name():
    # What a worker does at start: autodiscovery imports each app's ``tasks``
    # module, which must register the email tasks of notifications too.
    app.loader.import_default_modules()
    for name in (
        "decisions.email_election_opened",
        "decisions.email_closing_soon",
        "decisions.email_results",
        "decisions.email_cast_receipt",
        "decisions.count_election",
        "decisions.sweep",
    ):
        assert name in app.tasks, name


def test_a_queued_email_waits_for_the_commit(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        notifications.queue_cast_receipt(election.pk, members[0].pk, "TRACKER0000000AB")
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(queued) == 1
    assert [m.to for m in mail.outbox] == [[members[0].email]]
    assert "TRACKER0000000AB" in mail.outbox[0].body


def test_a_rolled_back_change_mails_nobody(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        try:
            with transaction.atomic():
                notifications.queue_results(election.pk)
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert queued == [] and mail.outbox == []
