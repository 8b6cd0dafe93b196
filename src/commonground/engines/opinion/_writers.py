"""Writer of a Pol.is openData export folder, in Pol.is's current layout (§2.3).

The layout is the one Pol.is publishes today (compdemocracy/openData, 2024):

- ``comments.csv``: ``timestamp,comment-id,author-id,agrees,disagrees,moderated,
  is-meta,is-seed,group-informed-consensus,comment-body``;
- ``votes.csv``: ``timestamp,datetime,comment-id,voter-id,vote``, every vote row
  (re-votes included), written only when the votes have timestamps;
- ``participants-votes.csv``: ``participant,xid,group-id,n-comments,n-votes,
  n-agree,n-disagree`` then one column per comment id, the final votes;
- ``summary.csv``: ``key,value`` rows.

The files are a function of the tables alone (rows in a fixed order, ``\\n``
line ends, UTF-8 without BOM, a field quoted only when it holds a comma, a
quote or a line break), so that reading them back gives equal tables and
writing those again gives the same bytes.  docs/opinion-fidelity.md
("Pol.is export layouts") lists the choices.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._data import StatementTable, VoteTable, canonical_order

__all__ = ["write_polis_export"]

COMMENTS_HEADER = (
    "timestamp",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "is-meta",
    "is-seed",
    "group-informed-consensus",
    "comment-body",
)
VOTES_HEADER = ("timestamp", "datetime", "comment-id", "voter-id", "vote")
MATRIX_PREFIX = (
    "participant",
    "xid",
    "group-id",
    "n-comments",
    "n-votes",
    "n-agree",
    "n-disagree",
)
SUMMARY_KEYS = (
    "topic",
    "url",
    "views",
    "voters",
    "voters-in-conv",
    "commenters",
    "comments",
    "groups",
    "conversation-description",
)
VOTE_TEXT = {1: "1", -1: "-1", 0: "0"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def write_polis_export(
    directory: str | os.PathLike[str],
    *,
    votes: VoteTable,
    statements: StatementTable,
    summary: Mapping[str, str] | None = None,
    groups: Mapping[str, int] | None = None,
) -> None:
    """Write ``votes`` and ``statements`` as a Pol.is openData folder.

    Creates ``directory`` if needed and overwrites the four files.  Without
    timestamps there is no vote log: ``votes.csv`` is not written (a stale one
    is removed, as it would be read instead of the matrix).  ``summary`` gives
    ``summary.csv`` rows; ``voters``, ``voters-in-conv``, ``comments`` and, when
    known, ``commenters`` and ``groups`` are counted from the tables unless
    given.  ``groups`` maps participant ids to the ``group-id`` column (blank
    otherwise).  ``xid`` and ``group-informed-consensus`` are left blank.
    Raises ``ValueError`` for a statement id the matrix header cannot carry.

    >>> import tempfile
    >>> from commonground.engines.opinion import read_polis_export
    >>> votes = VoteTable.from_records([("7", "0", 1, 1500000000000)])
    >>> statements = StatementTable.from_records([("0", 1, False, "Hello")])
    >>> folder = tempfile.mkdtemp()
    >>> write_polis_export(folder, votes=votes, statements=statements)
    >>> again, _ = read_polis_export(folder)
    >>> again.participant_ids, again.vote.tolist()
    (('7',), [1])
    """
    for sid in votes.statement_ids:
        if sid in MATRIX_PREFIX or not sid:
            raise ValueError(f"statement id {sid!r} cannot be a Pol.is matrix column")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    s_rank = _ranks(votes.statement_ids)
    p_rank = _ranks(votes.participant_ids)
    _write(folder / "comments.csv", _comment_lines(votes, statements))
    log = folder / "votes.csv"
    if votes.timestamp is not None:
        _write(log, _vote_lines(votes, votes.timestamp, s_rank, p_rank))
    elif log.exists():
        log.unlink()
    rows, lines = _matrix_lines(votes, statements, groups, s_rank, p_rank)
    _write(folder / "participants-votes.csv", lines)
    _write(
        folder / "summary.csv",
        _summary_lines(votes, statements, summary, groups, rows),
    )


def _field(text: str) -> str:
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _line(fields: Iterable[str]) -> str:
    return ",".join(_field(f) for f in fields)


def _write(path: Path, lines: Iterable[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), "utf-8", newline="")


def _ranks(ids: tuple[str, ...]) -> NDArray[np.int64]:
    """Position of each id in canonical order (spec §3)."""
    rank = np.empty(len(ids), dtype=np.int64)
    rank[canonical_order(ids)] = np.arange(len(ids))
    return rank


def _datetime_text(milliseconds: int) -> str:
    """Java's ``Date.toString`` in UTC, as Pol.is writes ``datetime``."""
    try:
        moment = _EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError:
        return ""
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} UTC {moment.year}"
    )


def _vote_lines(
    votes: VoteTable,
    timestamp: NDArray[np.int64],
    s_rank: NDArray[np.int64],
    p_rank: NDArray[np.int64],
) -> list[str]:
    """Every vote row by (comment id, voter id, time, row), as Pol.is sorts."""
    order = np.lexsort(
        (
            np.arange(len(votes)),
            timestamp,
            p_rank[votes.participant],
            s_rank[votes.statement],
        )
    )
    p_ids, s_ids = votes.participant_ids, votes.statement_ids
    participant = votes.participant[order].tolist()
    statement = votes.statement[order].tolist()
    vote = votes.vote[order].tolist()
    times = timestamp[order].tolist()
    dates: dict[int, str] = {}
    lines = [",".join(VOTES_HEADER)]
    for p, s, v, t in zip(participant, statement, vote, times, strict=True):
        second = t // 1000
        date = dates.get(second)
        if date is None:
            date = dates[second] = _datetime_text(second * 1000)
        lines.append(
            f"{t},{_field(date)},{_field(s_ids[s])},{_field(p_ids[p])},{VOTE_TEXT[v]}"
        )
    return lines


def _comment_lines(votes: VoteTable, statements: StatementTable) -> list[str]:
    """One row per statement in canonical id order; ``agrees``/``disagrees``
    count vote rows, re-votes included (as Pol.is does)."""
    n_s = len(votes.statement_ids)
    agrees = np.bincount(votes.statement[votes.vote == 1], minlength=n_s).tolist()
    disagrees = np.bincount(votes.statement[votes.vote == -1], minlength=n_s).tolist()
    column = {sid: j for j, sid in enumerate(votes.statement_ids)}
    created = None if statements.created is None else statements.created.tolist()
    moderated = statements.moderated.tolist()
    meta = statements.is_meta.tolist()
    seed = statements.is_seed.tolist()
    lines = [",".join(COMMENTS_HEADER)]
    for i in canonical_order(statements.ids).tolist():
        sid = statements.ids[i]
        j = column.get(sid)
        lines.append(
            _line(
                (
                    "" if created is None else str(created[i]),
                    sid,
                    statements.author[i] or "",
                    "0" if j is None else str(agrees[j]),
                    "0" if j is None else str(disagrees[j]),
                    str(moderated[i]),
                    "true" if meta[i] else "false",
                    "true" if seed[i] else "false",
                    "",
                    statements.text[i] or "",
                )
            )
        )
    return lines


def _final_votes(
    votes: VoteTable,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]:
    """(participant, statement, vote) codes after last-vote-wins (spec §3)."""
    n_s = max(len(votes.statement_ids), 1)
    key = votes.participant.astype(np.int64) * n_s + votes.statement
    position = np.arange(len(votes))
    if votes.timestamp is None:
        order = np.lexsort((position, key))
    else:
        order = np.lexsort((position, votes.timestamp, key))
    sorted_key = key[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sorted_key[1:] != sorted_key[:-1]
    winners = order[last]
    return votes.participant[winners], votes.statement[winners], votes.vote[winners]


def _matrix_lines(
    votes: VoteTable,
    statements: StatementTable,
    groups: Mapping[str, int] | None,
    s_rank: NDArray[np.int64],
    p_rank: NDArray[np.int64],
) -> tuple[list[int], list[str]]:
    """(participant codes in row order, lines) of ``participants-votes.csv``.

    Columns: every statement of the table in canonical order.  Rows: each
    participant where first met in the vote log sorted by (comment id, voter
    id), which is Pol.is's order; participants without a vote last.
    """
    n_p, n_s = len(votes.participant_ids), len(votes.statement_ids)
    participant, statement, vote = _final_votes(votes)
    column = s_rank[statement]
    first = np.full(n_p, n_s, dtype=np.int64)
    np.minimum.at(first, participant, column)
    rows = np.lexsort((p_rank, first)).tolist()
    n_votes = np.bincount(participant, minlength=n_p).tolist()
    n_agree = np.bincount(participant[vote == 1], minlength=n_p).tolist()
    n_disagree = np.bincount(participant[vote == -1], minlength=n_p).tolist()
    authored = Counter(a for a in statements.author if a is not None)
    by_participant = np.argsort(participant, kind="stable")
    starts = np.concatenate(([0], np.cumsum(n_votes))).tolist()
    cells_column = column[by_participant].tolist()
    cells_vote = vote[by_participant].tolist()
    header_ids = [votes.statement_ids[j] for j in canonical_order(votes.statement_ids)]
    lines = [_line((*MATRIX_PREFIX, *header_ids))]
    for p in rows:
        pid = votes.participant_ids[p]
        group = None if groups is None else groups.get(pid)
        cells = [""] * n_s
        for k in range(starts[p], starts[p + 1]):
            cells[cells_column[k]] = VOTE_TEXT[cells_vote[k]]
        counts = (authored.get(pid, 0), n_votes[p], n_agree[p], n_disagree[p])
        lines.append(
            ",".join(
                (
                    _field(pid),
                    "",
                    "" if group is None else str(int(group)),
                    *(str(c) for c in counts),
                    *cells,
                )
            )
        )
    return rows, lines


def _summary_lines(
    votes: VoteTable,
    statements: StatementTable,
    summary: Mapping[str, str] | None,
    groups: Mapping[str, int] | None,
    rows: list[int],
) -> list[str]:
    """Pol.is's keys in Pol.is's order, then the caller's other keys."""
    voters = str(len(np.unique(votes.participant)))
    counted: dict[str, str] = {
        "voters": voters,
        "voters-in-conv": voters,
        "comments": str(len(np.unique(votes.statement))),
    }
    authors = {a for a in statements.author if a is not None}
    if authors:
        counted["commenters"] = str(len(authors))
    if groups is not None:
        written = (groups.get(votes.participant_ids[p]) for p in rows)
        counted["groups"] = str(len({int(g) for g in written if g is not None}))
    given = dict(summary or {})
    lines = []
    for key in SUMMARY_KEYS:
        value = given.pop(key, counted.get(key))
        if value is not None:
            lines.append(_line((key, value)))
    lines.extend(_line((key, value)) for key, value in given.items())
    return lines
