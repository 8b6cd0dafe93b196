"""Schulze and Ranked Pairs on pairwise margins (spec §3.6)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ._election import BallotTable, Election, grid_to_ranking, weak_order
from ._papers import preferences
from ._result import Result
from ._ties import Lot
from ._trace import Trace


def pairwise(election: Election) -> tuple[list[list[int]], int, int, int]:
    """d[x][y]: weight of ballots ranking x strictly above y.

    Ranked beats unranked; equal ranks and two unranked candidates express no
    preference.  Returns (d, valid weight, distinct valid ballots, invalid weight).
    """
    table = election.ballots
    if isinstance(table, BallotTable) and table.matrix is not None:
        return _pairwise_matrix(election)
    n = len(election.candidates)
    d = [[0] * n for _ in range(n)]
    valid = distinct = invalid = 0
    for ballot, weight in table.items():
        ranking = grid_to_ranking(ballot) if election.kind == "grid" else ballot
        groups = weak_order(ranking, election.withdrawn)
        if not groups:
            invalid += weight
            continue
        valid += weight
        distinct += 1
        above: list[int] = []
        for group in groups:
            for x in above:
                row = d[x]
                for y in group:
                    row[y] += weight
            above.extend(group)
        ranked = set(above)
        unranked = [
            c for c in range(n) if c not in ranked and c not in election.withdrawn
        ]
        for x in above:
            row = d[x]
            for y in unranked:
                row[y] += weight
    return d, valid, distinct, invalid


def _pairwise_matrix(election: Election) -> tuple[list[list[int]], int, int, int]:
    """:func:`pairwise` for one-candidate-per-rank ballots held as a matrix.

    With R[x] the weight of ballots ranking x and A[x][y] the weight ranking
    both with x first, d[x][y] = R[x] - A[y][x]: a ballot ranking x puts it
    above y unless it ranks y earlier.
    """
    n = len(election.candidates)
    prefs = preferences(election, stop_at_gap=False)
    matrix, weights = prefs.matrix, prefs.weights
    width = matrix.shape[1] - 1
    ranked = np.zeros(n, np.int64)
    before = np.zeros(n * n, np.int64)
    for i in range(width):
        column = matrix[:, i]
        present = column >= 0
        ranked += _weighted_counts(column[present], weights[present], n)
        for j in range(i + 1, width):
            later = matrix[:, j]
            both = later >= 0
            keys = column[both] * n + later[both]
            before += _weighted_counts(keys, weights[both], n * n)
    d = [[0] * n for _ in range(n)]
    for x in range(n):
        for y in range(n):
            if x != y:
                d[x][y] = int(ranked[x] - before[y * n + x])
    return d, prefs.total, int(matrix.shape[0]), prefs.invalid


def _weighted_counts(
    keys: npt.NDArray[np.int64], weights: npt.NDArray[np.int64], length: int
) -> npt.NDArray[np.int64]:
    """Exact integer sum of ``weights`` per key in ``range(length)``."""
    if keys.size == 0:
        return np.zeros(length, np.int64)
    if int(weights.sum()) < 1 << 53:
        counts = np.bincount(keys, weights=weights, minlength=length)
        return counts.astype(np.int64)
    sums = np.zeros(length, np.int64)
    np.add.at(sums, keys, weights)
    return sums


def _matrix_text(names: tuple[str, ...], active: list[int], m: list[list[int]]) -> Any:
    return {
        names[x]: {names[y]: str(m[x][y]) for y in active if y != x} for x in active
    }


def count_schulze(election: Election, lot: Lot, seed: int | None) -> Result:
    """Schulze method with margins; several potential winners -> lot."""
    d, valid, distinct, invalid = pairwise(election)
    trace = Trace(election, lot)
    active = list(trace.active)
    names = election.candidates
    n = len(names)
    p = [[0] * n for _ in range(n)]
    for x in active:
        for y in active:
            if x != y:
                margin = d[x][y] - d[y][x]
                p[x][y] = margin if margin > 0 else 0
    for i in active:
        for j in active:
            if j == i:
                continue
            pji = p[j][i]
            if pji == 0:
                continue
            row_j = p[j]
            row_i = p[i]
            for k in active:
                if k != i and k != j:
                    through = pji if pji < row_i[k] else row_i[k]
                    if through > row_j[k]:
                        row_j[k] = through
    best = [x for x in active if all(p[x][y] >= p[y][x] for y in active if y != x)]
    winner = -1
    if len(best) == 1:
        winner = best[0]
    elif best:
        winner = lot.draw(best)
        lot.record(1, "election", best, lot.resolved_by, winner)
    wins = [0] * n
    for x in active:
        wins[x] = sum(1 for y in active if y != x and p[x][y] > p[y][x])
    if winner >= 0:
        trace.elect(winner, 1, wins[winner])
    trace.add_round(
        "pairwise",
        [],
        wins,
        0,
        elected=[winner] if winner >= 0 else [],
        extra={
            "pairwise": _matrix_text(names, active, d),
            "path_strengths": _matrix_text(names, active, p),
        },
    )
    return trace.result(
        method="schulze",
        rules=None,
        seats=1,
        seed=seed,
        decimals=0,
        quota=None,
        ballots=valid,
        distinct=distinct,
        invalid=invalid,
    )


def count_ranked_pairs(election: Election, lot: Lot, seed: int | None) -> Result:
    """Tideman's Ranked Pairs on margins; equal margins in lot order."""
    d, valid, distinct, invalid = pairwise(election)
    trace = Trace(election, lot)
    active = list(trace.active)
    names = election.candidates
    n = len(names)
    pairs = [
        (d[x][y] - d[y][x], x, y)
        for x in active
        for y in active
        if x != y and d[x][y] > d[y][x]
    ]
    # Margin descending; equal margins: (a,b) before (c,d) if a precedes c in
    # the lot order, or a = c and d precedes b.
    pairs.sort(key=lambda t: (-t[0], lot.position(t[1]), -lot.position(t[2])))
    index = 0
    while index < len(pairs):
        end = index
        while end < len(pairs) and pairs[end][0] == pairs[index][0]:
            end += 1
        if end - index > 1:
            group = pairs[index:end]
            involved = sorted({c for _, a, b in group for c in (a, b)})
            lot.tie_breaks.append(_pair_order_tie(lot, group, involved, names))
        index = end
    locked: list[tuple[int, int]] = []
    skipped: list[tuple[int, int]] = []
    beats: dict[int, set[int]] = {c: set() for c in active}
    for _, x, y in pairs:
        if _reaches(beats, y, x):
            skipped.append((x, y))
        else:
            beats[x].add(y)
            locked.append((x, y))
    beaten = {y for _, y in locked}
    sources = [c for c in active if c not in beaten]
    winner = sources[0] if len(sources) == 1 else (lot.draw(sources) if sources else -1)
    if len(sources) > 1:
        lot.record(1, "election", sources, lot.resolved_by, winner)
    wins = [0] * n
    for x, _ in locked:
        wins[x] += 1
    if winner >= 0:
        trace.elect(winner, 1, wins[winner])
    trace.add_round(
        "pairwise",
        [],
        wins,
        0,
        elected=[winner] if winner >= 0 else [],
        extra={
            "pairwise": _matrix_text(names, active, d),
            "locked": [[names[x], names[y]] for x, y in locked],
            "skipped": [[names[x], names[y]] for x, y in skipped],
        },
    )
    return trace.result(
        method="ranked-pairs",
        rules=None,
        seats=1,
        seed=seed,
        decimals=0,
        quota=None,
        ballots=valid,
        distinct=distinct,
        invalid=invalid,
    )


def _pair_order_tie(
    lot: Lot,
    group: list[tuple[int, int, int]],
    involved: list[int],
    names: tuple[str, ...],
) -> Any:
    from ._result import TieBreak

    lot.note_lot_used()
    return TieBreak(
        round=1,
        purpose="pair_order",
        tied=tuple(f"{names[x]}>{names[y]}" for _, x, y in group),
        resolved_by=lot.resolved_by,
        chosen=tuple(f"{names[x]}>{names[y]}" for _, x, y in group),
        detail={
            "margin": str(group[0][0]),
            "lot_order": [names[c] for c in lot.sort(involved)],
        },
    )


def _reaches(beats: dict[int, set[int]], start: int, goal: int) -> bool:
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in beats[node]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
