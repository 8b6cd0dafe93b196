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

    With R[x] the weight of ballots ranking x, B[x][y] the weight ranking x in an
    earlier rank than y and E[x][y] the weight ranking both equal, a ballot ranking
    x puts it above y unless it ranks y earlier or equal: d[x][y] = R[x] - B[y][x]
    - E[x][y].  Only pairs of ranked candidates are visited, each ballot's in one
    vectorised pass per rank: the work is the sum over distinct ballots of
    (ranked candidates)^2 / 2, which ``_limits`` bounds before counting.
    """
    n = len(election.candidates)
    slots, levels, weights, invalid = _ranked_slots(election)
    distinct = int(slots.shape[0])
    valid = int(weights.sum()) if distinct else 0
    lengths = (slots >= 0).sum(axis=1)
    # Longest ballots first, so the rows that rank more than j candidates are the
    # first ``longer_than(j)``.
    order = np.argsort(-lengths, kind="stable")
    slots, levels, weights = slots[order], levels[order], weights[order]
    ascending = np.sort(lengths)
    marked = slots >= 0
    ranked = _weighted_counts(
        slots[marked], np.broadcast_to(weights[:, None], slots.shape)[marked], n
    )
    before = np.zeros(n * n, np.int64)
    equal = np.zeros(n * n, np.int64)
    has_ties = bool(((levels[:, 1:] == levels[:, :-1]) & marked[:, 1:]).any())
    for j in range(1, slots.shape[1]):
        rows = distinct - int(np.searchsorted(ascending, j, side="right"))
        if rows == 0:
            break
        earlier = slots[:rows, :j]
        keys = earlier * n + slots[:rows, j][:, None]
        row_weights = np.broadcast_to(weights[:rows, None], keys.shape)
        if has_ties:
            same = levels[:rows, :j] == levels[:rows, j][:, None]
            before += _weighted_counts(keys[~same], row_weights[~same], n * n)
            equal += _weighted_counts(keys[same], row_weights[same], n * n)
        else:
            before += _weighted_counts(keys.ravel(), row_weights.ravel(), n * n)
    before_m = before.reshape(n, n)
    equal_m = equal.reshape(n, n)
    equal_m = equal_m + equal_m.T
    d_array = ranked[:, None] - before_m.T - equal_m
    np.fill_diagonal(d_array, 0)
    d = [[int(v) for v in row] for row in d_array.tolist()]
    return d, valid, distinct, invalid


def _ranked_slots(
    election: Election,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Each valid distinct ballot's ranked candidates, in rank order.

    ``slots[b, s]`` is the s-th ranked candidate of ballot b (``-1`` after the
    last), ``levels[b, s]`` the number of its rank group (equal candidates share
    one), ``weights[b]`` its weight.  Withdrawn candidates, repeats and gaps are
    dropped (``weak_order``).  Also returns the weight of ballots ranking nobody.
    """
    table = election.ballots
    if isinstance(table, BallotTable) and table.matrix is not None:
        prefs = preferences(election, stop_at_gap=False)
        matrix = prefs.matrix
        levels = np.broadcast_to(np.arange(matrix.shape[1]), matrix.shape)
        return matrix, levels, prefs.weights, prefs.invalid
    rows: list[list[int]] = []
    row_levels: list[list[int]] = []
    row_weights: list[int] = []
    invalid = 0
    for ballot, weight in table.items():
        ranking = grid_to_ranking(ballot) if election.kind == "grid" else ballot
        groups = weak_order(ranking, election.withdrawn)
        if not groups:
            invalid += weight
            continue
        rows.append([c for group in groups for c in group])
        row_levels.append([level for level, g in enumerate(groups) for _ in g])
        row_weights.append(weight)
    width = max((len(row) for row in rows), default=0) + 1
    slots = np.full((len(rows), width), -1, np.int64)
    levels = np.full((len(rows), width), -1, np.int64)
    for b, (row, row_level) in enumerate(zip(rows, row_levels, strict=True)):
        slots[b, : len(row)] = row
        levels[b, : len(row)] = row_level
    return slots, levels, np.array(row_weights, np.int64), invalid


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
    p = _strongest_paths(d, active, n)
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


def _strongest_paths(d: list[list[int]], active: list[int], n: int) -> list[list[int]]:
    """Schulze's strongest path strengths p[x][y] between active candidates.

    Floyd-Warshall on the positive margins, one numpy pass per intermediate
    candidate i: p[j][k] = max(p[j][k], min(p[j][i], p[i][k])).  The passes where
    j or k is i leave p unchanged (min(p[j][i], p[i][i]) <= p[j][i]), and the
    diagonal is never read, so the vectorised pass equals the textbook loop;
    amounts stay exact int64.
    """
    index = np.array(active, np.int64)
    margins = np.array(d, np.int64).reshape(n, n)[np.ix_(index, index)]
    strength = np.maximum(margins - margins.T, 0)
    np.fill_diagonal(strength, 0)
    for i in range(len(active)):
        through = np.minimum(strength[:, i : i + 1], strength[i : i + 1, :])
        np.maximum(strength, through, out=strength)
    np.fill_diagonal(strength, 0)
    p = [[0] * n for _ in range(n)]
    for row, x in enumerate(active):
        values = strength[row].tolist()
        target = p[x]
        for column, y in enumerate(active):
            target[y] = values[column]
    return p


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
