"""Meek STV, PR Foundation reference rule, 9-decimal fixed point (spec §4.3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._election import Election
from ._papers import preferences
from ._result import Result, format_decimal
from ._ties import Lot
from ._trace import Trace

MEEK_DECIMALS = 9
UNIT = 10**MEEK_DECIMALS
OMEGA = 10**3  # 0.000001 at 9 decimals


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


class _Passes:
    """One distribution pass over all ballots for given keep factors."""

    def __init__(
        self, matrix: np.ndarray[Any, Any], weights: np.ndarray[Any, Any], n: int
    ):
        self.matrix = matrix
        self.weights = weights
        self.n = n

    def run(self, keep: list[int]) -> tuple[list[int], int]:
        k = self.matrix.shape[0]
        remaining = np.full(k, UNIT, np.int64)
        votes = np.zeros(self.n, np.int64)
        keep_ext = np.array([*keep, 0], np.int64)
        for column in range(self.matrix.shape[1]):
            cand = self.matrix[:, column]
            live = (cand >= 0) & (remaining > 0)
            if not live.any():
                break
            c = cand[live]
            w = remaining[live]
            share = -((-(w * keep_ext[c])) // UNIT)
            np.add.at(votes, c, share * self.weights[live])
            remaining[live] = w - share
        excess = int((remaining * self.weights).sum())
        return [int(v) for v in votes], excess


def count_meek(election: Election, seats: int, lot: Lot, seed: int | None) -> Result:
    """Meek STV: keep factors iterate until surpluses settle; 9 decimals."""
    prefs = preferences(election, stop_at_gap=False)
    n = len(election.candidates)
    trace = Trace(election, lot)
    passes = _Passes(prefs.matrix, prefs.weights, n)
    keep = [0 if c in election.withdrawn else UNIT for c in range(n)]
    names = election.candidates
    round_number = 0
    action = "first_count"
    subject: list[int] = []
    quota = 0
    votes = [0] * n
    excess = 0
    while True:
        hopeful = trace.continuing()
        seats_left = seats - len(trace.winners)
        if not len(hopeful) > seats_left > 0:
            break
        round_number += 1
        history = trace.history
        previous_surplus: int | None = None
        iterations = 0
        elected_now: list[int] = []
        excluded_now: list[int] = []
        while True:
            votes, excess = passes.run(keep)
            iterations += 1
            counted = sum(
                votes[c] for c in trace.active if trace.status[c] != "excluded"
            )
            quota = counted // (seats + 1) + 1
            reaching = [c for c in trace.continuing() if votes[c] >= quota]
            if reaching:
                for value in sorted({votes[c] for c in reaching}, reverse=True):
                    group = [c for c in reaching if votes[c] == value]
                    for c in lot.order_group(
                        group,
                        history,
                        round_number=round_number,
                        purpose="election_order",
                        look_back=False,
                    ):
                        trace.elect(c, round_number, votes[c])
                        elected_now.append(c)
                break
            elected = trace.winners
            surplus = max(0, sum(votes[c] - quota for c in elected))
            if surplus < OMEGA or (
                previous_surplus is not None and surplus >= previous_surplus
            ):
                hopeful = trace.continuing()
                low = min(votes[c] for c in hopeful)
                tied = [c for c in hopeful if votes[c] <= low + surplus]
                chosen = lot.break_tie(
                    tied,
                    history,
                    fewest=True,
                    round_number=round_number,
                    purpose="exclusion",
                    look_back=False,
                )
                trace.exclude(chosen, round_number, votes[chosen])
                keep[chosen] = 0
                excluded_now.append(chosen)
                break
            previous_surplus = surplus
            for c in elected:
                keep[c] = _ceil_div(_ceil_div(keep[c] * quota, UNIT) * UNIT, votes[c])
        # End of count: fill or close the remaining places in this round.
        hopeful = trace.continuing()
        seats_left = seats - len(trace.winners)
        if hopeful and not len(hopeful) > seats_left > 0:
            if seats_left > 0:
                for c in sorted(hopeful, key=lambda c: (-votes[c], lot.position(c))):
                    trace.elect(c, round_number, votes[c])
                    elected_now.append(c)
            else:
                for c in hopeful:
                    trace.exclude(c, round_number, votes[c])
                    excluded_now.append(c)
        trace.add_round(
            action,
            subject,
            votes,
            excess,
            elected=elected_now,
            excluded=excluded_now,
            extra={
                "quota": format_decimal(quota, MEEK_DECIMALS),
                "keep_factors": {
                    names[c]: format_decimal(keep[c], MEEK_DECIMALS)
                    for c in trace.winners
                },
                "iterations": iterations,
            },
        )
        if excluded_now and not elected_now:
            action, subject = "exclusion", list(excluded_now)
        else:
            action, subject = "surplus", list(trace.winners)
    if round_number == 0:
        # Nothing to iterate: every hopeful is elected (or none is needed).
        votes, excess = passes.run(keep)
        counted = sum(votes)
        quota = counted // (seats + 1) + 1
        elected_now = []
        for c in sorted(trace.continuing(), key=lambda c: (-votes[c], lot.position(c))):
            if len(trace.winners) < seats:
                trace.elect(c, 1, votes[c])
                elected_now.append(c)
        trace.add_round(
            "first_count",
            [],
            votes,
            excess,
            elected=elected_now,
            extra={
                "quota": format_decimal(quota, MEEK_DECIMALS),
                "keep_factors": {},
                "iterations": 1,
            },
        )
    return trace.result(
        method="stv",
        rules="meek",
        seats=seats,
        seed=seed,
        decimals=MEEK_DECIMALS,
        quota=quota,
        ballots=prefs.total,
        distinct=int(prefs.matrix.shape[0]),
        invalid=prefs.invalid,
    )
