"""Ballot papers grouped for fast transfers (IRV, Scottish STV, WIGM).

Distinct rankings are normalised once into an integer matrix of usable
preferences (``-1`` after the last one).  Papers are held in groups of
(ranking, position, value, weight); each candidate's pile is a list of such
groups as numpy arrays, so a stage touches only the transferring candidate's
papers.  Values are integers scaled by ``10**decimals``; every sum is an exact
int64 reduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._election import BallotTable, Election, grid_to_ranking, usable_preferences

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Preferences:
    """Usable preferences of the valid papers.

    ``matrix[r, p]`` is the p-th usable preference of distinct ranking ``r``
    (``-1`` after the last; there is always a final ``-1`` column), ``weights[r]``
    its number of papers.  ``invalid`` is the weight of papers with no usable
    preference, which are left out of the count.
    """

    matrix: IntArray
    weights: IntArray
    invalid: int

    @property
    def total(self) -> int:
        return int(self.weights.sum())


def preferences(election: Election, *, stop_at_gap: bool) -> Preferences:
    """Normalise an election's ballots for IRV and STV (spec §2)."""
    table = election.ballots
    withdrawn = election.withdrawn
    n = len(election.candidates)
    if isinstance(table, BallotTable) and table.matrix is not None:
        matrix, weights = table.matrix
        return _normalise_matrix(matrix, weights, n, withdrawn, stop_at_gap)
    rows: list[tuple[int, ...]] = []
    row_weights: list[int] = []
    invalid = 0
    for ballot, weight in table.items():
        ranking = grid_to_ranking(ballot) if election.kind == "grid" else ballot
        prefs = usable_preferences(ranking, withdrawn, stop_at_gap=stop_at_gap)
        if prefs:
            rows.append(prefs)
            row_weights.append(weight)
        else:
            invalid += weight
    width = max((len(r) for r in rows), default=0) + 1
    out = np.full((len(rows), width), -1, np.int64)
    for i, prefs in enumerate(rows):
        out[i, : len(prefs)] = prefs
    return Preferences(out, np.array(row_weights, np.int64), invalid)


def _normalise_matrix(
    matrix: IntArray,
    weights: IntArray,
    n: int,
    withdrawn: frozenset[int],
    stop_at_gap: bool,
) -> Preferences:
    k, width = matrix.shape
    marked = matrix >= 0
    keep = marked.copy()
    if withdrawn:
        is_withdrawn = np.zeros(n + 1, bool)
        is_withdrawn[list(withdrawn)] = True
        keep &= ~is_withdrawn[matrix]
    keep &= ~_repeated_marks(matrix)
    if stop_at_gap and width:
        # A skipped rank before a later mark ends the usable preferences.
        gap_seen = np.cumsum(~marked, axis=1) > 0
        keep &= ~gap_seen
    valid = keep.any(axis=1)
    invalid = int(weights[~valid].sum())
    keep = keep[valid]
    values = np.where(keep, matrix[valid], -1)
    order = np.argsort(~keep, axis=1, kind="stable")
    compact = np.take_along_axis(values, order, axis=1)
    out = np.full((compact.shape[0], width + 1), -1, np.int64)
    out[:, :width] = compact
    return Preferences(out, weights[valid].astype(np.int64), invalid)


def _repeated_marks(matrix: IntArray) -> npt.NDArray[np.bool_]:
    """True where a row repeats a candidate it already marked in an earlier column.

    A stable sort of each row puts equal entries in column order, so every entry
    equal to its left neighbour in sorted order is a later repeat: O(k w log w)
    instead of comparing every pair of columns.
    """
    k, width = matrix.shape
    repeated = np.zeros((k, width), bool)
    if width < 2 or k == 0:
        return repeated
    order = np.argsort(matrix, axis=1, kind="stable")
    ordered = np.take_along_axis(matrix, order, axis=1)
    again = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    rows, _ = np.nonzero(again)
    repeated[rows, order[:, 1:][again]] = True
    return repeated


@dataclass
class Move:
    """What one transfer did: amounts gained per candidate, exhausted amount."""

    gained: list[int]
    exhausted: int
    exhausted_papers: int
    moved: int
    values: tuple[int, ...]


class Piles:
    """Each candidate's papers as groups (ranking, position, weight, value)."""

    def __init__(self, prefs: Preferences, candidate_count: int, unit: int) -> None:
        self.matrix = prefs.matrix
        self.n = candidate_count
        self.chunks: list[list[tuple[IntArray, IntArray, IntArray, IntArray]]] = [
            [] for _ in range(candidate_count)
        ]
        rows = np.arange(prefs.matrix.shape[0], dtype=np.int64)
        zeros = np.zeros_like(rows)
        values = np.full_like(rows, unit)
        first = prefs.matrix[:, 0] if prefs.matrix.shape[0] else rows
        self._distribute(rows, zeros, prefs.weights, values, first)
        self.initial = [
            sum(int(w.sum()) for _, _, w, _ in self.chunks[c]) * unit
            for c in range(candidate_count)
        ]

    def _distribute(
        self,
        rows: IntArray,
        positions: IntArray,
        weights: IntArray,
        values: IntArray,
        recipients: IntArray,
    ) -> None:
        if rows.size == 0:
            return
        order = np.argsort(recipients, kind="stable")
        sorted_recipients = recipients[order]
        starts = np.flatnonzero(
            np.concatenate(([True], sorted_recipients[1:] != sorted_recipients[:-1]))
        )
        ends = np.append(starts[1:], sorted_recipients.size)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            who = int(sorted_recipients[start])
            if who < 0:
                continue
            part = order[start:end]
            self.chunks[who].append(
                (rows[part], positions[part], weights[part], values[part])
            )

    def take(self, candidate: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """Remove and return all of ``candidate``'s papers."""
        chunks = self.chunks[candidate]
        self.chunks[candidate] = []
        if not chunks:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, empty
        if len(chunks) == 1:
            return chunks[0]
        return (
            np.concatenate([c[0] for c in chunks]),
            np.concatenate([c[1] for c in chunks]),
            np.concatenate([c[2] for c in chunks]),
            np.concatenate([c[3] for c in chunks]),
        )

    def held_values(self, candidate: int) -> list[int]:
        """Distinct values at which ``candidate`` holds papers, highest first."""
        found: set[int] = set()
        for _, _, _, values in self.chunks[candidate]:
            found.update(np.unique(values).tolist())
        return sorted(found, reverse=True)

    def move(
        self,
        papers: tuple[IntArray, IntArray, IntArray, IntArray],
        receiving: npt.NDArray[np.bool_],
        *,
        zero_value_exhausts: bool = False,
    ) -> Move:
        """Send papers to their next preference among ``receiving`` candidates.

        ``receiving`` has one flag per candidate.  Papers with no such
        preference (or, with ``zero_value_exhausts``, value 0) are exhausted.
        """
        rows, positions, weights, values = papers
        receiving_ext = np.append(receiving, False)
        positions = positions + 1
        if rows.size:
            while True:
                cand = self.matrix[rows, positions]
                skip = (cand >= 0) & ~receiving_ext[cand]
                if not skip.any():
                    break
                positions = positions + skip
        else:
            cand = rows
        if zero_value_exhausts:
            cand = np.where(values == 0, -1, cand)
        amounts = _products(weights, values)
        gained = [0] * self.n
        exhausted = 0
        exhausted_papers = 0
        if rows.size:
            order = np.argsort(cand, kind="stable")
            sorted_cand = cand[order]
            starts = np.flatnonzero(
                np.concatenate(([True], sorted_cand[1:] != sorted_cand[:-1]))
            )
            sums = _reduce(amounts[order], starts)
            counts = np.add.reduceat(weights[order], starts)
            for i, start in enumerate(starts.tolist()):
                who = int(sorted_cand[start])
                if who < 0:
                    exhausted = sums[i]
                    exhausted_papers = int(counts[i])
                else:
                    gained[who] = sums[i]
            self._distribute(rows, positions, weights, values, cand)
        distinct = tuple(sorted(set(np.unique(values).tolist()), reverse=True))
        return Move(
            gained, exhausted, exhausted_papers, sum(gained) + exhausted, distinct
        )


def _products(weights: IntArray, values: IntArray) -> Any:
    if weights.size and int(weights.max()) * int(values.max()) >= 1 << 62:
        return weights.astype(object) * values.astype(object)
    return weights * values


def _reduce(amounts: Any, starts: IntArray) -> list[int]:
    if amounts.dtype == object:
        bounds = [*starts.tolist(), len(amounts)]
        return [
            int(sum(amounts[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
    total = int(amounts.sum()) if amounts.size else 0
    if total >= 1 << 62:
        return _reduce(amounts.astype(object), starts)
    return [int(v) for v in np.add.reduceat(amounts, starts)]
