"""Sealing an election at opening: the frozen definition, its canonical JSON and hash."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.decisions import services
from commonground.decisions.models import ElectionSeal

pytestmark = pytest.mark.django_db


def later_ballot(group, organiser, **spec):
    now = timezone.now()
    return services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            method="irv",
            opens_at=now + timedelta(hours=1),
            closes_at=now + timedelta(hours=2),
            **{"title": "Later", "options": ["Ann", "Bo", "Cy"], **spec},
        ),
    )


def test_a_ballot_nobody_opened_is_sealed_at_the_count_and_counted(group, organiser):
    election = later_ballot(group, organiser)
    assert not ElectionSeal.objects.filter(election=election).exists()
    with time_machine.travel(election.closes_at + timedelta(hours=1), tick=False):
        tally = services.election_count(election_id=election.pk)
    assert tally.ballot_count == 0 and tally.outcome["winners"] == []
    assert (
        tally.seal_sha256
        == ElectionSeal.objects.get(election=election).definition_sha256
    )
    assert not AuditEntry.objects.filter(action="election.count_refused").exists()
