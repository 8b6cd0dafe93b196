"""The vote matrix of the ``improved`` mode (spec §3, §5.1).

Canonical order and last-vote-wins without a Python-level pass over votes:
one ``np.sort`` of a packed 64-bit key (participant rank, statement rank,
arrival rank) when it fits, else ``np.lexsort``.  The result is independent
of the order of the input rows (only the arrival order of duplicate votes
matters, by timestamp then source position).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .._data import VoteTable, canonical_order

ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])

__all__ = [
    "CanonicalVotes",
    "MatrixMemo",
    "canonical_votes",
    "canonical_votes_memo",
    "centred_matrix",
    "fast_canonical_order",
]


def fast_canonical_order(ids: Sequence[str]) -> NDArray[np.intp]:
    """Same permutation as :func:`canonical_order`, vectorised for decimal ids."""
    n = len(ids)
    if n and all(len(s) <= 18 and s.isascii() and s.isdecimal() for s in ids):
        values = np.array(ids).astype(np.int64)
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        if not (ordered[1:] == ordered[:-1]).any():
            return order.astype(np.intp, copy=False)
    return canonical_order(ids)


@dataclass(frozen=True, slots=True, eq=False)
class CanonicalVotes:
    """Final votes sorted by (row, col); rows and columns in canonical order."""

    participant_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    row: NDArray[np.int32]
    col: NDArray[np.int32]
    vote: NDArray[np.int8]


def _winners(
    cells: NDArray[np.int64], timestamp: NDArray[np.int64] | None, span: int
) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """Sorted distinct cells and, for each, the row of its last vote.

    Rows are ordered by (timestamp, position); ``cells`` is consumed.
    """
    n = len(cells)
    arrival: NDArray[np.int64] | None = None
    by_arrival: NDArray[np.intp] | None = None
    if timestamp is not None:
        by_arrival = np.argsort(timestamp, kind="stable")
        arrival = np.empty(n, dtype=np.int64)
        arrival[by_arrival] = np.arange(n)
    key_bits = max(span - 1, 1).bit_length()
    position_bits = max(n - 1, 1).bit_length()
    if key_bits + position_bits <= 63:
        key = cells
        key <<= position_bits
        key |= np.arange(n, dtype=np.int64) if arrival is None else arrival
        key.sort()
        cell = key >> position_bits
        last = np.empty(n, dtype=bool)
        last[:-1] = cell[1:] != cell[:-1]
        last[-1:] = True
        winners = key[last]
        winners &= (1 << position_bits) - 1
        cell = cell[last]
        rows: NDArray[np.intp] = (
            winners if by_arrival is None else by_arrival[winners]
        ).astype(np.intp, copy=False)
        return cell, rows
    secondary = np.arange(n) if arrival is None else arrival
    sorter = np.lexsort((secondary, cells))
    sorted_key = cells[sorter]
    last = np.empty(n, dtype=bool)
    last[:-1] = sorted_key[1:] != sorted_key[:-1]
    last[-1:] = True
    return sorted_key[last], sorter[last]


def _used_order(ids: Sequence[str], codes: NDArray[np.int32]) -> NDArray[np.intp]:
    used = np.zeros(len(ids), dtype=bool)
    used[codes] = True
    order = fast_canonical_order(ids)
    return order[used[order]]


def _ranks(order: NDArray[np.intp], size: int) -> NDArray[np.int64]:
    rank = np.zeros(size, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def canonical_votes(votes: VoteTable) -> CanonicalVotes:
    """Last vote wins per (participant, statement); canonical row/column order."""
    return canonical_votes_memo(votes, None)[0]


@dataclass(frozen=True, slots=True, eq=False)
class MatrixMemo:
    """What :func:`canonical_votes_memo` needs to extend a previous result."""

    table: VoteTable
    p_order: NDArray[np.intp]
    s_order: NDArray[np.intp]
    final: CanonicalVotes
    last_time: int | None


def _extends(votes: VoteTable, memo: MatrixMemo) -> bool:
    """True when ``votes`` is the memo's table followed by later rows."""
    old = memo.table
    n = len(old)
    if len(votes) < n or (votes.timestamp is None) != (old.timestamp is None):
        return False
    if votes.participant_ids[: len(old.participant_ids)] != old.participant_ids:
        return False
    if votes.statement_ids[: len(old.statement_ids)] != old.statement_ids:
        return False
    for new_array, old_array in (
        (votes.participant, old.participant),
        (votes.statement, old.statement),
        (votes.vote, old.vote),
        (votes.timestamp, old.timestamp),
    ):
        if (
            old_array is not None
            and new_array is not None
            and not np.array_equal(new_array[:n], old_array)
        ):
            return False
    if votes.timestamp is not None and memo.last_time is not None and len(votes) > n:
        return int(votes.timestamp[n:].min()) >= memo.last_time
    return True


def canonical_votes_memo(
    votes: VoteTable, memo: MatrixMemo | None
) -> tuple[CanonicalVotes, MatrixMemo]:
    """:func:`canonical_votes`, reusing ``memo`` when ``votes`` only adds rows.

    The incremental path re-ranks the previous winners (canonical order may
    gain ids anywhere), resolves the new rows among themselves, and merges
    them into the sorted cells: the same arrays as a fresh computation.
    """
    last_time = (
        int(votes.timestamp.max())
        if votes.timestamp is not None and len(votes)
        else None
    )
    if memo is not None and len(memo.table) and _extends(votes, memo):
        final, p_order, s_order = _merge(votes, memo)
    else:
        p_order = _used_order(votes.participant_ids, votes.participant)
        s_order = _used_order(votes.statement_ids, votes.statement)
        cols = max(len(s_order), 1)
        cells = _ranks(p_order, len(votes.participant_ids))[votes.participant]
        cells *= cols
        cells += _ranks(s_order, len(votes.statement_ids))[votes.statement]
        cell, rows = _winners(cells, votes.timestamp, len(p_order) * cols)
        del cells
        final = CanonicalVotes(
            participant_ids=tuple(votes.participant_ids[i] for i in p_order.tolist()),
            statement_ids=tuple(votes.statement_ids[i] for i in s_order.tolist()),
            row=(cell // cols).astype(np.int32),
            col=(cell % cols).astype(np.int32),
            vote=votes.vote[rows],
        )
    return final, MatrixMemo(votes, p_order, s_order, final, last_time)


def _insert(array: ArrayT, at: NDArray[np.intp], values: ArrayT) -> ArrayT:
    """``np.insert`` for a few sorted positions: one copy of ``array``."""
    if len(at) == 0:
        return array
    pieces: list[np.ndarray[Any, Any]] = []
    start = 0
    for position, value in zip(at.tolist(), np.split(values, len(values)), strict=True):
        pieces.append(array[start:position])
        pieces.append(value)
        start = position
    pieces.append(array[start:])
    result: ArrayT = np.concatenate(pieces)
    return result


def _merge(
    votes: VoteTable, memo: MatrixMemo
) -> tuple[CanonicalVotes, NDArray[np.intp], NDArray[np.intp]]:
    n = len(memo.table)
    new_p = votes.participant[n:]
    new_s = votes.statement[n:]
    old = memo.final

    def order_of(
        ids: tuple[str, ...], old_order: NDArray[np.intp], codes: NDArray[np.int32]
    ) -> tuple[NDArray[np.intp], NDArray[np.int64] | None]:
        used = np.zeros(len(ids), dtype=bool)
        used[old_order] = True
        fresh = not used[codes].all()
        if not fresh:
            return old_order, None
        used[codes] = True
        full = fast_canonical_order(ids)
        order = full[used[full]]
        remap = _ranks(order, len(ids))[old_order]
        identity = bool((remap == np.arange(len(old_order))).all())
        return order, None if identity else remap

    p_order, p_remap = order_of(votes.participant_ids, memo.p_order, new_p)
    s_order, s_remap = order_of(votes.statement_ids, memo.s_order, new_s)
    cols = max(len(s_order), 1)
    row = old.row if p_remap is None else p_remap[old.row].astype(np.int32)
    col = old.col if s_remap is None else s_remap[old.col].astype(np.int32)
    old_cells = row.astype(np.int64) * cols
    old_cells += col
    batch = _ranks(p_order, len(votes.participant_ids))[new_p] * cols
    batch += _ranks(s_order, len(votes.statement_ids))[new_s]
    timestamp = None if votes.timestamp is None else votes.timestamp[n:]
    batch_cells, batch_rows = _winners(batch, timestamp, len(p_order) * cols)
    batch_votes = votes.vote[n:][batch_rows]
    where = np.searchsorted(old_cells, batch_cells)
    hit = where < len(old_cells)
    hit[hit] = old_cells[where[hit]] == batch_cells[hit]
    vote = old.vote.copy()
    vote[where[hit]] = batch_votes[hit]
    miss = ~hit
    insert_at = where[miss]
    inserted = batch_cells[miss]
    final = CanonicalVotes(
        participant_ids=tuple(votes.participant_ids[i] for i in p_order.tolist()),
        statement_ids=tuple(votes.statement_ids[i] for i in s_order.tolist()),
        row=_insert(row, insert_at, (inserted // cols).astype(np.int32)),
        col=_insert(col, insert_at, (inserted % cols).astype(np.int32)),
        vote=_insert(vote, insert_at, batch_votes[miss]),
    )
    return final, p_order, s_order


def centred_matrix(
    row: NDArray[np.int32],
    col: NDArray[np.int32],
    vote: NDArray[np.int8],
    shape: tuple[int, int],
    *,
    column_sums: NDArray[np.int64] | None = None,
    column_counts: NDArray[np.int64] | None = None,
    row_counts: NDArray[np.int64] | None = None,
) -> tuple[sparse.csr_array, NDArray[np.float64]]:
    """Z with z_ij = v_ij − μ_j on voted cells (CSR, float64) and the means μ.

    ``row``/``col`` must be sorted by (row, col); no copy of them is kept
    beyond what CSR needs.  Per-column vote sums and counts and per-row counts
    may be passed in when the caller has them (they are integers, so the
    means are the same either way).
    """
    n_rows, n_cols = shape
    if column_sums is None or column_counts is None:
        column_sums = np.bincount(col, weights=vote, minlength=n_cols).astype(np.int64)
        column_counts = np.bincount(col, minlength=n_cols)
    if row_counts is None:
        row_counts = np.bincount(row, minlength=n_rows)
    mean = column_sums / np.maximum(column_counts, 1)
    data = vote.astype(np.float64)
    data -= mean[col]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    matrix = sparse.csr_array((data, col, indptr), shape=shape)
    return matrix, mean
