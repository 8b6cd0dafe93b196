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

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ._data import VoteTable, canonical_order

__all__ = [
    "CanonicalVotes",
    "canonical_votes",
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


def canonical_votes(votes: VoteTable) -> CanonicalVotes:
    """Last vote wins per (participant, statement); canonical row/column order."""
    n_p = len(votes.participant_ids)
    n_s = len(votes.statement_ids)
    used_p = np.zeros(n_p, dtype=bool)
    used_p[votes.participant] = True
    used_s = np.zeros(n_s, dtype=bool)
    used_s[votes.statement] = True
    p_all = fast_canonical_order(votes.participant_ids)
    s_all = fast_canonical_order(votes.statement_ids)
    p_order = p_all[used_p[p_all]]
    s_order = s_all[used_s[s_all]]
    rows = len(p_order)
    cols = max(len(s_order), 1)
    p_rank = np.zeros(n_p, dtype=np.int64)
    p_rank[p_order] = np.arange(rows)
    s_rank = np.zeros(n_s, dtype=np.int64)
    s_rank[s_order] = np.arange(len(s_order))
    n = len(votes)
    arrival: NDArray[np.int64] | None = None
    by_arrival: NDArray[np.intp] | None = None
    if votes.timestamp is not None:
        by_arrival = np.argsort(votes.timestamp, kind="stable")
        arrival = np.empty(n, dtype=np.int64)
        arrival[by_arrival] = np.arange(n)
    key_bits = max(rows * cols - 1, 1).bit_length()
    position_bits = max(n - 1, 1).bit_length()
    key = p_rank[votes.participant]
    key *= cols
    key += s_rank[votes.statement]
    del p_rank, s_rank
    if key_bits + position_bits <= 63:
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
        if by_arrival is not None:
            winners = by_arrival[winners]
    else:
        secondary = np.arange(n) if arrival is None else arrival
        sorter = np.lexsort((secondary, key))
        sorted_key = key[sorter]
        last = np.empty(n, dtype=bool)
        last[:-1] = sorted_key[1:] != sorted_key[:-1]
        last[-1:] = True
        winners = sorter[last]
        cell = sorted_key[last]
    del key
    return CanonicalVotes(
        participant_ids=tuple(votes.participant_ids[i] for i in p_order.tolist()),
        statement_ids=tuple(votes.statement_ids[i] for i in s_order.tolist()),
        row=(cell // cols).astype(np.int32),
        col=(cell % cols).astype(np.int32),
        vote=votes.vote[winners],
    )


def centred_matrix(
    row: NDArray[np.int32],
    col: NDArray[np.int32],
    vote: NDArray[np.int8],
    shape: tuple[int, int],
) -> tuple[sparse.csr_array, NDArray[np.float64]]:
    """Z with z_ij = v_ij − μ_j on voted cells (CSR, float64) and the means μ.

    ``row``/``col`` must be sorted by (row, col); no copy of them is kept
    beyond what CSR needs.
    """
    n_rows, n_cols = shape
    data = vote.astype(np.float64)
    sums = np.bincount(col, weights=data, minlength=n_cols)
    counts = np.bincount(col, minlength=n_cols)
    mean = sums / np.maximum(counts, 1)
    data -= mean[col]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    matrix = sparse.csr_array((data, col, indptr), shape=shape)
    return matrix, mean
