"""Sealing an election at opening: the frozen definition, its canonical JSON and hash."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.core.canonical import canonical_json, canonical_sha256
from commonground.decisions import services
from commonground.decisions.models import ElectionSeal, Option
from commonground.decisions.secrecy import sha256_text

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


def test_the_seal_is_canonical_json_and_its_hash_is_published(open_ballot):
    election = open_ballot(options=("Zoë", "Łukasz", "Ann"))
    seal = election.seal
    assert "Zoë" in seal.definition_json  # UTF-8 text, not \u escapes
    document = json.loads(seal.definition_json)
    assert seal.definition_json == canonical_json(document)
    assert seal.definition_sha256 == canonical_sha256(document)
    opened = AuditEntry.objects.get(action="election.opened")
    assert opened.data["definition_sha256"] == seal.definition_sha256


def test_a_seal_written_before_canonical_json_still_counts(open_ballot, members):
    # Older seals escaped non-ASCII text ("Zo\u00eb"): the same definition, which
    # must still count rather than be refused as tampered with.
    election = open_ballot(options=("Zoë", "Łukasz", "Ann"))
    services.ballot_cast(member=members[0], election=election, marks={"rank_0": "1"})
    document = json.loads(election.seal.definition_json)
    escaped = json.dumps(document, sort_keys=True, separators=(",", ":"))
    assert "\\u00eb" in escaped
    ElectionSeal.objects.filter(election=election).update(
        definition_json=escaped, definition_sha256=sha256_text(escaped)
    )
    with time_machine.travel(election.closes_at + timedelta(seconds=1), tick=False):
        tally = services.election_count(election_id=election.pk)
    assert tally.seal_sha256 == sha256_text(escaped) and tally.ballot_count == 1
    assert not AuditEntry.objects.filter(action="election.count_refused").exists()


def test_candidates_with_the_same_name_are_told_apart_on_the_paper(
    group, organiser, members
):
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="election",
        spec=services.ElectionSpec(
            title="Chair",
            method="irv",
            nominations_open_at=now - timedelta(days=2),
            nominations_close_at=now + timedelta(hours=1),
            opens_at=now + timedelta(hours=2),
            closes_at=now + timedelta(days=1),
        ),
    )
    for member in members[:3]:
        member.display_name = "=Sam Lee"  # a formula would run in a spreadsheet
        member.save(update_fields=["display_name"])
        nomination = services.nomination_submit(
            member=member, election=election, statement="I will listen."
        )
        services.nomination_second(member=members[5], nomination=nomination)
    with time_machine.travel(election.opens_at, tick=False):
        services.elections_seal_due()
    labels = list(
        Option.objects.filter(election=election)
        .order_by("position")
        .values_list("label", flat=True)
    )
    assert labels == ["Sam Lee", "Sam Lee (2)", "Sam Lee (3)"]
