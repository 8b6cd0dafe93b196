"""Real concurrent casts on PostgreSQL: threads with their own connections.

A pool of 32 threads (PostgreSQL's default limit is 100 connections, shared with the
other test workers) runs 200 casts released together by one gate; each task closes
its thread's connection when it ends.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from commonground.decisions import services
from commonground.decisions.models import Ballot, Election, Participation, TallyResult
from commonground.decisions.papers import PaperErrors

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

CASTS = 200
THREADS = 32


def _election(group, organiser, *, allow_revote: bool) -> Election:
    now = timezone.now()
    return services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Race",
            method="irv",
            options=["A", "B", "C", "D"],
            opens_at=now,
            closes_at=now + timedelta(days=1),
            allow_revote=allow_revote,
        ),
    )


def _run_all(tasks) -> list[object]:
    """Run every task in the pool once the gate opens; collect outcomes, not exceptions."""
    gate = threading.Event()

    def run(task):
        gate.wait()
        try:
            return task()
        except (services.DecisionRefused, PaperErrors) as refusal:
            return refusal
        except Exception as error:  # noqa: BLE001 - reported by the test
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(run, task) for task in tasks]
        gate.set()
        return [future.result() for future in futures]


def _marks(i: int) -> dict[str, str]:
    first, second = i % 4, (i + 1) % 4
    return {f"rank_{first}": "1", f"rank_{second}": "2"}


@pytest.mark.parametrize("allow_revote", [True, False])
def test_200_simultaneous_casts_by_one_member_leave_exactly_one_counted_ballot(
    group, organiser, allow_revote
):
    from factories import make_member

    member = make_member(group)
    election = _election(group, organiser, allow_revote=allow_revote)
    outcomes = _run_all(
        [
            lambda i=i: services.ballot_cast(
                member=member, election=election, marks=_marks(i)
            )
            for i in range(CASTS)
        ]
    )
    receipts = [o for o in outcomes if isinstance(o, services.CastReceipt)]
    refusals = [o for o in outcomes if isinstance(o, services.DecisionRefused)]
    errors = [
        o
        for o in outcomes
        if not isinstance(o, services.CastReceipt | services.DecisionRefused)
    ]
    assert errors == []
    assert Ballot.objects.filter(election=election).count() == 1
    assert Participation.objects.filter(election=election).count() == 1
    if allow_revote:
        assert len(receipts) == CASTS
        assert sum(1 for r in receipts if not r.replaced) == 1
        stored = json.loads(Ballot.objects.get(election=election).payload)
        assert stored["ranking"][0][0] in range(4)
    else:
        assert len(receipts) == 1 and len(refusals) == CASTS - 1
        assert all("already voted" in r.message for r in refusals)


def test_200_members_casting_at_once_lose_no_ballot(group, organiser):
    from factories import make_member

    voters = [make_member(group) for _ in range(CASTS)]
    election = _election(group, organiser, allow_revote=True)
    outcomes = _run_all(
        [
            lambda v=v, i=i: services.ballot_cast(
                member=v, election=election, marks=_marks(i)
            )
            for i, v in enumerate(voters)
        ]
    )
    assert all(isinstance(o, services.CastReceipt) for o in outcomes), [
        o for o in outcomes if not isinstance(o, services.CastReceipt)
    ][:3]
    assert Ballot.objects.filter(election=election).count() == CASTS
    assert Participation.objects.filter(election=election).count() == CASTS
    assert len({o.tracker for o in outcomes}) == CASTS


def test_casts_racing_the_first_seal_create_one_seal_and_lose_nothing(group, organiser):
    from commonground.decisions.models import ElectionSeal
    from factories import make_member

    voters = [make_member(group) for _ in range(40)]
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Scheduled",
            method="approval",
            options=["A", "B"],
            opens_at=now + timedelta(seconds=1),
            closes_at=now + timedelta(days=1),
        ),
    )
    Election.objects.filter(pk=election.pk).update(opens_at=now)
    election.refresh_from_db()
    outcomes = _run_all(
        [
            lambda v=v: services.ballot_cast(
                member=v, election=election, marks={"approve": ["1"]}
            )
            for v in voters
        ]
    )
    assert all(isinstance(o, services.CastReceipt) for o in outcomes), outcomes[:3]
    assert ElectionSeal.objects.filter(election=election).count() == 1
    assert Ballot.objects.filter(election=election).count() == 40


def test_casts_racing_the_close_and_count_are_either_counted_or_refused(
    group, organiser
):
    import time

    from commonground.decisions.secrecy import sha256_text
    from factories import make_member

    voters = [make_member(group) for _ in range(120)]
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Closing",
            method="approval",
            options=["A", "B"],
            opens_at=now,
            closes_at=now + timedelta(seconds=2),
        ),
    )

    def cast(voter):
        # Aim every cast at the last moments before the close.
        delay = (election.closes_at - timezone.now()).total_seconds() - 0.3
        time.sleep(max(0.0, delay))
        return services.ballot_cast(
            member=voter, election=election, marks={"approve": ["0"]}
        )

    def count():
        time.sleep(max(0.0, (election.closes_at - timezone.now()).total_seconds()))
        while True:
            try:
                return services.election_count(election_id=election.pk)
            except services.DecisionRefused:
                time.sleep(0.01)

    outcomes = _run_all([count] + [lambda v=v: cast(v) for v in voters])
    tally = outcomes[0]
    assert isinstance(tally, TallyResult), tally
    receipts = [o for o in outcomes[1:] if isinstance(o, services.CastReceipt)]
    refusals = [o for o in outcomes[1:] if isinstance(o, services.DecisionRefused)]
    assert len(receipts) + len(refusals) == len(voters)
    assert all("Voting closed" in r.message for r in refusals)
    assert sorted(r.tracker for r in receipts) == tally.trackers_text.split()
    stored = sorted(
        Ballot.objects.filter(election=election).values_list("payload", flat=True)
    )
    assert tally.ballot_count == len(stored) == len(receipts)
    assert tally.ballots_sha256 == sha256_text("".join(p + "\n" for p in stored))
    assert Participation.objects.filter(election=election).count() == len(receipts)


def test_a_re_vote_race_keeps_the_last_committed_ballot(group, organiser):
    """T2: 50 different ballots from one member at once; the one that counts is the
    one committed last. The test-side log: each cast runs inside a transaction that,
    after the cast and while still holding the locks the cast took on the member's
    ballot, draws a number from a sequence (sequences do not wait for transactions).
    A later writer cannot get past those locks before this transaction commits, so
    the numbers are in commit order; the highest names the last committed ballot."""
    from django.db import transaction

    from factories import make_member

    member = make_member(group)
    election = _election(group, organiser, allow_revote=True)
    log: dict[int, list[int]] = {}
    log_lock = threading.Lock()
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE t2_commit_order")

    def cast(i: int) -> services.CastReceipt:
        ranking = [i % 4, (i + 1) % 4, (i + 2) % 4]
        marks = {
            f"rank_{position}": str(rank + 1) for rank, position in enumerate(ranking)
        }
        with transaction.atomic():
            receipt = services.ballot_cast(
                member=member, election=election, marks=marks
            )
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval('t2_commit_order')")
                order = cursor.fetchone()[0]
        with log_lock:
            log[order] = ranking
        return receipt

    try:
        outcomes = _run_all([lambda i=i: cast(i) for i in range(50)])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SEQUENCE t2_commit_order")
    assert all(isinstance(o, services.CastReceipt) for o in outcomes), outcomes
    assert len(log) == 50
    assert Participation.objects.filter(election=election).count() == 1
    stored = json.loads(Ballot.objects.get(election=election).payload)
    assert [group_[0] for group_ in stored["ranking"]] == log[max(log)]
