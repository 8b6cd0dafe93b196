"""Races on PostgreSQL with real connections: a double-click (or two organisers)
on "commit the draw" or "run the draw" makes one draw and runs it once, and a
burst of registrations with the same address leaves one registrant."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from assemblies.assembly_support import fill_pool, open_assembly
from commonground.assemblies import services
from commonground.assemblies.models import Draw, DrawStatus, Registrant

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 8


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


def test_simultaneous_commits_make_one_initial_draw(group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    outcomes = _run_all(
        [lambda: services.draw_commit(actor=organiser, assembly=assembly)] * THREADS
    )
    made = [o for o in outcomes if isinstance(o, Draw)]
    refused = [o for o in outcomes if isinstance(o, services.AssemblyRefused)]
    assert len(made) == 1 and len(refused) == THREADS - 1, outcomes
    assert Draw.objects.count() == 1


def test_simultaneous_random_numbers_start_the_draw_once(group, organiser):
    assembly = open_assembly(group, organiser)
    fill_pool(assembly)
    draw = services.draw_commit(actor=organiser, assembly=assembly)
    outcomes = _run_all(
        [
            (
                lambda n=n: services.draw_start(
                    actor=organiser, draw=draw, random_number=str(n)
                )
            )
            for n in range(THREADS)
        ]
    )
    started = [o for o in outcomes if isinstance(o, Draw)]
    assert len(started) == 1, outcomes
    draw.refresh_from_db()
    assert draw.status in (DrawStatus.RUNNING, DrawStatus.DONE)
    assert draw.random_number == started[0].random_number


def test_simultaneous_registrations_with_one_address_leave_one(group, organiser):
    assembly = open_assembly(group, organiser)

    def register():
        return services.registrant_register(
            assembly=assembly,
            actor=AnonymousUser(),
            name="Twin",
            email="twin@example.org",
            features={"gender": "female", "age": "old"},
            consent_to_draw=True,
        )

    outcomes = _run_all([register] * THREADS)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Registrant.objects.count() == 1
