"""Counting a closed election once: check the definition against its seal, run the
tally engine on the sorted ballots and store inputs and result together."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record

from .. import notifications
from ..models import Ballot, Election, ElectionSeal, Option, TallyResult
from ..secrecy import sha256_text, tracker_code
from ..selectors import count_refused
from ..tally_adapter import METHOD_VERSION, count_ballots, election_outcome
from . import clock, locks, sealing
from .errors import DecisionRefused, IntegrityMismatch


def verified_for_count(
    election_id: int, now: datetime
) -> tuple[Election, ElectionSeal]:
    """The closed election and its seal, once its definition is checked against it.

    A closed election nobody opened is sealed now. Raises DecisionRefused before
    the close, and IntegrityMismatch (recorded once in the audit log) when the
    definition rebuilt from the database differs from the sealed one.
    """
    election = Election.objects.select_related("group").get(pk=election_id)
    if election.phase_at(now) != "closed":
        raise DecisionRefused(_("Results are counted only after voting closes."))
    with transaction.atomic():
        if not ElectionSeal.objects.filter(election=election).exists():
            sealing.seal(election, now)
            election.refresh_from_db()  # sealing drew the seed the definition holds
    seal = ElectionSeal.objects.get(election=election)
    document = sealing.definition_document(
        election, sealing.sealed_roll_member_ids(election)
    )
    if not sealing.definition_matches_seal(document, seal):
        _refuse(election)
    return election, seal


def _refuse(election: Election) -> NoReturn:
    with transaction.atomic():
        if not count_refused(election):  # record the refusal once, not per attempt
            audit_record(
                actor=None,
                action="election.count_refused",
                target=election,
                group=election.group,
                reason="integrity mismatch: the definition differs from its seal",
            )
    raise IntegrityMismatch(
        _(
            "Integrity mismatch: this ballot's definition changed after it was "
            "sealed; the count is refused."
        )
    )


def store_count(
    election: Election, seal: ElectionSeal, now: datetime
) -> tuple[TallyResult, bool]:
    """Count and store the result once: the result, and whether this call stored it.

    Runs inside the caller's transaction, which the stored result, its audit
    entries and anything the caller settles from it share: a count killed half-way
    leaves nothing. The engine's inputs (candidates, method, seats, rules, seed and
    the sorted ballots) are stored with its output, so anyone can re-run the count.
    """
    locks.election_for_count(election.pk)
    stored = TallyResult.objects.filter(
        election=election,
        seal_sha256=seal.definition_sha256,
        method_version=METHOD_VERSION,
    )
    existing = stored.first()
    if existing is not None:
        return existing, False
    candidates = list(
        Option.objects.filter(election=election)
        .order_by("position")
        .values_list("label", flat=True)
    )
    rows = list(Ballot.objects.filter(election=election).values_list("id", "payload"))
    payloads = sorted(payload for _, payload in rows)
    trackers = sorted(tracker_code(ballot_id) for ballot_id, _ in rows)
    counted = count_ballots(election, candidates, payloads)
    try:
        with transaction.atomic():
            tally = TallyResult.objects.create(
                election=election,
                seal_sha256=seal.definition_sha256,
                method_version=METHOD_VERSION,
                ballots_sha256=counted.ballots_sha256,
                ballot_count=len(payloads),
                roll_size=seal.roll_size,
                engine_input=counted.engine_input,
                ballots_text=counted.ballots_text,
                trackers_text="".join(code + "\n" for code in trackers),
                result_json=counted.result_json,
                result_sha256=sha256_text(counted.result_json),
                outcome=election_outcome(
                    election, counted.result, roll_size=seal.roll_size
                ),
                counted_at=now,
            )
    except IntegrityError:  # a concurrent count stored it first
        return stored.get(), False
    _audit_counted(election, tally)
    notifications.queue_results(election.pk)
    return tally, True


def _audit_counted(election: Election, tally: TallyResult) -> None:
    audit_record(
        actor=None,
        action="election.closed",
        target=election,
        group=election.group,
        data={"ballots": tally.ballot_count, "ballots_sha256": tally.ballots_sha256},
    )
    audit_record(
        actor=None,
        action="election.counted",
        target=election,
        group=election.group,
        data={"result_sha256": tally.result_sha256, "method_version": METHOD_VERSION},
    )


def elections_due_for_count(*, now: datetime | None = None) -> list[int]:
    """Closed elections without a result yet (refused ones stay due)."""
    now = now or clock.now()
    return list(
        Election.objects.filter(closes_at__lte=now, results__isnull=True).values_list(
            "pk", flat=True
        )
    )
