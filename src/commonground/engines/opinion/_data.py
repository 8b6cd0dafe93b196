"""Input data of the opinion engine: vote and statement tables, input errors.

Votes are dictionary-encoded (``int32`` codes into tuples of id strings) so that
50 million votes fit in memory.  Both modes reduce a :class:`VoteTable` to the
final (last-vote-wins) votes with :func:`final_votes`, in *encounter* order
(``polis`` mode) or *canonical* order (``improved`` mode), spec §3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FinalVotes",
    "OpinionInputError",
    "OpinionInputWarning",
    "StatementTable",
    "VoteTable",
    "arrival_order",
    "canonical_order",
    "concat_votes",
    "final_votes",
    "parse_timestamp",
    "parse_vote",
]

VOTE_WORDS = {
    "1": 1,
    "agree": 1,
    "-1": -1,
    "disagree": -1,
    "0": 0,
    "pass": 0,
}


class OpinionInputError(ValueError):
    """Bad input: ``str()`` is ``PATH:LINE: FIELD: MESSAGE`` (spec §2.5).

    ``line`` is the 1-based line of a CSV file (1 = header) or ``"item N"`` for
    the N-th element (0-based) of a JSON array or of in-memory records.
    """

    def __init__(self, path: str, line: int | str, field: str, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(f"{self.path}:{line}: {field}: {message}")


class OpinionInputWarning(UserWarning):
    """Input read with a remark, e.g. an unknown column that was ignored.

    ``str()`` is ``PATH:LINE: FIELD: MESSAGE`` as for :class:`OpinionInputError`;
    filter it with ``warnings.filterwarnings("ignore", category=OpinionInputWarning)``.
    """

    def __init__(self, path: str, line: int | str, field: str, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(f"{self.path}:{line}: {field}: {message}")

    def __reduce__(
        self,
    ) -> tuple[type[OpinionInputWarning], tuple[str, int | str, str, str]]:
        return (type(self), (self.path, self.line, self.field, self.message))


def parse_vote(text: object) -> int | None:
    """+1, -1 or 0 for an accepted vote value (spec §2.1), else None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, np.integer)):
        value = int(text)
        return value if value in (-1, 0, 1) else None
    if isinstance(text, float):
        return int(text) if text in (-1.0, 0.0, 1.0) else None
    if isinstance(text, str):
        return VOTE_WORDS.get(text)
    return None


def parse_timestamp(text: object) -> int:
    """Milliseconds since the epoch from an integer or ISO 8601 text with offset.

    Raises ``ValueError`` with a short message for anything else (naive times
    included).
    """
    if isinstance(text, bool):
        raise ValueError(f"not a timestamp: {text!r}")
    if isinstance(text, (int, np.integer)):
        return int(text)
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")) or text != int(text):
            raise ValueError(f"not an integer number of milliseconds: {text!r}")
        return int(text)
    if not isinstance(text, str) or not text:
        raise ValueError(f"not a timestamp: {text!r}")
    stripped = text.strip()
    if stripped.lstrip("-").isdecimal():
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(
            f"not integer milliseconds or ISO 8601 with an offset: {text!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime (no UTC offset): {text!r}")
    seconds = moment.timestamp()
    return int(round(seconds * 1000))


@dataclass(frozen=True, slots=True, eq=False)
class VoteTable:
    """Vote rows, dictionary-encoded, in source order (spec §6).

    ``participant[i]`` and ``statement[i]`` are codes into ``participant_ids``
    and ``statement_ids``; ``vote[i]`` is +1 agree, -1 disagree, 0 pass;
    ``timestamp`` (ms) is None when the source has no times (then row order is
    arrival order); ``line`` is the source line (or item index) of each row.

    >>> t = VoteTable.from_records([("a", "s1", 1, 10), ("b", "s1", -1, 20)])
    >>> t.participant_ids, t.vote.tolist()
    (('a', 'b'), [1, -1])
    """

    participant_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    participant: NDArray[np.int32]
    statement: NDArray[np.int32]
    vote: NDArray[np.int8]
    timestamp: NDArray[np.int64] | None = None
    source: str = "records"
    line: NDArray[np.int32] | None = None
    path: str = ""

    def __post_init__(self) -> None:
        n = len(self.vote)
        if len(self.participant) != n or len(self.statement) != n:
            raise ValueError("participant, statement and vote must have equal length")
        if self.timestamp is not None and len(self.timestamp) != n:
            raise ValueError("timestamp must have one entry per vote")

    def __len__(self) -> int:
        return len(self.vote)

    @property
    def n_rows(self) -> int:
        """Number of vote rows read (before last-vote-wins)."""
        return len(self.vote)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Sequence[object]],
        *,
        source: str = "records",
        path: str = "<records>",
    ) -> VoteTable:
        """Build a table from ``(participant, statement, vote, timestamp)`` tuples.

        Ids are converted with ``str``; votes accept 1/-1/0 and
        agree/disagree/pass; timestamps are integer ms, ISO 8601 text with an
        offset, or None in every record.  Raises :class:`OpinionInputError`
        naming ``item N`` for a bad record.
        """
        p_index: dict[str, int] = {}
        s_index: dict[str, int] = {}
        p_codes: list[int] = []
        s_codes: list[int] = []
        values: list[int] = []
        times: list[int] = []
        has_time: bool | None = None
        for i, record in enumerate(records):
            where = f"item {i}"
            if len(record) not in (3, 4):
                raise OpinionInputError(
                    path,
                    where,
                    "record",
                    "expected (participant, statement, vote, timestamp)",
                )
            participant = "" if record[0] is None else str(record[0])
            statement = "" if record[1] is None else str(record[1])
            if not participant:
                raise OpinionInputError(path, where, "participant", "empty id")
            if not statement:
                raise OpinionInputError(path, where, "statement", "empty id")
            value = parse_vote(record[2])
            if value is None:
                raise OpinionInputError(
                    path,
                    where,
                    "vote",
                    f"{record[2]!r} is not one of 1, -1, 0, agree, disagree, pass",
                )
            stamp = record[3] if len(record) == 4 else None
            if stamp == "":
                stamp = None
            if has_time is None:
                has_time = stamp is not None
            elif has_time != (stamp is not None):
                raise OpinionInputError(
                    path,
                    where,
                    "timestamp",
                    "timestamps must be given in every record or in none",
                )
            if stamp is not None:
                try:
                    times.append(parse_timestamp(stamp))
                except ValueError as error:
                    raise OpinionInputError(
                        path, where, "timestamp", str(error)
                    ) from None
            p_codes.append(p_index.setdefault(participant, len(p_index)))
            s_codes.append(s_index.setdefault(statement, len(s_index)))
            values.append(value)
        n = len(values)
        return cls(
            participant_ids=tuple(p_index),
            statement_ids=tuple(s_index),
            participant=np.asarray(p_codes, dtype=np.int32),
            statement=np.asarray(s_codes, dtype=np.int32),
            vote=np.asarray(values, dtype=np.int8),
            timestamp=np.asarray(times, dtype=np.int64) if has_time else None,
            source=source,
            line=np.arange(n, dtype=np.int32),
            path=path,
        )

    @classmethod
    def empty(cls, *, source: str = "records", path: str = "") -> VoteTable:
        """A table without votes."""
        return cls(
            participant_ids=(),
            statement_ids=(),
            participant=np.zeros(0, dtype=np.int32),
            statement=np.zeros(0, dtype=np.int32),
            vote=np.zeros(0, dtype=np.int8),
            timestamp=None,
            source=source,
            line=None,
            path=path,
        )


@dataclass(frozen=True, slots=True, eq=False)
class StatementTable:
    """Statements with moderation (spec §2.2, §6).

    ``moderated`` is -1 rejected, 0 unmoderated, 1 accepted; a statement is
    *moderated out* iff ``moderated == -1`` or ``is_meta``.  The optional
    columns describe a statement for a Pol.is export and play no part in the
    maths: ``is_seed`` (posted by the moderator; all false when not given),
    ``author`` (the author's participant id, None when unknown; all None when
    not given) and ``created`` (ms since the epoch; None when unknown).
    """

    ids: tuple[str, ...]
    moderated: NDArray[np.int8]
    is_meta: NDArray[np.bool_]
    text: tuple[str | None, ...]
    is_seed: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))
    author: tuple[str | None, ...] = ()
    created: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.moderated) != n or len(self.is_meta) != n or len(self.text) != n:
            raise ValueError("ids, moderated, is_meta and text must have equal length")
        # An empty is_seed or author (the defaults) means "not given".
        if n and len(self.is_seed) == 0:
            object.__setattr__(self, "is_seed", np.zeros(n, dtype=np.bool_))
        if n and not self.author:
            object.__setattr__(self, "author", (None,) * n)
        if len(self.is_seed) != n or len(self.author) != n:
            raise ValueError("is_seed and author must have one entry per statement")
        if self.created is not None and len(self.created) != n:
            raise ValueError("created must have one entry per statement")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Sequence[object]],
        *,
        path: str = "<records>",
    ) -> StatementTable:
        """From ``(id, moderated, is_meta[, text])`` tuples."""
        ids: list[str] = []
        moderated: list[int] = []
        meta: list[bool] = []
        texts: list[str | None] = []
        seen: set[str] = set()
        for i, record in enumerate(records):
            where = f"item {i}"
            sid = "" if record[0] is None else str(record[0])
            if not sid:
                raise OpinionInputError(path, where, "statement", "empty id")
            if sid in seen:
                raise OpinionInputError(path, where, "statement", f"duplicate id {sid}")
            seen.add(sid)
            mod = record[1] if len(record) > 1 else 0
            if mod not in (-1, 0, 1) or isinstance(mod, bool):
                raise OpinionInputError(
                    path, where, "moderated", f"{mod!r} is not one of -1, 0, 1"
                )
            is_meta = bool(record[2]) if len(record) > 2 else False
            text = record[3] if len(record) > 3 else None
            ids.append(sid)
            moderated.append(int(mod))
            meta.append(is_meta)
            texts.append(None if text is None else str(text))
        return cls(
            ids=tuple(ids),
            moderated=np.asarray(moderated, dtype=np.int8),
            is_meta=np.asarray(meta, dtype=np.bool_),
            text=tuple(texts),
        )

    def moderated_out_ids(self) -> frozenset[str]:
        """Ids with ``moderated == -1`` or ``is_meta``."""
        out = (self.moderated == -1) | self.is_meta
        return frozenset(
            sid for sid, o in zip(self.ids, out.tolist(), strict=True) if o
        )

    def meta_ids(self) -> frozenset[str]:
        """Ids flagged as meta statements."""
        return frozenset(
            sid for sid, m in zip(self.ids, self.is_meta.tolist(), strict=True) if m
        )


def _numeric_key(ids: Sequence[str]) -> bool:
    return all(s.isascii() and s.isdecimal() for s in ids) and len(ids) > 0


def canonical_order(ids: Sequence[str]) -> NDArray[np.intp]:
    """Permutation putting ``ids`` in canonical order (spec §3).

    Numerically when every id is a decimal integer (equal values by text),
    else by Unicode code point.
    """
    if _numeric_key(ids):
        return np.asarray(
            sorted(range(len(ids)), key=lambda i: (int(ids[i]), ids[i])),
            dtype=np.intp,
        )
    return np.asarray(sorted(range(len(ids)), key=lambda i: ids[i]), dtype=np.intp)


def arrival_order(votes: VoteTable) -> NDArray[np.intp]:
    """Row permutation in arrival order: by (timestamp, source position)."""
    if votes.timestamp is None:
        return np.arange(len(votes), dtype=np.intp)
    return np.argsort(votes.timestamp, kind="stable")


@dataclass(frozen=True, slots=True, eq=False)
class FinalVotes:
    """Distinct votes after last-vote-wins, as matrix coordinates.

    ``row``/``col`` index ``participant_ids``/``statement_ids`` (which are in
    the requested order and hold only ids with at least one vote); the arrays
    are sorted by (row, col), ready for a CSR matrix.
    """

    participant_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    row: NDArray[np.int32]
    col: NDArray[np.int32]
    vote: NDArray[np.int8]

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.participant_ids), len(self.statement_ids))


def _first_appearance(codes: NDArray[np.int32], n_codes: int) -> NDArray[np.intp]:
    """Codes that occur, ordered by their first position in ``codes``."""
    first = np.full(n_codes, len(codes), dtype=np.int64)
    positions = np.arange(len(codes), dtype=np.int64)
    # Fancy assignment keeps the last write: reversed, that is the first index.
    first[codes[::-1]] = positions[::-1]
    present = np.flatnonzero(first < len(codes))
    return present[np.argsort(first[present], kind="stable")]


def final_votes(
    votes: VoteTable, order: Literal["canonical", "encounter", "table"]
) -> FinalVotes:
    """Apply last-vote-wins and order rows and columns (spec §3).

    ``encounter``: participants and statements by first appearance in arrival
    order (``polis`` mode).  ``canonical``: ids sorted numerically when all are
    decimal, else by code point (``improved`` mode).  ``table``: the order of
    the table's id tuples (a Pol.is matrix: file rows and columns).  Only ids
    with a vote are
    kept.  The winner of each (participant, statement) is its last row by
    (timestamp, source position).
    """
    n_p = len(votes.participant_ids)
    n_s = len(votes.statement_ids)
    if order == "encounter":
        arrival = arrival_order(votes)
        p_order = _first_appearance(votes.participant[arrival], n_p)
        s_order = _first_appearance(votes.statement[arrival], n_s)
    elif order in ("canonical", "table"):
        used_p = np.zeros(n_p, dtype=bool)
        used_p[votes.participant] = True
        used_s = np.zeros(n_s, dtype=bool)
        used_s[votes.statement] = True
        if order == "canonical":
            p_all = canonical_order(votes.participant_ids)
            s_all = canonical_order(votes.statement_ids)
        else:
            p_all = np.arange(n_p, dtype=np.intp)
            s_all = np.arange(n_s, dtype=np.intp)
        p_order = p_all[used_p[p_all]]
        s_order = s_all[used_s[s_all]]
    else:
        raise ValueError(f"unknown order {order!r}")
    p_rank = np.full(n_p, -1, dtype=np.int64)
    p_rank[p_order] = np.arange(len(p_order))
    s_rank = np.full(n_s, -1, dtype=np.int64)
    s_rank[s_order] = np.arange(len(s_order))
    n_cols = max(len(s_order), 1)
    key = p_rank[votes.participant] * n_cols + s_rank[votes.statement]
    if votes.timestamp is None:
        sorter = np.argsort(key, kind="stable")
    else:
        sorter = np.lexsort((votes.timestamp, key))
    sorted_key = key[sorter]
    last = np.ones(len(sorted_key), dtype=bool)
    if len(sorted_key) > 1:
        last[:-1] = sorted_key[1:] != sorted_key[:-1]
    winners = sorter[last]
    winner_key = sorted_key[last]
    return FinalVotes(
        participant_ids=tuple(votes.participant_ids[i] for i in p_order.tolist()),
        statement_ids=tuple(votes.statement_ids[i] for i in s_order.tolist()),
        row=(winner_key // n_cols).astype(np.int32),
        col=(winner_key % n_cols).astype(np.int32),
        vote=votes.vote[winners].astype(np.int8, copy=False),
    )


def concat_votes(first: VoteTable, second: VoteTable) -> VoteTable:
    """Rows of ``first`` then rows of ``second``, ids merged (first's codes kept).

    Timestamps are kept when both tables have them, else dropped (row order
    is then arrival order).
    """
    if len(first) == 0:
        return second
    if len(second) == 0:
        return first
    p_index = {pid: i for i, pid in enumerate(first.participant_ids)}
    s_index = {sid: i for i, sid in enumerate(first.statement_ids)}
    p_map = np.asarray(
        [p_index.setdefault(pid, len(p_index)) for pid in second.participant_ids],
        dtype=np.int32,
    )
    s_map = np.asarray(
        [s_index.setdefault(sid, len(s_index)) for sid in second.statement_ids],
        dtype=np.int32,
    )
    both_timed = first.timestamp is not None and second.timestamp is not None
    timestamp = (
        np.concatenate([first.timestamp, second.timestamp]) if both_timed else None
    )
    line = (
        np.concatenate([first.line, second.line])
        if first.line is not None and second.line is not None
        else None
    )
    return VoteTable(
        participant_ids=tuple(p_index),
        statement_ids=tuple(s_index),
        participant=np.concatenate(
            [first.participant, p_map[second.participant]]
        ).astype(np.int32, copy=False),
        statement=np.concatenate([first.statement, s_map[second.statement]]).astype(
            np.int32, copy=False
        ),
        vote=np.concatenate([first.vote, second.vote]).astype(np.int8, copy=False),
        timestamp=timestamp,
        source=first.source if len(first) else second.source,
        line=line,
        path=first.path or second.path,
    )
