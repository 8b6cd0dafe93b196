"""Open data: a conversation in the Pol.is openData layout, out and in.

``conversation_export`` writes ``comments.csv``, ``votes.csv`` (the whole history),
``participants-votes.csv`` (final answers and each participant's opinion group)
and ``summary.csv`` with the engine's ``write_polis_export``; statement and
participant ids are the conversation's numbers, never names. Statements still
waiting for a moderator are left out (Pol.is's ``moderated = 0`` would read back as
visible).

``conversation_import`` reads such a folder with the engine's ``read_polis_export``
(a Pol.is export, or ours) into a new conversation: statements and participants
keep their ids, every vote row becomes a history row in time order and the last one
of each pair the current answer. The reader refuses a malformed file naming the
file, the line and the field; the import adds its own checks in the same form
(ids must be whole numbers) and writes everything in one transaction, so a refusal
leaves nothing behind. Export, import, export gives the same files.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.engines.opinion import (
    OpinionInputError,
    StatementTable,
    VoteTable,
    read_polis_export,
    read_polis_summary,
    write_polis_export,
)
from commonground.members.models import Group
from commonground.members.selectors import viewer_for
from commonground.notifications.delivery import site_url

from .. import rules
from ..models import (
    CONTEXT_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    STATEMENT_STORED_MAX_LENGTH,
    Conversation,
    ConversationMap,
    Participant,
    Statement,
    Vote,
    VoteEvent,
)
from . import clock, maps
from .conversations import ConversationSettings, _clean

EXPORT_FILES = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")
BATCH = 5_000
LARGEST_ID = 2**31 - 1


class ImportRefused(Exception):
    """A file of the export is malformed: ``str()`` is ``FILE:LINE: FIELD: MESSAGE``."""

    def __init__(self, path: str, line: int | str, field: str, message: str) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        super().__init__(f"{path}:{line}: {field}: {message}")


# Export ---------------------------------------------------------------------------


def export_tables(
    conversation: Conversation,
) -> tuple[VoteTable, StatementTable, dict[str, str], dict[str, int]]:
    """The conversation as the engine's tables, its summary and the groups."""
    rows = maps.events_after(conversation.pk, 0)
    votes = maps.vote_table(rows.participants, rows.statements, rows.values, rows.times)
    statements = (
        Statement.objects.filter(conversation=conversation)
        .exclude(status=Statement.Status.PENDING)
        .select_related("author")
        .order_by("number")
    )
    ids, moderated, meta, seed, texts, authors, created = [], [], [], [], [], [], []
    for statement in statements:
        ids.append(str(statement.number))
        if statement.status == Statement.Status.REJECTED:
            moderated.append(-1)
        else:
            moderated.append(1 if statement.moderator_accepted else 0)
        meta.append(statement.is_meta)
        seed.append(statement.is_seed)
        texts.append(statement.text)
        authors.append(str(statement.author.number) if statement.author else None)
        created.append(statement.created_at_ms)
    table = StatementTable(
        ids=tuple(ids),
        moderated=np.asarray(moderated, dtype=np.int8),
        is_meta=np.asarray(meta, dtype=np.bool_),
        text=tuple(texts),
        is_seed=np.asarray(seed, dtype=np.bool_),
        author=tuple(authors),
        created=np.asarray(created, dtype=np.int64),
    )
    url = conversation.source_url or site_url(
        reverse("conversations:detail", args=[conversation.pk])
    )
    summary = {
        "topic": conversation.question,
        "url": url,
        "conversation-description": conversation.context,
    }
    return votes, table, summary, _groups(conversation)


def _groups(conversation: Conversation) -> dict[str, int]:
    blob = (
        ConversationMap.objects.filter(conversation=conversation)
        .values_list("positions", flat=True)
        .first()
    )
    if not blob:
        return {}
    positions = np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
    return {
        str(int(row["number"])): int(row["group"])
        for row in positions
        if int(row["group"]) >= 0
    }


def conversation_export(
    *, actor: Any, conversation: Conversation, directory: Path
) -> list[Path]:
    """Write the openData files into ``directory`` (after bringing the map up to
    date, for the groups); returns the files written."""
    from .. import selectors

    access = selectors.access_for(actor, conversation)
    if not rules.can_export(access):
        raise PermissionDenied(_("You cannot download this conversation."))
    maps.map_refresh(conversation_id=conversation.pk)
    votes, statements, summary, groups = export_tables(conversation)
    write_polis_export(
        directory, votes=votes, statements=statements, summary=summary, groups=groups
    )
    return [directory / name for name in EXPORT_FILES if (directory / name).exists()]


def export_zip(*, actor: Any, conversation: Conversation) -> bytes:
    """The openData files in one zip archive (a folder named after the conversation)."""
    with tempfile.TemporaryDirectory() as folder:
        files = conversation_export(
            actor=actor, conversation=conversation, directory=Path(folder)
        )
        buffer = io.BytesIO()
        prefix = f"conversation-{conversation.pk}"
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                info = zipfile.ZipInfo(
                    f"{prefix}/{path.name}", date_time=(2000, 1, 1, 0, 0, 0)
                )
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        return buffer.getvalue()


# Import ---------------------------------------------------------------------------


def _line_of(path: Path, column: str, value: str) -> int | str:
    """The line of the first row whose ``column`` holds ``value`` (for messages)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            if column not in header:
                return "?"
            index = header.index(column)
            line = 1
            for fields in reader:
                line = reader.line_num
                if len(fields) > index and fields[index] == value:
                    return line
    except (OSError, csv.Error, UnicodeDecodeError):
        return "?"
    return "?"


def _number(text: str, path: Path, line: int | str, field: str) -> int:
    if not (text.isascii() and text.isdecimal()) or int(text) > LARGEST_ID:
        raise ImportRefused(
            str(path), line, field, _("%(id)r is not a whole number id") % {"id": text}
        )
    return int(text)


def _read(directory: Path) -> tuple[VoteTable, StatementTable, dict[str, str]]:
    try:
        votes, statements = read_polis_export(directory)
        summary_path = directory / "summary.csv"
        summary = read_polis_summary(summary_path) if summary_path.exists() else {}
    except OpinionInputError as error:
        raise ImportRefused(
            error.path, error.line, error.field, error.message
        ) from None
    return votes, statements, summary


def _vote_file(directory: Path) -> tuple[Path, str]:
    log = directory / "votes.csv"
    if log.exists():
        return log, "voter-id"
    return directory / "participants-votes.csv", "participant"


def conversation_import(
    *,
    actor: Any,
    group: Group,
    directory: Path,
    settings: ConversationSettings | None = None,
) -> Conversation:
    """A new conversation from a Pol.is openData folder; all or nothing."""
    if not rules.can_start_conversation(viewer_for(actor, group)):
        raise PermissionDenied(_("Only the group's organisers can import here."))
    directory = Path(directory)
    votes, statements, summary = _read(directory)
    comments = directory / "comments.csv"
    vote_path, voter_column = _vote_file(directory)
    # Ids: whole numbers, as the conversation numbers them.
    statement_numbers = [
        _number(sid, comments, _line_of(comments, "comment-id", sid), "comment-id")
        for sid in statements.ids
    ]
    known = set(statements.ids)
    for code, sid in enumerate(votes.statement_ids):
        if sid not in known:
            rows = np.flatnonzero(votes.statement == code)
            line = _vote_line(votes, rows)
            raise ImportRefused(
                str(vote_path),
                line,
                "comment-id",
                _("comment %(id)s is not in comments.csv") % {"id": sid},
            )
    voter_numbers = []
    for code, pid in enumerate(votes.participant_ids):
        if not (pid.isascii() and pid.isdecimal()) or int(pid) > LARGEST_ID:
            line = _vote_line(votes, np.flatnonzero(votes.participant == code))
            _number(pid, vote_path, line, voter_column)
        voter_numbers.append(int(pid))
    author_numbers: list[int | None] = []
    for sid, author in zip(statements.ids, statements.author, strict=True):
        if author is None:
            author_numbers.append(None)
            continue
        author_numbers.append(
            _number(
                author, comments, _line_of(comments, "comment-id", sid), "author-id"
            )
        )
    for sid, text in zip(statements.ids, statements.text, strict=True):
        if not text or not text.strip() or len(text) > STATEMENT_STORED_MAX_LENGTH:
            raise ImportRefused(
                str(comments),
                _line_of(comments, "comment-id", sid),
                "comment-body",
                _("a statement must have a text of 1 to %(max)d characters")
                % {"max": STATEMENT_STORED_MAX_LENGTH},
            )
    now = clock.now()
    spec = settings or ConversationSettings(question="")
    if not spec.question.strip():
        topic = summary.get("topic") or _("Imported conversation")
        spec = replace(spec, question=topic[:QUESTION_MAX_LENGTH])
    if not spec.context.strip():
        description = summary.get("conversation-description", "")
        spec = replace(spec, context=description[:CONTEXT_MAX_LENGTH])
    values = _clean(spec, now, opening=True)
    with transaction.atomic():
        conversation = _create(
            actor=actor,
            group=group,
            values=values,
            source_url=summary.get("url", "")[:500],
            now=now,
        )
        participants = _participants(
            conversation,
            sorted(set(voter_numbers) | {a for a in author_numbers if a is not None}),
            now,
        )
        by_number = _statements(
            conversation,
            statements,
            statement_numbers,
            author_numbers,
            participants,
            now,
        )
        history = _history(
            conversation,
            votes,
            voter_numbers,
            statement_numbers,
            statements,
            participants,
            by_number,
            now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            next_statement_number=max(statement_numbers, default=-1) + 1,
            next_participant_number=max(participants, default=-1) + 1,
            statements_version=1,
        )
        audit_record(
            actor=actor,
            action="conversation.imported",
            target=conversation,
            group=group,
            data={
                "statements": len(statement_numbers),
                "participants": len(participants),
                "vote_rows": history,
                "source": summary.get("url", ""),
                "engine_mode": values["engine_mode"],
            },
        )
        maps.map_refresh_soon(conversation.pk)
    conversation.refresh_from_db()
    return conversation


def _vote_line(votes: VoteTable, rows: Any) -> int | str:
    if votes.line is None or not len(rows):
        return "?"
    return int(votes.line[int(rows[0])])


def _create(
    *, actor: Any, group: Group, values: dict[str, Any], source_url: str, now: Any
) -> Conversation:
    from commonground.discussion.richtext import render_markdown

    return Conversation.objects.create(
        group=group,
        created_by=actor,
        created_at=now,
        origin="polis-import",
        source_url=source_url,
        context_html=str(render_markdown(values["context"]))
        if values["context"]
        else "",
        **values,
    )


def _participants(
    conversation: Conversation, numbers: list[int], now: Any
) -> dict[int, int]:
    """Participant rows (no member behind them): number -> id."""
    for start in range(0, len(numbers), BATCH):
        Participant.objects.bulk_create(
            [
                Participant(conversation=conversation, number=number, joined_at=now)
                for number in numbers[start : start + BATCH]
            ]
        )
    return dict(
        Participant.objects.filter(conversation=conversation).values_list(
            "number", "pk"
        )
    )


def _statements(
    conversation: Conversation,
    statements: StatementTable,
    numbers: list[int],
    authors: list[int | None],
    participants: dict[int, int],
    now: Any,
) -> dict[int, int]:
    """Statement rows: number -> id."""
    created = statements.created
    now_ms = clock.to_ms(now)
    rows = []
    for index, number in enumerate(numbers):
        moderated = int(statements.moderated[index])
        author = authors[index]
        rows.append(
            Statement(
                conversation=conversation,
                number=number,
                author_id=participants[author] if author is not None else None,
                text=statements.text[index] or "",
                text_key="",
                is_seed=bool(statements.is_seed[index]),
                is_meta=bool(statements.is_meta[index]),
                status=Statement.Status.REJECTED
                if moderated == -1
                else Statement.Status.ACCEPTED,
                moderator_accepted=moderated == 1,
                created_at_ms=int(created[index]) if created is not None else now_ms,
                priority=0.0,
            )
        )
    Statement.objects.bulk_create(rows, batch_size=BATCH)
    return dict(
        Statement.objects.filter(conversation=conversation).values_list("number", "pk")
    )


def _history(
    conversation: Conversation,
    votes: VoteTable,
    voter_numbers: list[int],
    statement_numbers: list[int],
    statements: StatementTable,
    participants: dict[int, int],
    by_number: dict[int, int],
    now: Any,
) -> int:
    """Every vote row as history in time order, and the last of each pair as the
    current answer. Returns the number of rows."""
    n = len(votes)
    if not n:
        return 0
    number_of_sid = dict(zip(statements.ids, statement_numbers, strict=True))
    p_id = np.asarray([participants[v] for v in voter_numbers], dtype=np.int64)
    s_id = np.asarray(
        [by_number[number_of_sid[sid]] for sid in votes.statement_ids], dtype=np.int64
    )
    order = (
        np.argsort(votes.timestamp, kind="stable")
        if votes.timestamp is not None
        else np.arange(n)
    )
    times = (
        votes.timestamp[order]
        if votes.timestamp is not None
        else np.full(n, clock.to_ms(now), dtype=np.int64)
    )
    participant = p_id[votes.participant[order]]
    statement = s_id[votes.statement[order]]
    value = votes.vote[order]
    for start in range(0, n, BATCH):
        stop = min(start + BATCH, n)
        VoteEvent.objects.bulk_create(
            [
                VoteEvent(
                    conversation=conversation,
                    statement_id=int(statement[i]),
                    participant_id=int(participant[i]),
                    value=int(value[i]),
                    at_ms=int(times[i]),
                )
                for i in range(start, stop)
            ]
        )
    final: dict[tuple[int, int], int] = {}
    for i in range(n):
        final[(int(statement[i]), int(participant[i]))] = i
    last = sorted(final.values())
    for start in range(0, len(last), BATCH):
        Vote.objects.bulk_create(
            [
                Vote(
                    conversation=conversation,
                    statement_id=int(statement[i]),
                    participant_id=int(participant[i]),
                    value=int(value[i]),
                    at_ms=int(times[i]),
                )
                for i in last[start : start + BATCH]
            ]
        )
    return n


__all__ = [
    "EXPORT_FILES",
    "ImportRefused",
    "conversation_export",
    "conversation_import",
    "export_tables",
    "export_zip",
]
