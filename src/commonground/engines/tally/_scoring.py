"""Plurality, approval, score and STAR (spec §3.1-3.4)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._election import Election, grid_to_ranking, usable_preferences
from ._errors import TallyInputError, TallyUsageError
from ._result import Result
from ._ties import Lot
from ._trace import Trace


def _top_n(
    trace: Trace, totals: Sequence[int], seats: int, round_number: int
) -> list[int]:
    """The ``seats`` highest totals, most first; ties by lot (recorded)."""
    lot = trace.lot
    candidates = list(trace.active)
    winners: list[int] = []
    for value in sorted({totals[c] for c in candidates}, reverse=True):
        if len(winners) >= seats:
            break
        group = lot.sort([c for c in candidates if totals[c] == value])
        places = seats - len(winners)
        if len(group) > places:
            chosen = group[:places]
            lot.record(
                round_number,
                "election",
                group,
                lot.resolved_by,
                chosen[0] if places == 1 else chosen,
            )
            winners.extend(chosen)
        else:
            if len(group) > 1:
                lot.record(
                    round_number, "election_order", group, lot.resolved_by, group
                )
            winners.extend(group)
    return winners


def _single_round(
    election: Election,
    lot: Lot,
    totals: list[int],
    *,
    method: str,
    seats: int,
    seed: int | None,
    ballots: int,
    distinct: int,
    invalid: int,
    invalid_reason: str,
) -> Result:
    trace = Trace(election, lot)
    winners = _top_n(trace, totals, seats, 1)
    for c in winners:
        trace.elect(c, 1, totals[c])
    trace.add_round("count", [], totals, 0, elected=winners)
    return trace.result(
        method=method,
        rules=None,
        seats=seats,
        seed=seed,
        decimals=0,
        quota=None,
        ballots=ballots,
        distinct=distinct,
        invalid=invalid,
        invalid_reason=invalid_reason,
    )


def _ranking_of(election: Election, ballot: Any) -> Any:
    return grid_to_ranking(ballot) if election.kind == "grid" else ballot


def count_plurality(
    election: Election, seats: int, lot: Lot, seed: int | None
) -> Result:
    """Each valid ballot counts for its highest-ranked (or marked) candidate."""
    totals = [0] * len(election.candidates)
    ballots = invalid = distinct = 0
    for ballot, weight in election.ballots.items():
        prefs = usable_preferences(_ranking_of(election, ballot), election.withdrawn)
        if prefs:
            totals[prefs[0]] += weight
            ballots += weight
            distinct += 1
        else:
            invalid += weight
    return _single_round(
        election,
        lot,
        totals,
        method="plurality",
        seats=seats,
        seed=seed,
        ballots=ballots,
        distinct=distinct,
        invalid=invalid,
        invalid_reason="no usable preference",
    )


def _approvals(election: Election, ballot: Any) -> set[int]:
    if election.kind == "grid":
        marked = {c for c, v in enumerate(ballot) if v != 0}
    else:
        marked = {c for group in ballot for c in group}
    return marked - election.withdrawn


def count_approval(
    election: Election, seats: int, lot: Lot, seed: int | None
) -> Result:
    """Total approvals; the ``seats`` highest win."""
    totals = [0] * len(election.candidates)
    ballots = invalid = distinct = 0
    for ballot, weight in election.ballots.items():
        approved = _approvals(election, ballot)
        if approved:
            for c in approved:
                totals[c] += weight
            ballots += weight
            distinct += 1
        else:
            invalid += weight
    return _single_round(
        election,
        lot,
        totals,
        method="approval",
        seats=seats,
        seed=seed,
        ballots=ballots,
        distinct=distinct,
        invalid=invalid,
        invalid_reason="no approval",
    )


def _score_rows(
    election: Election, max_score: int
) -> list[tuple[tuple[int, ...], int]]:
    if election.kind != "grid":
        raise TallyUsageError(
            "score and STAR need grid ballots (one score per candidate), not rankings"
        )
    rows = []
    for ballot, weight in election.ballots.items():
        for c, value in enumerate(ballot):
            if not 0 <= value <= max_score:
                raise TallyInputError(
                    election.source_file or "<ballots>",
                    "ballots",
                    election.candidates[c],
                    f"score {value} is outside 0..{max_score}",
                )
        rows.append((tuple(ballot), weight))
    return rows


def count_score(
    election: Election, seats: int, lot: Lot, seed: int | None, max_score: int
) -> Result:
    """Total scores (blank = 0); the ``seats`` highest win."""
    rows = _score_rows(election, max_score)
    totals = [0] * len(election.candidates)
    ballots = 0
    for ballot, weight in rows:
        for c in range(len(ballot)):
            if c not in election.withdrawn:
                totals[c] += ballot[c] * weight
        ballots += weight
    return _single_round(
        election,
        lot,
        totals,
        method="score",
        seats=seats,
        seed=seed,
        ballots=ballots,
        distinct=len(rows),
        invalid=0,
        invalid_reason="",
    )


def _ordered_by_criteria(
    lot: Lot,
    group: Sequence[int],
    criteria: Sequence[tuple[str, Callable[[int], int]]],
) -> tuple[list[int], list[tuple[int, ...]]]:
    """Sort ``group`` by each criterion (higher first), then by lot order."""
    keys = {c: tuple(-f(c) for _, f in criteria) + (lot.position(c),) for c in group}
    ordered = sorted(group, key=keys.__getitem__)
    return ordered, [keys[c] for c in ordered]


def _resolution(
    lot: Lot,
    keys: list[tuple[int, ...]],
    cut: int,
    criteria: Sequence[tuple[str, Callable[[int], int]]],
) -> str:
    """Name of the first criterion separating positions ``cut - 1`` and ``cut``."""
    for index, (name, _) in enumerate(criteria):
        if keys[cut - 1][index] != keys[cut][index]:
            return name
    return lot.resolved_by


def count_star(
    election: Election, lot: Lot, seed: int | None, max_score: int
) -> Result:
    """STAR: the two highest score totals go to an automatic runoff."""
    rows = _score_rows(election, max_score)
    trace = Trace(election, lot)
    n = len(election.candidates)
    active = list(trace.active)
    totals = [0] * n
    fives = [0] * n
    for ballot, weight in rows:
        for c in active:
            totals[c] += ballot[c] * weight
            if ballot[c] == max_score:
                fives[c] += weight
    ballots = sum(w for _, w in rows)

    def prefer(x: int, y: int) -> int:
        return sum(w for b, w in rows if b[x] > b[y])

    # Scoring round: the two highest totals advance.
    finalists: list[int] = []
    for value in sorted({totals[c] for c in active}, reverse=True):
        if len(finalists) >= 2:
            break
        group = [c for c in active if totals[c] == value]
        places = 2 - len(finalists)
        if len(group) <= places:
            finalists.extend(lot.sort(group))
            continue

        def wins(x: int, group: list[int] = group) -> int:
            return sum(1 for y in group if y != x and prefer(x, y) > prefer(y, x))

        criteria: list[tuple[str, Callable[[int], int]]] = [
            ("head_to_head", wins),
            ("five_star_count", fives.__getitem__),
        ]
        ordered, keys = _ordered_by_criteria(lot, group, criteria)
        chosen = ordered[:places]
        lot.record(
            1,
            "finalist",
            group,
            _resolution(lot, keys, places, criteria),
            chosen[0] if places == 1 else chosen,
            {
                "head_to_head_wins": {election.candidates[c]: wins(c) for c in group},
                "five_star_count": {election.candidates[c]: fives[c] for c in group},
            },
        )
        finalists.extend(chosen)
    trace.add_round("scoring", [], totals, 0)
    if len(finalists) < 2:
        winner = finalists[0] if finalists else -1
        if winner >= 0:
            trace.elect(winner, 1, totals[winner])
            trace.amend_last_round(elected=[winner])
        return _star_result(trace, seed, ballots, len(rows))
    a, b = finalists
    runoff = [0] * n
    runoff[a] = prefer(a, b)
    runoff[b] = prefer(b, a)
    no_preference = ballots - runoff[a] - runoff[b]
    if runoff[a] != runoff[b]:
        winner = a if runoff[a] > runoff[b] else b
    else:
        criteria = [
            ("total_score", totals.__getitem__),
            ("five_star_count", fives.__getitem__),
        ]
        ordered, keys = _ordered_by_criteria(lot, [a, b], criteria)
        winner = ordered[0]
        lot.record(2, "runoff", [a, b], _resolution(lot, keys, 1, criteria), winner)
    trace.elect(winner, 2, runoff[winner])
    trace.add_round(
        "runoff",
        [a, b],
        runoff,
        0,
        elected=[winner],
        transfers={},
        extra={"no_preference": str(no_preference)},
    )
    return _star_result(trace, seed, ballots, len(rows))


def _star_result(trace: Trace, seed: int | None, ballots: int, distinct: int) -> Result:
    return trace.result(
        method="star",
        rules=None,
        seats=1,
        seed=seed,
        decimals=0,
        quota=None,
        ballots=ballots,
        distinct=distinct,
        invalid=0,
    )
