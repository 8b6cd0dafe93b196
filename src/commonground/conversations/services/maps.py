"""Keeping each conversation's opinion map up to date, in the background.

A vote never waits for the map. ``map_refresh_soon`` (called after each vote and
moderation act) queues at most one ``conversations.refresh_map`` task per
conversation per debounce window (``CONVERSATION_MAP_DEBOUNCE_SECONDS``, default 2 s):
the first vote of a window queues it to run at the window's end, later ones find it
queued. The task runs ``map_refresh``, which is idempotent and safe to run twice at
once (a cache lock lets one run; the other returns).

``map_refresh`` feeds the engine incrementally. Each worker process keeps the fitted
``OpinionMap`` of the conversations it refreshed recently (``_WARM``) with the final
votes as sorted arrays; a refresh reads only the history rows (``VoteEvent``) since
the last one and calls ``partial_fit`` with them. Rows are re-read from a point a
few seconds back (``REREAD_SECONDS``): on PostgreSQL a row with a smaller id can
commit after a larger one, and applying a pair's rows again in id order changes
nothing, so re-reading makes a late commit safe. Without a warm map (a fresh
worker, another worker's turn), the improved mode fits the final votes from the
``Vote`` table (it is stateless: the result depends only on those), and the Pol.is
mode continues from its persisted ``PolisState`` (``ConversationMap.polis_state``)
or, the first time, replays the whole history as Pol.is would have seen it.

The result is stored in ``ConversationMap`` (page data, positions, the engine's
JSON) and each statement's priority is written back for the choice of the next
statement.
"""

from __future__ import annotations

import json
import logging
import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max
from numpy.typing import NDArray

from commonground.engines.opinion import (
    OpinionMap,
    OpinionResult,
    PolisState,
    StatementTable,
    VoteTable,
)

from .. import map_page
from ..models import (
    SEED_PRIORITY,
    Conversation,
    ConversationMap,
    EngineMode,
    Statement,
    VoteEvent,
)
from . import clock

logger = logging.getLogger(__name__)

REFRESH_TASK = "conversations.refresh_map"
REREAD_SECONDS = 10.0
LOCK_SECONDS = 600
# Fitted maps a worker keeps, most recently used last.
WARM_LIMIT = 4


def debounce_seconds() -> float:
    return float(getattr(settings, "CONVERSATION_MAP_DEBOUNCE_SECONDS", 2.0))


# Queuing ---------------------------------------------------------------------------

_scheduled_locally: dict[int, float] = {}


def _queued_key(conversation_id: int) -> str:
    return f"conversations:map-queued:{conversation_id}"


def map_refresh_soon(conversation_id: int, *, now_if_idle: bool = False) -> None:
    """Queue one refresh of the map for the end of the debounce window (after commit).

    Cheap on the vote path: a process that queued one less than a window ago asks
    nothing; otherwise one cache ``add`` decides whether this vote queues it.
    ``now_if_idle`` skips the process's own shortcut (a stale map page, a refresh
    that found newer votes when it finished).
    """
    window = debounce_seconds()
    now = time.monotonic()
    last = _scheduled_locally.get(conversation_id)
    if not now_if_idle and window > 0 and last is not None and now - last < window:
        return
    _scheduled_locally[conversation_id] = now
    if window > 0 and not cache.add(
        _queued_key(conversation_id), 1, timeout=max(int(window), 1)
    ):
        return
    transaction.on_commit(lambda: _queue(conversation_id, window))


def _queue(conversation_id: int, countdown: float) -> None:
    from celery import current_app

    try:
        current_app.tasks[REFRESH_TASK].apply_async(
            args=(conversation_id,), countdown=countdown or None
        )
    except Exception:  # a vote has been stored: never fail it for the map's sake
        logger.exception("could not queue the map refresh of %s", conversation_id)


# What the warm worker keeps -----------------------------------------------------------


@dataclass
class FinalState:
    """The final answers as arrays sorted by (participant code, statement code)."""

    keys: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    values: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    participant_numbers: list[int] = field(default_factory=list)
    statement_numbers: list[int] = field(default_factory=list)
    participant_code: dict[int, int] = field(default_factory=dict)
    statement_code: dict[int, int] = field(default_factory=dict)

    def codes(
        self, participants: NDArray[np.int64], statements: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        return (
            _encode(participants, self.participant_code, self.participant_numbers),
            _encode(statements, self.statement_code, self.statement_numbers),
        )

    def apply(
        self,
        participants: NDArray[np.int64],
        statements: NDArray[np.int64],
        values: NDArray[np.int8],
    ) -> None:
        """Rows in history order: the last row of each pair wins."""
        if not len(values):
            return
        p, s = self.codes(participants, statements)
        keys = (p << 32) | s
        # The last row of each key (np.unique finds the first of the reversed rows).
        reversed_keys = keys[::-1]
        unique, first = np.unique(reversed_keys, return_index=True)
        new_values = values[::-1][first]
        at: NDArray[np.intp] = np.asarray(np.searchsorted(self.keys, unique))
        at_clipped = np.minimum(at, max(len(self.keys) - 1, 0))
        present = (
            (self.keys[at_clipped] == unique)
            if len(self.keys)
            else np.zeros(len(unique), bool)
        )
        self.values[at[present]] = new_values[present]
        missing = ~present
        if missing.any():
            self.keys = np.insert(self.keys, at[missing], unique[missing])
            self.values = np.insert(self.values, at[missing], new_values[missing])

    def final_votes(self) -> map_page.FinalVotes:
        return map_page.FinalVotes(
            participant=(self.keys >> 32).astype(np.int64),
            statement=(self.keys & 0xFFFFFFFF).astype(np.int64),
            value=self.values,
            participant_numbers=np.asarray(self.participant_numbers, dtype=np.int64),
            statement_numbers=np.asarray(self.statement_numbers, dtype=np.int64),
        )


def _encode(
    numbers: NDArray[np.int64], code_of: dict[int, int], numbers_by_code: list[int]
) -> NDArray[np.int64]:
    distinct, inverse = np.unique(numbers, return_inverse=True)
    codes = np.empty(len(distinct), dtype=np.int64)
    for index, number in enumerate(distinct.tolist()):
        code = code_of.get(number)
        if code is None:
            code = code_of[number] = len(numbers_by_code)
            numbers_by_code.append(number)
        codes[index] = code
    return codes[inverse]


@dataclass
class WarmMap:
    identity: tuple[int, str, str]
    model: OpinionMap
    final: FinalState
    through_event: int
    # (wall-clock ms when read, highest event id read), oldest first.
    reads: list[tuple[int, int]] = field(default_factory=list)
    reread_from: int = 0
    statements_version: int = -1

    def start_event(self, now_ms: int) -> int:
        """Re-read history from the newest read at least REREAD_SECONDS old."""
        horizon = now_ms - int(REREAD_SECONDS * 1000)
        start = self.reread_from
        for read_ms, event in self.reads:
            if read_ms <= horizon:
                start = max(start, event)
        self.reads = [r for r in self.reads if r[0] > horizon or r[1] == start]
        return start


_WARM: OrderedDict[int, WarmMap] = OrderedDict()
_WARM_LOCK = threading.Lock()


def _identity(conversation: Conversation) -> tuple[int, str, str]:
    return (
        conversation.pk,
        conversation.created_at.isoformat(),
        conversation.engine_mode,
    )


def _warm_get(conversation: Conversation) -> WarmMap | None:
    with _WARM_LOCK:
        warm = _WARM.get(conversation.pk)
        if warm is None or warm.identity != _identity(conversation):
            _WARM.pop(conversation.pk, None)
            return None
        _WARM.move_to_end(conversation.pk)
        return warm


def _warm_put(conversation: Conversation, warm: WarmMap) -> None:
    with _WARM_LOCK:
        _WARM[conversation.pk] = warm
        _WARM.move_to_end(conversation.pk)
        while len(_WARM) > WARM_LIMIT:
            _WARM.popitem(last=False)


def warm_forget(conversation_id: int | None = None) -> None:
    """Drop the warm maps (one, or all): the next refresh starts from the database."""
    with _WARM_LOCK:
        if conversation_id is None:
            _WARM.clear()
        else:
            _WARM.pop(conversation_id, None)


# Reading votes --------------------------------------------------------------------


EVENTS_SQL = """
SELECT e.id, p.number, s.number, e.value, e.at_ms
FROM conversations_voteevent e
JOIN conversations_participant p ON p.id = e.participant_id
JOIN conversations_statement s ON s.id = e.statement_id
WHERE e.conversation_id = %s AND e.id > %s
ORDER BY e.id"""


@dataclass(frozen=True)
class Rows:
    ids: NDArray[np.int64]
    participants: NDArray[np.int64]
    statements: NDArray[np.int64]
    values: NDArray[np.int8]
    times: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.values)


def _rows(data: list[tuple[Any, ...]]) -> Rows:
    if not data:
        empty = np.zeros(0, dtype=np.int64)
        return Rows(empty, empty, empty, np.zeros(0, dtype=np.int8), empty)
    array = np.asarray(data, dtype=np.int64)
    return Rows(
        ids=array[:, 0],
        participants=array[:, 1],
        statements=array[:, 2],
        values=array[:, 3].astype(np.int8),
        times=array[:, 4],
    )


def events_after(conversation_id: int, after: int) -> Rows:
    """History rows with id above ``after``, in id order."""
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_SQL, [conversation_id, after])
        return _rows(cursor.fetchall())


FINAL_SQL = """
SELECT p.number, s.number, v.value
FROM conversations_vote v
JOIN conversations_participant p ON p.id = v.participant_id
JOIN conversations_statement s ON s.id = v.statement_id
WHERE v.conversation_id = %s"""
FINAL_COPY_SQL = f"COPY ({FINAL_SQL}) TO STDOUT (FORMAT BINARY)"


_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("l1", ">i4"),
        ("participant", ">i4"),
        ("l2", ">i4"),
        ("statement", ">i4"),
        ("l3", ">i4"),
        ("value", ">i2"),
    ]
)


def final_votes_of(
    conversation_id: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    """Every current answer (participant number, statement number, value).

    On PostgreSQL one binary COPY read straight into numpy (millions of rows a
    second); elsewhere a plain query.
    """
    if connection.vendor == "postgresql":
        return _final_votes_copy(conversation_id)
    with connection.cursor() as cursor:
        cursor.execute(FINAL_SQL, [conversation_id])
        data = cursor.fetchall()
    if not data:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.int8)
    array = np.asarray(data, dtype=np.int64)
    return array[:, 0], array[:, 1], array[:, 2].astype(np.int8)


def _final_votes_copy(
    conversation_id: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    chunks: list[bytes] = []
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(FINAL_COPY_SQL, (int(conversation_id),)) as copy,
    ):
        for block in copy:
            chunks.append(bytes(block))
    data = b"".join(chunks)
    # Header: 11-byte signature, flags (4), extension length (4) + extension.
    (extension,) = struct.unpack(">i", data[15:19])
    body = data[19 + extension : -2]  # the trailer is a 2-byte -1
    rows = np.frombuffer(body, dtype=_COPY_ROW)
    return (
        rows["participant"].astype(np.int64),
        rows["statement"].astype(np.int64),
        rows["value"].astype(np.int8),
    )


def statement_table(conversation_id: int) -> StatementTable:
    """Moderation as the engine reads it: -1 rejected, 1 accepted by a moderator."""
    rows = Statement.objects.filter(conversation_id=conversation_id).values_list(
        "number", "status", "moderator_accepted", "is_meta"
    )
    ids, moderated, meta = [], [], []
    for number, status, accepted, is_meta in rows.order_by("number"):
        ids.append(str(number))
        meta.append(bool(is_meta))
        if status == Statement.Status.REJECTED:
            moderated.append(-1)
        else:
            moderated.append(1 if accepted else 0)
    return StatementTable(
        ids=tuple(ids),
        moderated=np.asarray(moderated, dtype=np.int8),
        is_meta=np.asarray(meta, dtype=np.bool_),
        text=(None,) * len(ids),
    )


def vote_table(
    participants: NDArray[np.int64],
    statements: NDArray[np.int64],
    values: NDArray[np.int8],
    times: NDArray[np.int64] | None = None,
) -> VoteTable:
    """Rows as the engine reads them: ids are the numbers as text."""
    p_ids, p_codes = np.unique(participants, return_inverse=True)
    s_ids, s_codes = np.unique(statements, return_inverse=True)
    return VoteTable(
        participant_ids=tuple(str(n) for n in p_ids.tolist()),
        statement_ids=tuple(str(n) for n in s_ids.tolist()),
        participant=p_codes.astype(np.int32),
        statement=s_codes.astype(np.int32),
        vote=values.astype(np.int8),
        timestamp=None if times is None else times.astype(np.int64),
        source="conversation",
        line=None,
    )


# The refresh ----------------------------------------------------------------------


def map_is_stale(conversation: Conversation) -> bool:
    """Whether votes or statement changes arrived since the stored map (two queries)."""
    stored = (
        ConversationMap.objects.filter(conversation=conversation)
        .values("through_event", "statements_version", "mode")
        .first()
    )
    if stored is None:
        return True
    return (
        stored["statements_version"] != conversation.statements_version
        or stored["mode"] != conversation.engine_mode
        or _latest_event(conversation.pk) > stored["through_event"]
    )


def _lock_key(conversation_id: int) -> str:
    return f"conversations:map-lock:{conversation_id}"


def _latest_event(conversation_id: int) -> int:
    latest = VoteEvent.objects.filter(conversation_id=conversation_id).aggregate(
        latest=Max("id")
    )["latest"]
    return int(latest or 0)


def _first_recent_event(conversation_id: int, since_ms: int) -> int:
    """One below the first history row newer than ``since_ms`` (re-read from there)."""
    first = (
        VoteEvent.objects.filter(conversation_id=conversation_id, at_ms__gte=since_ms)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    return int(first) - 1 if first is not None else _latest_event(conversation_id)


def _params(conversation: Conversation) -> dict[str, Any]:
    return {"seed": int(conversation.seed)}


def _cold(
    conversation: Conversation, statements: StatementTable
) -> tuple[WarmMap, int]:
    """A map fitted from the database alone; also returns the last event included."""
    now_ms = clock.to_ms(clock.now())
    mode = conversation.engine_mode
    final = FinalState()
    stored = None
    if mode == EngineMode.POLIS:
        stored = (
            ConversationMap.objects.filter(conversation=conversation, mode=mode)
            .exclude(polis_state="")
            .values_list("polis_state", "through_event")
            .first()
        )
    if mode == EngineMode.POLIS and stored is None:
        # First Pol.is-mode map: replay the whole history as Pol.is saw it.
        rows = events_after(conversation.pk, 0)
        model = OpinionMap(mode="polis", replay=True, **_params(conversation))
        model.fit(
            vote_table(rows.participants, rows.statements, rows.values, rows.times),
            statements,
        )
        final.apply(rows.participants, rows.statements, rows.values)
        latest = int(rows.ids[-1]) if len(rows) else 0
        warm = WarmMap(
            _identity(conversation), model, final, latest, reread_from=latest
        )
        warm.statements_version = conversation.statements_version
        return warm, latest
    latest = _latest_event(conversation.pk)
    reread_from = _first_recent_event(
        conversation.pk, now_ms - int(REREAD_SECONDS * 1000)
    )
    participants, statement_numbers, values = final_votes_of(conversation.pk)
    final.apply(participants, statement_numbers, values)
    if mode == EngineMode.POLIS:
        assert stored is not None
        state_json, through = stored
        model = OpinionMap.from_state(
            PolisState.from_json(state_json), **_params(conversation)
        )
        warm = WarmMap(
            _identity(conversation),
            model,
            final,
            int(through),
            reread_from=int(through),
        )
        return warm, int(through)
    model = OpinionMap(mode="improved", **_params(conversation))
    model.fit(vote_table(participants, statement_numbers, values), statements)
    warm = WarmMap(
        _identity(conversation),
        model,
        final,
        latest,
        reread_from=min(reread_from, latest),
    )
    warm.statements_version = conversation.statements_version
    return warm, latest


@dataclass(frozen=True)
class RefreshReport:
    conversation_id: int
    through_event: int
    votes: int
    participants: int
    k: int
    seconds: float
    warm: bool
    skipped: bool = False


def map_refresh(*, conversation_id: int, force: bool = False) -> RefreshReport | None:
    """Bring the conversation's stored map up to date with every vote so far.

    Returns None when another run holds the lock (it will see these votes, or queue
    another run) or the conversation is gone.
    """
    if not cache.add(_lock_key(conversation_id), 1, timeout=LOCK_SECONDS):
        return None
    try:
        report = _refresh(conversation_id, force)
    finally:
        cache.delete(_lock_key(conversation_id))
        cache.delete(_queued_key(conversation_id))
    if (
        report is not None
        and not report.skipped
        and _latest_event(conversation_id) > report.through_event
    ):
        map_refresh_soon(conversation_id, now_if_idle=True)
    return report


def _refresh(conversation_id: int, force: bool) -> RefreshReport | None:
    started = time.perf_counter()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    stored = (
        ConversationMap.objects.filter(conversation=conversation)
        .values("through_event", "statements_version", "mode")
        .first()
    )
    latest = _latest_event(conversation_id)
    if (
        not force
        and stored is not None
        and stored["through_event"] == latest
        and stored["statements_version"] == conversation.statements_version
        and stored["mode"] == conversation.engine_mode
    ):
        return RefreshReport(conversation_id, latest, 0, 0, 0, 0.0, False, True)
    statements = statement_table(conversation_id)
    version = conversation.statements_version
    warm = None if force else _warm_get(conversation)
    was_warm = warm is not None
    if warm is not None and latest < warm.through_event:
        warm = None  # history rolled back under us (tests): start again
        was_warm = False
    if warm is None:
        warm, _through = _cold(conversation, statements)
    now_ms = clock.to_ms(clock.now())
    start = warm.start_event(now_ms)
    rows = events_after(conversation_id, start)
    through = max(warm.through_event, int(rows.ids[-1]) if len(rows) else 0)
    batch = vote_table(
        rows.participants,
        rows.statements,
        rows.values,
        rows.times if conversation.engine_mode == EngineMode.POLIS else None,
    )
    if (
        len(rows)
        or warm.statements_version != version
        or not hasattr(warm.model, "result_")
    ):
        warm.model.partial_fit(batch, statements)
    warm.statements_version = version
    warm.final.apply(rows.participants, rows.statements, rows.values)
    warm.through_event = through
    warm.reads.append((now_ms, through))
    _warm_put(conversation, warm)
    result: OpinionResult = warm.model.result_
    page, positions = map_page.build_page(
        result, warm.final.final_votes(), _points(warm.model)
    )
    state = ""
    if conversation.engine_mode == EngineMode.POLIS:
        polis_state = warm.model.state_
        assert isinstance(polis_state, PolisState)
        state = polis_state.to_json()
    seconds = time.perf_counter() - started
    _store(
        conversation,
        result=result,
        page=page,
        positions=positions,
        state=state,
        through=through,
        version=version,
        seconds=seconds,
    )
    return RefreshReport(
        conversation_id=conversation_id,
        through_event=through,
        votes=int(page["votes"]),
        participants=int(page["participants"]),
        k=result.k,
        seconds=seconds,
        warm=was_warm,
    )


def _points(model: OpinionMap) -> map_page.Points:
    """The fitted map's participants as arrays (the estimator already holds them)."""
    embedding = np.asarray(model.embedding_, dtype=np.float64).reshape(-1, 2)
    return map_page.Points(
        numbers=np.asarray(model.participant_ids_, dtype=np.int64),
        x=embedding[:, 0],
        y=embedding[:, 1],
        group=np.asarray(model.labels_, dtype=np.int64),
    )


def _store(
    conversation: Conversation,
    *,
    result: OpinionResult,
    page: dict[str, Any],
    positions: bytes,
    state: str,
    through: int,
    version: int,
    seconds: float,
) -> None:
    # Every point is in ``positions``: the JSON leaves the participants out.
    engine = replace(result, participants=()).to_dict()
    engine.pop("participants", None)
    priorities = [
        (int(point.id), float(point.priority))
        for point in result.statements
        if point.priority is not None
    ]
    with transaction.atomic():
        current = (
            ConversationMap.objects.select_for_update()
            .filter(conversation=conversation)
            .values("through_event", "statements_version", "mode")
            .first()
        )
        if (
            current is not None
            and current["mode"] == conversation.engine_mode
            and current["statements_version"] == version
            and current["through_event"] > through
        ):
            return  # another run stored a later map
        ConversationMap.objects.update_or_create(
            conversation=conversation,
            defaults={
                "mode": conversation.engine_mode,
                "computed_at": clock.now(),
                "through_event": through,
                "statements_version": version,
                "votes": int(page["votes"]),
                "participants": int(page["participants"]),
                "groups": int(result.k),
                "duration_ms": int(seconds * 1000),
                "result_json": json.dumps(engine, ensure_ascii=False),
                "page_json": json.dumps(page, ensure_ascii=False),
                "positions": positions,
                "polis_state": state,
            },
        )
        _write_priorities(conversation.pk, priorities)


PRIORITIES_SQL = """
UPDATE conversations_statement s
SET priority = v.priority + CASE WHEN s.is_seed THEN %s ELSE 0 END
FROM unnest(%s::integer[], %s::double precision[]) AS v(number, priority)
WHERE s.conversation_id = %s AND s.number = v.number"""


def _write_priorities(
    conversation_id: int, priorities: list[tuple[int, float]]
) -> None:
    """Each statement's priority from the map: one statement on PostgreSQL."""
    if not priorities:
        return
    if connection.vendor == "postgresql":
        numbers = [number for number, _ in priorities]
        values = [priority for _, priority in priorities]
        with connection.cursor() as cursor:
            cursor.execute(
                PRIORITIES_SQL, [SEED_PRIORITY, numbers, values, conversation_id]
            )
        return
    by_number = dict(priorities)
    statements = list(
        Statement.objects.filter(
            conversation_id=conversation_id, number__in=list(by_number)
        ).only("pk", "number", "is_seed")
    )
    for statement in statements:
        boost = SEED_PRIORITY if statement.is_seed else 0.0
        statement.priority = by_number[statement.number] + boost
    Statement.objects.bulk_update(statements, ["priority"], batch_size=500)
