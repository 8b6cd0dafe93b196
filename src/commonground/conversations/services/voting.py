"""Answering statements: the vote path, kept lean because it is the hot one.

A vote is one upsert of the participant's current answer (``Vote``, unique on
statement and participant: the last answer wins) and one insert into the
append-only history (``VoteEvent``), nothing else. On PostgreSQL both are a single
statement (a data-modifying CTE) run in autocommit: one round trip, no explicit
transaction. On SQLite they are two statements in one transaction. The upsert's
``WHERE`` re-checks that the statement is visible and the conversation open, so a
vote racing a close or a moderator's rejection is either in before it or refused.

Concurrent answers by one participant to one statement queue on the vote row's
lock; each one's history row is inserted after its upsert in the same statement,
so the history's order (by id) is the order the upserts took effect, and the
stored vote equals the last history row. Votes are not written to the audit log
(its hash chain is one lock for the whole platform); their history is their record.

Participant rows are created on a first vote or statement, with their number taken
from the conversation's counter (``UPDATE ... RETURNING``, a row lock held only by
that short transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .. import rules
from ..models import Conversation, Participant, Vote
from ..rules import Access
from . import clock, maps
from .errors import ConversationRefused

VALUES = {"agree": Vote.AGREE, "disagree": Vote.DISAGREE, "pass": Vote.PASS}


@dataclass(frozen=True)
class VoteReceipt:
    statement_id: int
    value: int
    participant_id: int
    participant_number: int


# The statements of the vote path, spelled out (fixed table names, parameters only).
UPSERT_SQL = """
INSERT INTO conversations_vote
    (conversation_id, statement_id, participant_id, value, at_ms)
SELECT s.conversation_id, s.id, %s, %s, %s
FROM conversations_statement s
JOIN conversations_conversation c ON c.id = s.conversation_id
WHERE s.id = %s AND s.conversation_id = %s AND s.status = 'accepted'
  AND (c.closed_at IS NULL OR c.closed_at > %s)
  AND (c.closes_at IS NULL OR c.closes_at > %s)
ON CONFLICT (statement_id, participant_id)
DO UPDATE SET value = excluded.value, at_ms = excluded.at_ms
RETURNING conversation_id, statement_id, participant_id, value, at_ms"""

# PostgreSQL: the upsert and its history row in one statement (one round trip).
VOTE_SQL_POSTGRESQL = """
WITH upserted AS (
INSERT INTO conversations_vote
    (conversation_id, statement_id, participant_id, value, at_ms)
SELECT s.conversation_id, s.id, %s, %s, %s
FROM conversations_statement s
JOIN conversations_conversation c ON c.id = s.conversation_id
WHERE s.id = %s AND s.conversation_id = %s AND s.status = 'accepted'
  AND (c.closed_at IS NULL OR c.closed_at > %s)
  AND (c.closes_at IS NULL OR c.closes_at > %s)
ON CONFLICT (statement_id, participant_id)
DO UPDATE SET value = excluded.value, at_ms = excluded.at_ms
RETURNING conversation_id, statement_id, participant_id, value, at_ms)
INSERT INTO conversations_voteevent
    (conversation_id, statement_id, participant_id, value, at_ms)
SELECT conversation_id, statement_id, participant_id, value, at_ms FROM upserted
RETURNING id"""

EVENT_SQL = """
INSERT INTO conversations_voteevent
    (conversation_id, statement_id, participant_id, value, at_ms)
VALUES (%s, %s, %s, %s, %s)"""

COUNTER_SQL = {
    "next_participant_number": (
        "UPDATE conversations_conversation "
        "SET next_participant_number = next_participant_number + 1 "
        "WHERE id = %s RETURNING next_participant_number - 1"
    ),
    "next_statement_number": (
        "UPDATE conversations_conversation "
        "SET next_statement_number = next_statement_number + 1 "
        "WHERE id = %s RETURNING next_statement_number - 1"
    ),
}

PARTICIPANT_SQL = """
INSERT INTO conversations_participant (conversation_id, number, user_id, joined_at)
VALUES (%s, %s, %s, %s)
ON CONFLICT (conversation_id, user_id) DO NOTHING"""


def record_vote(
    *,
    conversation_id: int,
    statement_id: int,
    participant_id: int,
    value: int,
    at_ms: int,
    now: Any,
) -> bool:
    """Store one answer and its history row; False when the statement is not visible
    or the conversation not open (nothing stored). No permission check: callers
    have made it (``vote_cast``) or act for the system (an author's own agree)."""
    moment = connection.ops.adapt_datetimefield_value(now)
    upsert_params = [
        participant_id,
        value,
        at_ms,
        statement_id,
        conversation_id,
        moment,
        moment,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(VOTE_SQL_POSTGRESQL, upsert_params)
            return cursor.fetchone() is not None
        with transaction.atomic():
            cursor.execute(UPSERT_SQL, upsert_params)
            row = cursor.fetchone()
            if row is None:
                return False
            cursor.execute(EVENT_SQL, list(row))
            return True


def next_number(conversation_id: int, column: str) -> int:
    """Take the next participant or statement number of the conversation."""
    with connection.cursor() as cursor:
        cursor.execute(COUNTER_SQL[column], [conversation_id])
        row = cursor.fetchone()
    if row is None:
        raise Conversation.DoesNotExist(conversation_id)
    return int(row[0])


def participant_ensure(*, conversation_id: int, user: Any) -> tuple[int, int]:
    """The member's participant row in the conversation, created on first need:
    (id, number). Safe under concurrency (a unique constraint decides)."""
    found = (
        Participant.objects.filter(conversation_id=conversation_id, user=user)
        .values_list("pk", "number")
        .first()
    )
    if found is not None:
        return found
    with transaction.atomic():
        number = next_number(conversation_id, "next_participant_number")
        with connection.cursor() as cursor:
            cursor.execute(
                PARTICIPANT_SQL,
                [
                    conversation_id,
                    number,
                    user.pk,
                    connection.ops.adapt_datetimefield_value(clock.now()),
                ],
            )
    pk, number = (
        Participant.objects.filter(conversation_id=conversation_id, user=user)
        .values_list("pk", "number")
        .get()
    )
    return pk, number


def parse_value(value: Any) -> int:
    if isinstance(value, str):
        if value in VALUES:
            return VALUES[value]
        try:
            value = int(value)
        except ValueError:
            value = None
    if value not in (Vote.AGREE, Vote.DISAGREE, Vote.PASS):
        raise ValidationError(
            {"vote": _("Answer agree, disagree or pass.")}, code="invalid_vote"
        )
    return int(value)


def vote_cast(*, access: Access, statement_id: int, value: Any) -> VoteReceipt:
    """Record the participant's answer to a statement; a later answer replaces it.

    ``access`` comes from ``selectors.vote_access`` (or ``access_for``). Raises
    PermissionDenied when the user may not take part (views answer 404),
    ValidationError for a value other than agree / disagree / pass, and
    ConversationRefused when the conversation is closed or the statement is not
    visible (hidden, rejected, waiting for a moderator, or of another conversation).
    """
    if not rules.can_take_part(access):
        raise PermissionDenied(_("You cannot take part in this conversation."))
    vote_value = parse_value(value)
    now = clock.now()
    conversation = access.conversation
    if not conversation.is_open_at(now):
        raise ConversationRefused(
            _("This conversation has closed; your answer was not recorded.")
        )
    if access.participant_id is None:
        participant_id, number = participant_ensure(
            conversation_id=conversation.pk, user=access.user
        )
        access.participant_id, access.participant_number = participant_id, number
    assert access.participant_id is not None and access.participant_number is not None
    stored = record_vote(
        conversation_id=conversation.pk,
        statement_id=statement_id,
        participant_id=access.participant_id,
        value=vote_value,
        at_ms=clock.to_ms(now),
        now=now,
    )
    if not stored:
        raise _refusal(conversation.pk, statement_id)
    maps.map_refresh_soon(conversation.pk)
    return VoteReceipt(
        statement_id=statement_id,
        value=vote_value,
        participant_id=access.participant_id,
        participant_number=access.participant_number,
    )


def _refusal(conversation_id: int, statement_id: int) -> ConversationRefused:
    """Why an upsert stored nothing (only on this rare path: one more query)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is not None and not conversation.is_open_at(clock.now()):
        return ConversationRefused(
            _("This conversation has closed; your answer was not recorded.")
        )
    return ConversationRefused(
        _("This statement cannot be answered: it is not visible in this conversation."),
        status=404,
    )
