"""Casting a secret ballot: one Participation (who voted) and one Ballot (what was voted)
that share nothing but a keyed hash; a re-vote replaces the member's earlier ballot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from commonground.members.models import User

from .. import notifications, papers
from ..models import (
    Ballot,
    Election,
    ElectionSeal,
    EligibleVoter,
    Option,
    Participation,
)
from ..secrecy import tracker_code, voter_token
from . import clock, locks, sealing
from .errors import DecisionRefused


@dataclass(frozen=True)
class CastReceipt:
    tracker: str
    replaced: bool


class _NotSealedYet(Exception):
    """The first cast after the opening time: seal, then cast again."""


def ballot_cast(
    *, member: User, election: Election, marks: Mapping[str, Any]
) -> CastReceipt:
    """Record a secret ballot; a re-vote replaces the member's earlier one.

    Raises DecisionRefused (not open, closed, not eligible, already voted) or
    papers.PaperErrors (field-level problems). Nothing is stored on refusal.
    A first cast runs four statements in its transaction: the locked state check,
    the participation insert, the ballot insert and the receipt row (the worker
    turns it into the email after the commit).
    """
    now = clock.now()
    phase = election.phase_at(now)
    if phase == "closed":
        raise DecisionRefused(_closed_message(election))
    if phase != "open":
        raise DecisionRefused(
            _("Voting has not opened yet; your ballot was not recorded.")
        )
    try:
        return _cast(member, election, marks, now)
    except _NotSealedYet:
        with transaction.atomic():
            sealing.seal(election, now)
        return _cast(member, election, marks, now)


def _closed_message(election: Election) -> str:
    return _("Voting closed at %(when)s; your ballot was not recorded.") % {
        "when": f"{election.closes_at:%Y-%m-%d %H:%M %Z}"
    }


def _cast(
    member: User, election: Election, marks: Mapping[str, Any], now: datetime
) -> CastReceipt:
    with transaction.atomic():
        sealed, on_roll, option_count = _cast_state(election, member)
        if not sealed:
            raise _NotSealedYet
        if clock.now() >= election.closes_at:  # type: ignore[operator]
            raise DecisionRefused(_closed_message(election))
        if not on_roll:
            raise DecisionRefused(
                _(
                    "You are not on the roll for this ballot: "
                    "it was fixed when voting opened."
                ),
                status=403,
            )
        paper = papers.read_marks(
            method=election.method,
            option_count=option_count,
            max_score=election.max_score,
            data=marks,
        )
        participation_id = _insert_participation(election, member, now)
        replaced = participation_id is None
        token = voter_token(election_id=election.pk, member_id=member.pk)
        if replaced:
            if not election.allow_revote:
                raise DecisionRefused(_("You have already voted in this ballot."))
            locked = locks.participation_for_update(election, member)
            Ballot.objects.filter(election=election, voter_token=token).delete()
            Participation.objects.filter(pk=locked).update(cast_at=now)
        ballot = Ballot.objects.create(
            election=election, payload=papers.serialise(paper), voter_token=token
        )
        tracker = tracker_code(ballot.id)
        notifications.queue_cast_receipt_row(election.pk, member.pk, tracker)
    return CastReceipt(tracker=tracker, replaced=replaced)


def _cast_state(election: Election, member: User) -> tuple[bool, bool, int]:
    """Sealed?, on the roll?, how many options: one statement, holding the close out.

    Casts share the election row's lock and the count takes it exclusively
    (``locks``), so a cast racing the close is counted or stores nothing.
    """
    connection = transaction.get_connection()
    lock = locks.election_share_clause(connection)
    # Only table names from the models are interpolated (S608 is a false alarm).
    sql = (
        "SELECT"  # noqa: S608
        f" EXISTS(SELECT 1 FROM {ElectionSeal._meta.db_table} WHERE election_id = %s),"
        f" EXISTS(SELECT 1 FROM {EligibleVoter._meta.db_table}"
        "  WHERE election_id = %s AND member_id = %s),"
        f" (SELECT COUNT(*) FROM {Option._meta.db_table} WHERE election_id = %s)"
        f" FROM {Election._meta.db_table} WHERE id = %s{lock}"
    )
    pk = election.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, pk, member.pk, pk, pk])
        row = cursor.fetchone()
    return bool(row[0]), bool(row[1]), int(row[2])


def _insert_participation(
    election: Election, member: User, now: datetime
) -> int | None:
    """Insert the member's participation; None if they have already voted.

    Concurrent first casts by one member collide on the unique constraint: the
    database makes the later ones wait for the first to commit, then skip.
    """
    connection = transaction.get_connection()
    # Only the table name from the model is interpolated (S608 is a false alarm).
    sql = (
        f"INSERT INTO {Participation._meta.db_table} (election_id, member_id, cast_at)"  # noqa: S608
        " VALUES (%s, %s, %s) ON CONFLICT (election_id, member_id) DO NOTHING RETURNING id"
    )
    cast_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [election.pk, member.pk, cast_at])
        row = cursor.fetchone()
    return None if row is None else int(row[0])
