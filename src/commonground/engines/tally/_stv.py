"""Single transferable vote: Scottish (SSI 2007/42) and WIGM rule sets (spec §4)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._election import Election
from ._papers import IntArray, Piles, preferences
from ._result import Result
from ._ties import Lot
from ._trace import CONTINUING, ELECTED, Trace

SCOTTISH_DECIMALS = 5
WIGM_DECIMALS = 4


def _scale_values(values: IntArray, numerator: int, denominator: int) -> IntArray:
    """``floor(values * numerator / denominator)`` exactly, elementwise."""
    if values.size and int(values.max()) * max(numerator, 1) >= 1 << 62:
        exact = [(int(v) * numerator) // denominator for v in values.tolist()]
        return np.array(exact, np.int64)
    return (values * numerator) // denominator


SurplusValues = Callable[[IntArray, int, int], IntArray]


def _wigm_values(unit: int) -> SurplusValues:
    """WIGM: the transfer value is truncated to the unit first, then applied."""

    def values(held: IntArray, surplus: int, total: int) -> IntArray:
        step = _scale_values(held, surplus, unit)
        return _scale_values(step, unit, total) if total else step * 0

    return values


def _transfer(
    piles: Piles,
    trace: Trace,
    tallies: list[int],
    action: str,
    subject: int,
    quota: int,
    surplus_values: SurplusValues,
    *,
    zero_value_exhausts: bool,
) -> tuple[int, int, tuple[int, ...] | None, int]:
    """Move ``subject``'s papers (its surplus, or all on exclusion) to the
    continuing candidates, updating ``tallies`` in place.

    Returns the amount transferred, the rounding loss, the transfer values and
    the value that exhausted.
    """
    papers = piles.take(subject)
    receiving = np.zeros(len(tallies), bool)
    receiving[trace.continuing()] = True
    total = tallies[subject]
    if action == "surplus":
        surplus = total - quota
        rows, positions, weights, held = papers
        new_values = surplus_values(held, surplus, total)
        move = piles.move(
            (rows, positions, weights, new_values),
            receiving,
            zero_value_exhausts=zero_value_exhausts,
        )
        tallies[subject] = quota
        loss, amount = surplus - move.moved, surplus
    else:
        move = piles.move(papers, receiving, zero_value_exhausts=zero_value_exhausts)
        tallies[subject] = 0
        loss, amount = 0, total
    for c, gained in enumerate(move.gained):
        tallies[c] += gained
    return amount, loss, move.values, move.exhausted


def count_scottish(
    election: Election, seats: int, lot: Lot, seed: int | None
) -> Result:
    """Scottish STV, Sch. 1 rules 45-52 of SSI 2007/42; amounts scaled by 10**5.

    >>> from commonground.engines.tally import Election, count
    >>> e = Election.from_rankings(["A", "B", "C"], [[0, 1]] * 6 + [[1]] * 2 + [[2]] * 3)
    >>> count(e, method="stv", seats=2).winners
    ('A', 'B')
    """
    unit = 10**SCOTTISH_DECIMALS
    prefs = preferences(election, stop_at_gap=True)
    n = len(election.candidates)
    trace = Trace(election, lot)
    valid = prefs.total
    quota = (valid // (seats + 1) + 1) * unit
    piles = Piles(prefs, n, unit)
    tallies = list(piles.initial)
    exhausted = 0
    loss_total = 0
    surplus_done: set[int] = set()
    # What the next stage does: ("surplus"|"exclusion", candidate) or None.
    round_number = 1
    action, subject = "first_count", -1
    amount: int | None = None
    values: tuple[int, ...] | None = None
    loss = 0
    while True:
        history = trace.history
        # r.47: elect every continuing candidate at or above the quota.
        reaching = [c for c in trace.continuing() if tallies[c] >= quota]
        newly = _order_by_votes(
            reaching, tallies, history, lot, round_number, "election_order"
        )
        for c in newly:
            trace.elect(c, round_number, tallies[c])
        elected_now = list(newly)
        excluded_now: list[int] = []
        next_step: tuple[str, int] | None = None
        vacancies = seats - len(trace.winners)
        continuing = trace.continuing()
        if vacancies <= 0:
            pass
        elif len(continuing) <= vacancies:
            # r.52: the remaining continuing candidates fill the vacancies.
            rest = _order_by_votes(
                continuing, tallies, history, lot, round_number, "election_order"
            )
            for c in rest:
                trace.elect(c, round_number, tallies[c])
            elected_now.extend(rest)
        else:
            surpluses = {
                c: tallies[c] - quota
                for c in trace.winners
                if c not in surplus_done and tallies[c] > quota
            }
            if surpluses:
                largest = max(surpluses.values())
                tied = [c for c, s in surpluses.items() if s == largest]
                chosen = lot.break_tie(
                    tied,
                    history,
                    fewest=False,
                    round_number=round_number,
                    purpose="surplus_order",
                )
                next_step = ("surplus", chosen)
            else:
                fewest = min(tallies[c] for c in continuing)
                tied = [c for c in continuing if tallies[c] == fewest]
                chosen = lot.break_tie(
                    tied,
                    history,
                    fewest=True,
                    round_number=round_number,
                    purpose="exclusion",
                )
                trace.exclude(chosen, round_number, tallies[chosen])
                excluded_now.append(chosen)
                next_step = ("exclusion", chosen)
        trace.add_round(
            action,
            [] if subject < 0 else [subject],
            tallies,
            exhausted,
            elected=elected_now,
            excluded=excluded_now,
            amount=amount,
            transfer_values=values,
            rounding_loss=loss,
            rounding_loss_total=loss_total,
        )
        if next_step is None:
            break
        action, subject = next_step
        round_number += 1
        if action == "surplus":
            surplus_done.add(subject)
        amount, loss, values, moved_out = _transfer(
            piles,
            trace,
            tallies,
            action,
            subject,
            quota,
            _scale_values,
            zero_value_exhausts=False,
        )
        exhausted += moved_out
        loss_total += loss
    return trace.result(
        method="stv",
        rules="scottish",
        seats=seats,
        seed=seed,
        decimals=SCOTTISH_DECIMALS,
        quota=quota,
        ballots=valid,
        distinct=int(prefs.matrix.shape[0]),
        invalid=prefs.invalid,
    )


def _order_by_votes(
    candidates: list[int],
    tallies: list[int],
    history: list[list[int]],
    lot: Lot,
    round_number: int,
    purpose: str,
    *,
    look_back: bool = True,
) -> list[int]:
    """Candidates by votes, most first; equal votes by look-back then lot."""
    ordered: list[int] = []
    for value in sorted({tallies[c] for c in candidates}, reverse=True):
        group = [c for c in candidates if tallies[c] == value]
        ordered.extend(
            lot.order_group(
                group,
                history,
                round_number=round_number,
                purpose=purpose,
                look_back=look_back,
            )
        )
    return ordered


def count_wigm(election: Election, seats: int, lot: Lot, seed: int | None) -> Result:
    """Weighted inclusive Gregory method, PR Foundation reference rule, 4 d.p."""
    unit = 10**WIGM_DECIMALS
    prefs = preferences(election, stop_at_gap=False)
    n = len(election.candidates)
    trace = Trace(election, lot)
    valid = prefs.total
    quota = (valid * unit) // (seats + 1) + 1
    piles = Piles(prefs, n, unit)
    tallies = list(piles.initial)
    exhausted = 0
    loss_total = 0
    pending: list[int] = []
    round_number = 1
    action, subject = "first_count", -1
    amount: int | None = None
    values: tuple[int, ...] | None = None
    loss = 0
    while True:
        history = trace.history
        reaching = [c for c in trace.continuing() if tallies[c] >= quota]
        newly = _order_by_votes(
            reaching,
            tallies,
            history,
            lot,
            round_number,
            "election_order",
            look_back=False,
        )
        for c in newly:
            trace.elect(c, round_number, tallies[c])
            pending.append(c)
        elected_now = list(newly)
        excluded_now: list[int] = []
        next_step: tuple[str, int] | None = None
        hopeful = trace.continuing()
        if len(trace.winners) >= seats or len(trace.winners) + len(hopeful) <= seats:
            if len(trace.winners) < seats:
                rest = _order_by_votes(
                    hopeful,
                    tallies,
                    history,
                    lot,
                    round_number,
                    "election_order",
                    look_back=False,
                )
                for c in rest:
                    trace.elect(c, round_number, tallies[c])
                elected_now.extend(rest)
            else:
                for c in hopeful:
                    trace.exclude(c, round_number, tallies[c])
                    excluded_now.append(c)
        elif pending:
            largest = max(tallies[c] - quota for c in pending)
            tied = [c for c in pending if tallies[c] - quota == largest]
            chosen = lot.break_tie(
                tied,
                history,
                fewest=False,
                round_number=round_number,
                purpose="surplus_order",
                look_back=False,
            )
            pending.remove(chosen)
            next_step = ("surplus", chosen)
        else:
            fewest = min(tallies[c] for c in hopeful)
            tied = [c for c in hopeful if tallies[c] == fewest]
            chosen = lot.break_tie(
                tied,
                history,
                fewest=True,
                round_number=round_number,
                purpose="exclusion",
                look_back=False,
            )
            trace.exclude(chosen, round_number, tallies[chosen])
            excluded_now.append(chosen)
            next_step = ("exclusion", chosen)
        trace.add_round(
            action,
            [] if subject < 0 else [subject],
            tallies,
            exhausted,
            elected=elected_now,
            excluded=excluded_now,
            amount=amount,
            transfer_values=values,
            rounding_loss=loss,
            rounding_loss_total=loss_total,
        )
        if next_step is None:
            break
        action, subject = next_step
        round_number += 1
        amount, loss, values, moved_out = _transfer(
            piles,
            trace,
            tallies,
            action,
            subject,
            quota,
            _wigm_values(unit),
            zero_value_exhausts=True,
        )
        exhausted += moved_out
        loss_total += loss
    return trace.result(
        method="stv",
        rules="wigm",
        seats=seats,
        seed=seed,
        decimals=WIGM_DECIMALS,
        quota=quota,
        ballots=valid,
        distinct=int(prefs.matrix.shape[0]),
        invalid=prefs.invalid,
    )


__all__ = ["CONTINUING", "ELECTED", "count_scottish", "count_wigm"]
