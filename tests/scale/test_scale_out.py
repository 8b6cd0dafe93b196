"""Scale out (issue 17, item 2): the multi-process shape of docs/deploy.md, for real.

Two web processes (gunicorn, two workers each) and a Celery worker and beat, all on
one PostgreSQL through PgBouncer in transaction mode (Debian's pgbouncer, started by
the test), sharing one Redis for sessions, cache and the task queue. Members cast and
re-vote through whichever web process; nobody asks for the result, so beat's sweep
counts it in the worker. Afterwards each published file is byte-identical whichever
process serves it, and equal to a recount here; the metrics of each process add up.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from commonground.audit.services import audit_verify_chain
from commonground.decisions.models import Ballot, Option, Participation, TallyResult
from commonground.decisions.tally_adapter import count_ballots
from scale.processes import (
    METRICS_TOKEN,
    cast,
    http_get,
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

FILES = ("result.json", "ballots.blt", "trackers.txt", "hashes.txt", "definition.json")


def _metric(body: bytes, name: str, labels: str) -> float:
    pattern = rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$"
    match = re.search(pattern, body.decode(), re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_two_web_processes_a_worker_and_beat_behind_pgbouncer_agree(stack):
    members_count, revoters = 40, 10
    election, members = open_election(voters=members_count, closes_in=45)
    voters = sessions_in_redis(members, stack.queue)
    pgbouncer_port = stack.pgbouncer(pool_size=4)
    env = stack.env(
        f"postgres://postgres@127.0.0.1:{pgbouncer_port}/commonground",
        DATABASE_TRANSACTION_POOLING="true",
    )
    servers = [stack.gunicorn(name, env, workers=2) for name in ("web-a", "web-b")]
    stack.worker("worker", env, pool="prefork", concurrency=2)
    stack.beat(env)
    for base in servers:
        status, body = http_get(base, "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}

    recorded = [0, 0]
    failures: list[tuple[int, int | None]] = []
    lock = threading.Lock()
    plan = [(i, i % 2) for i in range(members_count)]
    plan += [(i, (i + 1) % 2) for i in range(revoters)]  # re-votes on the other server

    def send(jobs: list[tuple[int, int]], *, revote: bool = False) -> None:
        for index, server in jobs:
            order = [(index + k) % 5 for k in range(1 + (index * 7) % 5)]
            if revote:
                order = order[::-1]
            status, tracker, _ = cast(
                servers[server], election.pk, voters[index], ranking(order)
            )
            with lock:
                if status == 201 and tracker:
                    recorded[server] += 1
                else:
                    failures.append((index, status))

    first_votes, revotes = plan[:members_count], plan[members_count:]
    threads = [
        threading.Thread(target=send, args=(first_votes[k::4],)) for k in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    send(revotes, revote=True)  # after the first votes: each replaces one
    assert failures == []
    assert sum(recorded) == members_count + revoters

    wait_until_closed(election)
    deadline = time.monotonic() + 60
    while not TallyResult.objects.filter(election=election).exists():  # beat's sweep
        assert time.monotonic() < deadline, (
            stack.log("beat")[-2000:] + stack.log("worker")[-2000:]
        )
        time.sleep(0.5)
    assert "decisions.sweep" in stack.log("worker")

    tally = TallyResult.objects.get(election=election)
    assert Ballot.objects.filter(election=election).count() == members_count
    assert Participation.objects.filter(election=election).count() == members_count
    candidates = list(
        Option.objects.filter(election=election)
        .order_by("position")
        .values_list("label", flat=True)
    )
    payloads = list(
        Ballot.objects.filter(election=election).values_list("payload", flat=True)
    )
    assert (
        count_ballots(election, candidates, payloads).result_json == tally.result_json
    )

    viewer = {"Cookie": voters[0].cookie}
    for name in FILES:
        bodies = []
        for base in servers:
            for _ in range(2):  # each server twice: likely both of its workers
                status, body = http_get(
                    base,
                    f"/decisions/ballots/{election.pk}/files/{name}",
                    headers=viewer,
                )
                assert status == 200, (name, status)
                bodies.append(body)
        assert len(set(bodies)) == 1, f"{name} differs between processes"
        if name == "result.json":
            assert bodies[0].decode() == tally.result_json
    assert TallyResult.objects.filter(election=election).count() == 1
    assert audit_verify_chain().ok

    token = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    for index, base in enumerate(servers):
        status, body = http_get(base, "/metrics", headers=token)
        assert status == 200
        # Each server adds up the casts of both of its workers (multiprocess mode).
        assert (
            _metric(body, "commonground_ballot_casts_total", 'outcome="recorded"')
            == recorded[index]
        )
        assert b"commonground_task_queue_depth" in body
        assert http_get(base, "/metrics")[0] == 404
