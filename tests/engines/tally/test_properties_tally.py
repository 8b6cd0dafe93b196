"""Properties every count must have, checked on generated profiles (hypothesis).

Issue 3 point 3 and spec §8 "Also": ballots are conserved in every round, STV with
one seat equals IRV, a majority of first preferences wins IRV, relabelling the
candidates changes no winner when no lot is drawn, a seed fixes the result, ballot
order and aggregation change nothing, and marks for a withdrawn candidate change
nothing.  Each property compares the public JSON result (``Result.to_dict()``,
spec §7.2), so it holds for every path the engine may take internally.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from commonground.engines.tally import Election, TallyError, count

# Small profiles keep each example fast; the whole file runs in a few seconds.
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Rule sets whose every round must conserve the valid ballots exactly.
ROUND_METHODS = [
    ("irv", None, 1),
    ("stv", "scottish", 1),
    ("stv", "scottish", 2),
    ("stv", "scottish", 3),
    ("stv", "wigm", 2),
    ("stv", "meek", 2),
]

# (method, rules, seats) for the relabelling, seed and aggregation properties.
ALL_RANKED_METHODS = [
    *ROUND_METHODS,
    ("plurality", None, 1),
    ("approval", None, 1),
    ("schulze", None, 1),
    ("ranked-pairs", None, 1),
]

LOT_RESOLUTIONS = {"seeded_lot", "input_order", "tie_line"}


def names(count_: int) -> list[str]:
    return [f"Candidate {chr(ord('A') + i)}" for i in range(count_)]


@st.composite
def profiles(
    draw: st.DrawFn, *, min_candidates: int = 2, max_candidates: int = 6
) -> tuple[list[str], list[list[int]], list[int]]:
    """Candidates, distinct strict rankings (no gaps, no repeats) and weights."""
    n = draw(st.integers(min_candidates, max_candidates))
    rankings = draw(
        st.lists(
            st.permutations(range(n)).flatmap(
                lambda order: st.integers(1, len(order)).map(
                    lambda length, order=order: list(order[:length])
                )
            ),
            min_size=1,
            max_size=14,
        )
    )
    weights = draw(
        st.lists(st.integers(1, 40), min_size=len(rankings), max_size=len(rankings))
    )
    return names(n), rankings, weights


def run(
    election: Election,
    method: str,
    rules: str | None,
    seats: int,
    seed: int | None = 7,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"method": method, "seats": seats, "seed": seed}
    if rules is not None:
        kwargs["rules"] = rules
    return count(election, **kwargs).to_dict()


def fits(method: str, seats: int, candidates: list[str]) -> bool:
    return seats < len(candidates) or method not in {"stv"}


def lot_drawn(result: dict[str, Any]) -> bool:
    return any(t["resolved_by"] in LOT_RESOLUTIONS for t in result["tie_breaks"])


# --- conservation ----------------------------------------------------------


@PROPERTY_SETTINGS
@given(profile=profiles(), choice=st.sampled_from(ROUND_METHODS))
def test_every_round_conserves_the_valid_ballots_exactly(profile, choice):
    """Σ tallies + exhausted (non-transferable included) + rounding loss = V.

    Spec §4.1 step 6 (and issue 3 point 3) for every round of IRV and of each STV
    rule set; the sum is done on the exact decimal strings of the JSON result.
    """
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates):
        return
    election = Election.from_rankings(candidates, rankings, weights)
    result = run(election, method, rules, seats)
    valid = Decimal(sum(weights))
    assert Decimal(result["input"]["invalid"]["count"]) == 0
    assert result["rounds"], "a round method reports at least one round"
    for round_ in result["rounds"]:
        tallies = sum((Decimal(v) for v in round_["tallies"].values()), Decimal(0))
        exhausted = Decimal(round_.get("exhausted") or "0")
        loss = Decimal(round_.get("rounding_loss_total") or "0")
        assert tallies + exhausted + loss == valid, (
            f"round {round_['round']}: {tallies} + {exhausted} + {loss} != {valid}"
        )
        assert exhausted >= 0 and loss >= 0
        assert all(Decimal(v) >= 0 for v in round_["tallies"].values())


# --- STV with one seat = IRV -------------------------------------------------


@PROPERTY_SETTINGS
@given(profile=profiles(min_candidates=2, max_candidates=6), seed=st.integers(0, 99))
def test_scottish_stv_with_one_seat_elects_the_irv_winner(profile, seed):
    """Scottish STV, one seat, elects the IRV winner (same ballots, same seed).

    Why it holds (spec §3.5, §4.1): with one seat the Scottish quota
    floor(V/2) + 1 is a majority of all valid papers, so whoever reaches it also
    has a majority of the non-exhausted votes IRV uses; a candidate IRV elects
    early holds more than all others together and is never the one excluded, so
    Scottish STV keeps excluding until it elects them.  Both exclude the fewest
    votes with the same look-back from the latest stage, and no surplus stage
    happens before the single seat is filled, so the stages line up.  The one
    difference is a lot between two equal finalists: IRV draws whom to elect,
    Scottish STV whom to exclude, so such profiles are set aside.  The ballots
    have no skipped rank numbers (Scottish stops at a gap, IRV passes over it).
    """
    candidates, rankings, weights = profile
    election = Election.from_rankings(candidates, rankings, weights)
    irv = run(election, "irv", None, 1, seed)
    stv = run(election, "stv", "scottish", 1, seed)
    if lot_drawn(irv) or lot_drawn(stv):
        event("lot drawn: set aside")
        return
    assert stv["winners"] == irv["winners"]
    assert len(irv["winners"]) == 1


# --- majority winner ---------------------------------------------------------


@PROPERTY_SETTINGS
@given(profile=profiles(), data=st.data())
def test_a_majority_of_first_preferences_wins_irv_in_the_first_round(profile, data):
    candidates, rankings, weights = profile
    favourite = data.draw(st.integers(0, len(candidates) - 1))
    others = sum(w for r, w in zip(rankings, weights, strict=True) if r[0] != favourite)
    mine = sum(weights) - others
    # Top the favourite up to a strict majority of first preferences.
    extra = max(0, others - mine + 1)
    if extra:
        rankings = [*rankings, [favourite]]
        weights = [*weights, extra]
    election = Election.from_rankings(candidates, rankings, weights)
    result = run(election, "irv", None, 1)
    assert result["winners"] == [candidates[favourite]]
    first = result["rounds"][0]
    assert candidates[favourite] in first["elected"]
    assert len(result["rounds"]) == 1
    assert result["tie_breaks"] == []


# --- relabelling ---------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    profile=profiles(),
    choice=st.sampled_from(ALL_RANKED_METHODS),
    shuffle_seed=st.integers(0, 2**32 - 1),
)
def test_relabelling_the_candidates_changes_no_winner_when_no_lot_is_drawn(
    profile, choice, shuffle_seed
):
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates):
        return
    # Reorder the candidates (new input order, so new indices and lot order) and
    # rename them; ballots keep naming the same people.
    order = list(range(len(candidates)))
    random.Random(shuffle_seed).shuffle(order)
    renamed = {name: f"Renamed {name[-1]}" for name in candidates}
    new_candidates = [renamed[candidates[i]] for i in order]
    new_index = {old: new for new, old in enumerate(order)}
    new_rankings = [[new_index[c] for c in ranking] for ranking in rankings]

    before = run(Election.from_rankings(candidates, rankings, weights), *choice)
    after = run(Election.from_rankings(new_candidates, new_rankings, weights), *choice)
    if before["tie_breaks"] or after["tie_breaks"]:
        event("tie broken: set aside")
        return
    assert [renamed[w] for w in before["winners"]] == after["winners"]


# --- seed ----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    profile=profiles(),
    choice=st.sampled_from(ALL_RANKED_METHODS),
    seed=st.one_of(st.none(), st.integers(-(2**47), 2**47 - 1)),
)
def test_the_same_ballots_and_seed_give_an_identical_result(profile, choice, seed):
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates):
        return
    first = run(Election.from_rankings(candidates, rankings, weights), *choice, seed)
    second = run(Election.from_rankings(candidates, rankings, weights), *choice, seed)
    assert first == second
    assert first["seed"] == seed


# --- ballot order and aggregation ----------------------------------------------


@PROPERTY_SETTINGS
@given(
    profile=profiles(),
    choice=st.sampled_from(ALL_RANKED_METHODS),
    shuffle_seed=st.integers(0, 2**32 - 1),
)
def test_ballot_order_and_aggregation_change_nothing(profile, choice, shuffle_seed):
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates):
        return
    aggregated = run(Election.from_rankings(candidates, rankings, weights), *choice)
    # One row per paper, in a shuffled order.
    papers = [r for r, w in zip(rankings, weights, strict=True) for _ in range(w)]
    random.Random(shuffle_seed).shuffle(papers)
    one_by_one = run(Election.from_rankings(candidates, papers), *choice)
    assert one_by_one == aggregated
    # The same papers as an int matrix padded with -1.
    import numpy as np

    matrix = np.full((len(papers), len(candidates)), -1, dtype=np.int8)
    for row, paper in enumerate(papers):
        matrix[row, : len(paper)] = paper
    from_matrix = run(Election.from_rankings(candidates, matrix), *choice)
    assert from_matrix == aggregated


# --- withdrawn candidates --------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    profile=profiles(min_candidates=3),
    choice=st.sampled_from(ALL_RANKED_METHODS),
    data=st.data(),
)
def test_marks_for_a_withdrawn_candidate_change_nothing(profile, choice, data):
    """Striking a withdrawn candidate's marks from the papers changes no count.

    The mark is removed with its rank (later preferences move up), which is how
    spec §2 normalises a withdrawn mark: it is passed over, never a gap.
    """
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates[1:]):
        return
    withdrawn = data.draw(st.integers(0, len(candidates) - 1))
    struck = [[c for c in r if c != withdrawn] for r in rankings]
    kept = [(r, w) for r, w in zip(struck, weights, strict=True) if r]
    if not kept:
        return
    with_marks = run(
        Election.from_rankings(candidates, rankings, weights, withdrawn={withdrawn}),
        *choice,
    )
    without_marks = run(
        Election.from_rankings(
            candidates,
            [r for r, _ in kept],
            [w for _, w in kept],
            withdrawn={withdrawn},
        ),
        *choice,
    )
    assert candidates[withdrawn] not in with_marks["winners"]
    for key in ("winners", "rounds", "tie_breaks", "elected", "excluded", "quota"):
        assert with_marks.get(key) == without_marks.get(key), key
    # Papers that named only the withdrawn candidate are invalid, not counted.
    only_withdrawn = sum(w for r, w in zip(struck, weights, strict=True) if not r)
    assert Decimal(with_marks["input"]["invalid"]["count"]) == only_withdrawn
    assert Decimal(without_marks["input"]["invalid"]["count"]) == 0


# --- conservation with untidy papers ---------------------------------------------


@st.composite
def untidy_profiles(
    draw: st.DrawFn,
) -> tuple[list[str], list[list[Any]], list[int]]:
    """Papers with skipped ranks, equal rankings (overvotes) and repeated marks."""
    n = draw(st.integers(2, 5))
    mark = st.one_of(
        st.integers(0, n - 1),
        st.integers(0, n - 1),
        st.just(-1),  # a skipped rank number
        st.lists(st.integers(0, n - 1), min_size=2, max_size=3).map(tuple),
    )
    rankings = draw(
        st.lists(st.lists(mark, min_size=1, max_size=6), min_size=1, max_size=12)
    )
    weights = draw(
        st.lists(st.integers(1, 30), min_size=len(rankings), max_size=len(rankings))
    )
    return names(n), rankings, weights


def usable_count(ranking: list[Any], *, stop_at_gap: bool) -> int:
    """How many usable preferences a paper has under spec §2's normalisation."""
    seen: list[int] = []
    for mark in ranking:
        group = mark if isinstance(mark, tuple) else (() if mark == -1 else (mark,))
        if not group:
            if stop_at_gap:
                break
            continue
        fresh = {c for c in group if c not in seen}
        if not fresh:
            continue  # a repeated mark is ignored
        if len(fresh) > 1:
            break  # an overvote ends the usable preferences
        seen.append(fresh.pop())
    return len(seen)


@PROPERTY_SETTINGS
@given(profile=untidy_profiles(), choice=st.sampled_from(ROUND_METHODS))
def test_untidy_papers_are_normalised_and_still_conserved(profile, choice):
    """Spec §2: a paper with no usable preference is invalid (left out of the
    totals and quota, counted in ``input.invalid``); the rest are conserved in
    every round.  Scottish rules stop at the first skipped rank; the others pass
    over it."""
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates):
        return
    stop_at_gap = rules == "scottish"
    valid = sum(
        w
        for r, w in zip(rankings, weights, strict=True)
        if usable_count(r, stop_at_gap=stop_at_gap)
    )
    election = Election.from_rankings(candidates, rankings, weights)
    if valid == 0:
        return
    result = run(election, method, rules, seats)
    assert Decimal(result["input"]["invalid"]["count"]) == sum(weights) - valid
    for round_ in result["rounds"]:
        tallies = sum((Decimal(v) for v in round_["tallies"].values()), Decimal(0))
        exhausted = Decimal(round_.get("exhausted") or "0")
        loss = Decimal(round_.get("rounding_loss_total") or "0")
        assert tallies + exhausted + loss == valid, round_["round"]


# --- huge weights ------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    profile=profiles(max_candidates=4),
    big=st.lists(st.integers(10**9, 10**20), min_size=1, max_size=3),
    choice=st.sampled_from(ROUND_METHODS),
)
def test_huge_weights_are_counted_exactly_or_refused(profile, big, choice):
    """Exactness has no size limit (issue 3 point 1): with ballot weights far past
    what int64 holds once scaled by 10**decimals, the count either conserves every
    ballot exactly or refuses with ``TallyError``; it never wraps around."""
    method, rules, seats = choice
    candidates, rankings, weights = profile
    if not fits(method, seats, candidates):
        return
    weights = [w * b for w, b in zip(weights, big * len(weights), strict=False)]
    try:
        election = Election.from_rankings(candidates, rankings, weights)
        result = run(election, method, rules, seats)
    except TallyError:
        return
    valid = Decimal(sum(weights))
    first = result["rounds"][0]
    tops: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        tops[candidates[ranking[0]]] = tops.get(candidates[ranking[0]], 0) + weight
    assert {k: Decimal(v) for k, v in first["tallies"].items() if Decimal(v)} == {
        k: Decimal(v) for k, v in tops.items()
    }
    for round_ in result["rounds"]:
        tallies = sum((Decimal(v) for v in round_["tallies"].values()), Decimal(0))
        exhausted = Decimal(round_.get("exhausted") or "0")
        loss = Decimal(round_.get("rounding_loss_total") or "0")
        assert tallies + exhausted + loss == valid, round_["round"]
