"""Real concurrency on PostgreSQL (threads with their own connections): one panel
member casting many ballots at once keeps one; drafts written at once get distinct
numbers; opening the vote twice at once opens it once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assemblies.deliberation_support import make_panel
from commonground.assemblies.models import Recommendation
from commonground.assemblies.services import deliberation as panel_services
from commonground.decisions.models import Ballot, Election, Participation

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 12


def _run_all(tasks) -> list[object]:
    gate = threading.Event()

    def run(task):
        gate.wait()
        try:
            return task()
        except Exception as error:  # noqa: BLE001 - reported by the test
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(run, task) for task in tasks]
        gate.set()
        return [future.result() for future in futures]


def test_simultaneous_ballots_of_one_panel_member_leave_exactly_one():
    setup = make_panel()
    draft = panel_services.recommendation_draft(
        actor=setup.panel[0], assembly=setup.assembly, title="Buses", text="More."
    )
    panel_services.panel_vote_open(
        actor=setup.organiser,
        assembly=setup.assembly,
        closes_at=timezone.now() + timedelta(days=1),
    )
    draft.refresh_from_db()
    choices = ["yes", "no", "abstain"] * 8
    outcomes = _run_all(
        [
            lambda choice=choice: panel_services.panel_ballot_cast(
                member=setup.panel[1], recommendation=draft, choice=choice
            )
            for choice in choices
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert Participation.objects.filter(election=draft.election).count() == 1
    assert Ballot.objects.filter(election=draft.election).count() == 1


def test_simultaneous_drafts_get_distinct_numbers_and_the_vote_opens_once():
    setup = make_panel()
    outcomes = _run_all(
        [
            lambda index=index: panel_services.recommendation_draft(
                actor=setup.panel[index % 4],
                assembly=setup.assembly,
                title=f"Idea {index}",
                text="Text.",
            )
            for index in range(THREADS)
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)]
    numbers = sorted(
        Recommendation.objects.filter(assembly=setup.assembly).values_list(
            "number", flat=True
        )
    )
    assert numbers == list(range(1, THREADS + 1))
    closes = timezone.now() + timedelta(days=1)
    outcomes = _run_all(
        [
            lambda: panel_services.panel_vote_open(
                actor=setup.organiser, assembly=setup.assembly, closes_at=closes
            )
            for _ in range(4)
        ]
    )
    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 1
    assert Election.objects.filter(group=setup.assembly.group).count() == THREADS
