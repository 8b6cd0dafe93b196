"""The minute-by-minute sweep (decisions.tasks): what it does and what it reports.

Its report must be true however the task runs: eagerly (development and most tests)
or on a real Celery worker with a Redis broker (production), which the last test
runs. That test skips only when Redis is unreachable, and fails instead in CI.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from celery_worker import redis_url, worker_on_redis
from commonground.audit.models import AuditEntry
from commonground.decisions import services
from commonground.decisions.models import Option, TallyResult
from commonground.decisions.services import results
from commonground.decisions.tasks import count_election, decisions_sweep

pytestmark = pytest.mark.django_db


def tamper_with_first_option(election) -> None:
    """Change a candidate's name behind the application's back (after the seal)."""
    option = Option.objects.get(election=election, position=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Option._meta.db_table} SET label = %s WHERE id = %s",
            ["Mallory", option.pk],
        )


def one_good_and_one_tampered(open_ballot, members, **spec):
    good, tampered = open_ballot(**spec), open_ballot(**spec)
    for election in (good, tampered):
        services.ballot_cast(
            member=members[0], election=election, marks={"rank_0": "1"}
        )
    tamper_with_first_option(tampered)
    return good, tampered


def test_the_sweep_reports_counted_and_refused_elections_separately(
    open_ballot, members
):
    good, tampered = one_good_and_one_tampered(open_ballot, members)
    with time_machine.travel(tampered.closes_at + timedelta(seconds=1), tick=False):
        report = decisions_sweep.delay().get()
        again = decisions_sweep.delay().get()
    assert report["counted"] == 1 and report["refused"] == 1
    assert report["failed"] == 0
    assert TallyResult.objects.filter(election=good).exists()
    assert not TallyResult.objects.filter(election=tampered).exists()
    # The refused election stays due and is refused again, but audited only once.
    assert again["counted"] == 0 and again["refused"] == 1
    assert AuditEntry.objects.filter(action="election.count_refused").count() == 1


def test_the_sweep_reports_every_step(open_ballot, members):
    report = decisions_sweep.delay().get()
    assert report == {
        "sealed": 0,
        "reminded": 0,
        "counted": 0,
        "refused": 0,
        "failed": 0,
        "sent": 0,
        "lapsed": 0,
    }


def test_an_unexpected_error_in_one_count_is_reported_and_the_others_still_count(
    open_ballot, members, monkeypatch
):
    first, second = open_ballot(), open_ballot()
    for election in (first, second):
        services.ballot_cast(
            member=members[0], election=election, marks={"rank_0": "1"}
        )
    real_count = results.election_count

    def count_or_crash(*, election_id):
        if election_id == first.pk:
            raise RuntimeError("the engine fell over")
        return real_count(election_id=election_id)

    monkeypatch.setattr(results, "election_count", count_or_crash)
    with time_machine.travel(second.closes_at + timedelta(seconds=1), tick=False):
        report = decisions_sweep.delay().get()
    assert (report["counted"], report["refused"], report["failed"]) == (1, 0, 1)
    assert TallyResult.objects.filter(election=second).exists()


# On a real worker (tests/celery_worker.py) ---------------------------------------


@pytest.mark.django_db(transaction=True)  # the worker thread reads committed rows
def test_on_a_real_worker_the_sweep_reports_what_the_worker_did(open_ballot, members):
    url = redis_url()
    closes_at = timezone.now() + timedelta(seconds=2)
    good, tampered = one_good_and_one_tampered(
        open_ballot, members, closes_at=closes_at
    )
    time.sleep(max(0.0, (closes_at - timezone.now()).total_seconds()) + 0.2)
    mail.outbox.clear()
    with worker_on_redis(url) as app:
        assert app.conf.task_always_eager is False
        sweep = decisions_sweep.delay()
        report = sweep.get(timeout=60)
        digest = count_election.delay(good.pk).get(timeout=60)
        deadline = time.monotonic() + 30
        while not any("Results" in m.subject for m in mail.outbox):
            assert time.monotonic() < deadline, "the results email was never sent"
            time.sleep(0.1)
    assert sweep.backend.__class__.__name__ == "RedisBackend"
    assert (report["counted"], report["refused"], report["failed"]) == (1, 1, 0)
    assert TallyResult.objects.get(election=good).result_sha256 == digest
    assert not TallyResult.objects.filter(election=tampered).exists()
    assert AuditEntry.objects.filter(action="election.count_refused").count() == 1
    # The results email went through the worker too: the good election's roll only.
    results = [m for m in mail.outbox if "Results" in m.subject]
    assert len(results) == good.seal.roll_size
