"""Casting a secret ballot: one Participation (who voted) and one Ballot (what was voted)
that share nothing but a keyed hash; a re-vote replaces the member's earlier ballot."""

from __future__ import annotations

import uuid
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
    turns it into the email after the commit); on PostgreSQL a re-vote runs four
    too (the participation and the ballot are upserts).
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
        payload = papers.serialise(paper)
        token = voter_token(election_id=election.pk, member_id=member.pk)
        if election.allow_revote and _upserts():
            replaced = _record_participation(election, member, now)
        else:
            replaced = _insert_participation(election, member, now) is None
        if replaced and not election.allow_revote:
            raise DecisionRefused(_("You have already voted in this ballot."))
        if replaced and _upserts():
            ballot_id = _replace_ballot(election, payload, token)
        else:
            if replaced:
                locked = locks.participation_for_update(election, member)
                Ballot.objects.filter(election=election, voter_token=token).delete()
                Participation.objects.filter(pk=locked).update(cast_at=now)
            ballot = Ballot.objects.create(
                election=election, payload=payload, voter_token=token
            )
            ballot_id = ballot.id
        tracker = tracker_code(ballot_id)
        notifications.queue_cast_receipt_row(election.pk, member.pk, tracker)
    return CastReceipt(tracker=tracker, replaced=replaced)


def _upserts() -> bool:
    """PostgreSQL re-votes in two upserts; SQLite (one writer at a time) locks,
    deletes and inserts, with the same outcome."""
    return transaction.get_connection().vendor == "postgresql"


def _record_participation(election: Election, member: User, now: datetime) -> bool:
    """Insert or refresh the member's participation (PostgreSQL); True on a re-vote.

    On a conflict the upsert locks the member's participation row until the commit,
    as ``locks.participation_for_update`` does on the other path: the member's
    re-votes run in turn and the last to commit counts.
    """
    connection = transaction.get_connection()
    # Only the table name from the model is interpolated (S608 is a false alarm).
    sql = (
        f"INSERT INTO {Participation._meta.db_table} (election_id, member_id, cast_at)"  # noqa: S608
        " VALUES (%s, %s, %s) ON CONFLICT (election_id, member_id)"
        " DO UPDATE SET cast_at = EXCLUDED.cast_at RETURNING (xmax = 0)"
    )
    cast_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [election.pk, member.pk, cast_at])
        inserted = cursor.fetchone()[0]
    return not inserted


def _replace_ballot(election: Election, payload: str, token: str) -> uuid.UUID:
    """The member's ballot replaced by the new paper under a new random id, in one
    upsert on the (election, voter token) constraint (PostgreSQL)."""
    connection = transaction.get_connection()
    ballot_id = uuid.uuid4()
    # Only the table name from the model is interpolated (S608 is a false alarm).
    sql = (
        f"INSERT INTO {Ballot._meta.db_table} (id, election_id, payload, voter_token)"  # noqa: S608
        " VALUES (%s, %s, %s, %s) ON CONFLICT (election_id, voter_token)"
        " DO UPDATE SET id = EXCLUDED.id, payload = EXCLUDED.payload"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ballot_id, election.pk, payload, token])
    return ballot_id


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
