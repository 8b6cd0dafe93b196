"""Instant-runoff voting (spec §3.5)."""

from __future__ import annotations

import numpy as np

from ._election import Election
from ._papers import Piles, preferences
from ._result import Result
from ._ties import Lot
from ._trace import Trace


def count_irv(election: Election, lot: Lot, seed: int | None) -> Result:
    """Single-winner IRV: elect a majority of the round's non-exhausted votes.

    Otherwise the candidate with fewest votes is excluded (look-back, then lot)
    and their papers go to each paper's next continuing preference.

    >>> from commonground.engines.tally import Election, count
    >>> e = Election.from_rankings(["A", "B", "C"], [[0]] * 4 + [[1, 2]] * 2 + [[2, 1]] * 3)
    >>> count(e, method="irv").winners
    ('C',)
    """
    prefs = preferences(election, stop_at_gap=False)
    n = len(election.candidates)
    trace = Trace(election, lot)
    piles = Piles(prefs, n, 1)
    tallies = list(piles.initial)
    exhausted = 0
    round_number = 1
    action, subject = "count", -1
    amount: int | None = None
    while True:
        history = trace.history
        continuing = trace.continuing()
        active = sum(tallies[c] for c in continuing)
        threshold = active // 2 + 1
        elected_now: list[int] = []
        excluded_now: list[int] = []
        leader = max(continuing, key=lambda c: tallies[c]) if continuing else -1
        next_subject = -1
        if leader >= 0 and (tallies[leader] >= threshold or len(continuing) == 1):
            trace.elect(leader, round_number, tallies[leader])
            elected_now.append(leader)
        elif len(continuing) == 2:
            # Two equal finalists: look-back, then lot, elects one.
            chosen = lot.break_tie(
                continuing,
                history,
                fewest=False,
                round_number=round_number,
                purpose="election",
            )
            trace.elect(chosen, round_number, tallies[chosen])
            elected_now.append(chosen)
        elif continuing:
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
            next_subject = chosen
        trace.add_round(
            action,
            [] if subject < 0 else [subject],
            tallies,
            exhausted,
            elected=elected_now,
            excluded=excluded_now,
            amount=amount,
            threshold=threshold,
        )
        if next_subject < 0:
            break
        action, subject = "elimination", next_subject
        round_number += 1
        receiving = np.zeros(n, bool)
        receiving[trace.continuing()] = True
        move = piles.move(piles.take(subject), receiving)
        amount = tallies[subject]
        tallies[subject] = 0
        for c, gained in enumerate(move.gained):
            tallies[c] += gained
        exhausted += move.exhausted
    return trace.result(
        method="irv",
        rules=None,
        seats=1,
        seed=seed,
        decimals=0,
        quota=None,
        ballots=prefs.total,
        distinct=int(prefs.matrix.shape[0]),
        invalid=prefs.invalid,
    )
