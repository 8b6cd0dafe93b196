"""Faults (T13, T14): real SIGKILLs and a real dropped PostgreSQL connection.

- a gunicorn worker killed in the middle of a stream of casts: members whose request
  died try again, as they would; afterwards no ballot is lost or duplicated and every
  member finds the last tracker they were shown among the counted ones;
- a Celery worker killed in the middle of a count (held, by a lock the test takes, at
  the moment it stores the result): nothing is stored, and the restarted worker
  (the task is acknowledged late and comes back) stores exactly one result, equal to
  an uninterrupted count;
- a PostgreSQL connection terminated in the middle of a cast: the member gets the
  'please try again' page (503), never a 500, and trying again gives one ballot.

Each test is bounded (deadlines of seconds to a minute); processes are the test's own.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import defaultdict

import pytest

from commonground.audit.models import AuditEntry
from commonground.audit.services import audit_verify_chain
from commonground.decisions import services
from commonground.decisions.models import Ballot, Option, Participation, TallyResult
from commonground.decisions.secrecy import tracker_code, voter_token
from commonground.decisions.tally_adapter import count_ballots
from scale.processes import (
    admin_connection,
    cast,
    children,
    direct_database_url,
    open_election,
    ranking,
    sessions_in_redis,
    wait_until_closed,
)

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _counted_trackers(election_id: int) -> set[str]:
    tally = TallyResult.objects.get(election_id=election_id)
    return set(tally.trackers_text.split())


def _recount(election) -> str:
    candidates = list(
        Option.objects.filter(election=election)
        .order_by("position")
        .values_list("label", flat=True)
    )
    payloads = list(
        Ballot.objects.filter(election=election).values_list("payload", flat=True)
    )
    return count_ballots(election, candidates, payloads).result_json


def _wait_for_lock_waiter(application_name: str, deadline: float) -> int:
    """The PostgreSQL backend of ``application_name`` once it waits on a lock."""
    with admin_connection(autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                " AND wait_event_type = 'Lock'",
                [application_name],
            ).fetchone()
            if row:
                return int(row[0])
            time.sleep(0.05)
    raise AssertionError(f"{application_name} never waited on the test's lock")


def _wait_until_gone(application_name: str, deadline: float) -> None:
    with admin_connection(autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                [application_name],
            ).fetchone()
            if row[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError(f"{application_name} still connected")


def test_killing_a_gunicorn_worker_mid_stream_loses_and_duplicates_no_ballot(stack):
    members_count = 60
    election, members = open_election(voters=members_count, closes_in=45)
    voters = sessions_in_redis(members, stack.queue)
    env = stack.env(direct_database_url(), CELERY_TASK_ALWAYS_EAGER="true")
    base = stack.gunicorn("web", env, workers=2)
    master = stack.processes[-1][1].pid
    shown: dict[int, list[str]] = defaultdict(list)  # trackers each member was shown
    broken = []  # requests whose connection died with the worker
    completed = 0
    lock = threading.Lock()
    pending = list(enumerate(voters))
    deadline = time.monotonic() + 75

    def member_loop() -> None:
        nonlocal completed
        while time.monotonic() < deadline:
            with lock:
                if not pending:
                    return
                index, voter = pending.pop()
            order = [(index + k) % 5 for k in range(1 + index % 4)]
            while time.monotonic() < deadline:  # the member tries until shown a tracker
                status, tracker, _ = cast(base, election.pk, voter, ranking(order))
                if status == 201 and tracker:
                    with lock:
                        shown[voter.member_id].append(tracker)
                        completed += 1
                    break
                with lock:
                    broken.append(status)
                time.sleep(0.2)

    def killer() -> None:
        killed = []
        for threshold in (members_count // 3, 2 * members_count // 3):
            while completed < threshold and time.monotonic() < deadline:
                time.sleep(0.01)
            workers = children(master)
            assert workers, "gunicorn has no workers to kill"
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])
        kills.extend(killed)

    kills: list[int] = []
    threads = [threading.Thread(target=member_loop) for _ in range(4)]
    kill_thread = threading.Thread(target=killer)
    for thread in [*threads, kill_thread]:
        thread.start()
    for thread in [*threads, kill_thread]:
        thread.join(timeout=max(1, deadline - time.monotonic() + 5))
    assert len(kills) == 2
    # Four members keep both workers busy, so each kill cut a cast in flight.
    assert None in broken, "no request was in flight when a worker was killed"
    assert not set(kills) & set(children(master)), "the killed workers were replaced"
    assert len(shown) == members_count, (
        f"{members_count - len(shown)} never got a tracker"
    )

    wait_until_closed(election)
    tally = services.election_count(election_id=election.pk)
    counted = _counted_trackers(election.pk)
    ballots = Ballot.objects.filter(election=election)
    participations = Participation.objects.filter(election=election)
    assert (
        ballots.count() == participations.count() == members_count == tally.ballot_count
    )
    assert {b.voter_token for b in ballots} == {
        voter_token(election_id=election.pk, member_id=p.member_id)
        for p in participations
    }
    last_shown = {trackers[-1] for trackers in shown.values()}
    assert last_shown == counted == {tracker_code(b.id) for b in ballots}
    assert tally.result_json == _recount(election)
    assert audit_verify_chain().ok


def test_killing_a_celery_worker_mid_count_stores_exactly_one_result(stack):
    from celery import Celery

    election, members = open_election(voters=12, closes_in=4)
    for index, member in enumerate(members):
        services.ballot_cast(
            member=member,
            election=election,
            marks=ranking([index % 5, (index + 2) % 5]),
        )
    trackers = {tracker_code(b.id) for b in Ballot.objects.filter(election=election)}
    wait_until_closed(election)
    name = f"cg-count-worker-{uuid.uuid4().hex[:8]}"
    env = stack.env(direct_database_url(application_name=name))
    worker = stack.worker("worker-1", env, pool="solo", concurrency=1)
    producer = Celery("scale-test-producer", set_as_current=False)
    producer.conf.update(
        broker_url=env["CELERY_BROKER_URL"], task_default_queue=stack.queue
    )
    deadline = time.monotonic() + 60
    with admin_connection() as holder:
        # Writers of results wait behind this lock: the count runs up to storing its
        # result, and is killed there, with its transaction open.
        holder.execute("LOCK TABLE decisions_tallyresult IN SHARE MODE")
        producer.send_task("decisions.count_election", args=[election.pk])
        _wait_for_lock_waiter(name, deadline)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        holder.rollback()
    _wait_until_gone(name, deadline)
    assert not TallyResult.objects.filter(election=election).exists()
    assert not AuditEntry.objects.filter(action="election.counted").exists()
    stack.worker("worker-2", env, pool="solo", concurrency=1)
    while not TallyResult.objects.filter(election=election).exists():
        assert time.monotonic() < deadline, "the re-delivered count never ran"
        time.sleep(0.2)
    producer.close()
    tally = TallyResult.objects.get(election=election)
    assert tally.result_json == _recount(election)  # as an uninterrupted count
    assert _counted_trackers(election.pk) == trackers
    assert AuditEntry.objects.filter(action="election.counted").count() == 1
    assert audit_verify_chain().ok


def test_a_postgresql_connection_dropped_mid_cast_asks_to_try_again(stack):
    election, (member,) = open_election(voters=1, closes_in=120)
    (voter,) = sessions_in_redis([member], stack.queue)
    name = f"cg-cast-web-{uuid.uuid4().hex[:8]}"
    env = stack.env(
        direct_database_url(application_name=name), CELERY_TASK_ALWAYS_EAGER="true"
    )
    base = stack.gunicorn("web", env, workers=1)
    outcome: list[tuple[int | None, str | None, str]] = []
    deadline = time.monotonic() + 60
    with admin_connection() as holder:
        holder.execute("LOCK TABLE decisions_ballot IN SHARE MODE")
        request = threading.Thread(
            target=lambda: outcome.append(cast(base, election.pk, voter, ranking([0])))
        )
        request.start()
        backend = _wait_for_lock_waiter(name, deadline)
        with admin_connection(autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [backend])
        request.join(timeout=30)
        holder.rollback()
    ((status, tracker, page),) = outcome
    assert status == 503, page[:2000]
    assert tracker is None
    assert "Please try again" in page and "voting again is safe" in page
    assert "Internal Server Error" not in stack.log("web")
    assert not Ballot.objects.filter(election=election).exists()
    assert not Participation.objects.filter(election=election).exists()

    status, tracker, _ = cast(base, election.pk, voter, ranking([1, 0]))
    assert status == 201 and tracker
    assert Ballot.objects.filter(election=election).count() == 1
    assert Participation.objects.filter(election=election).count() == 1
