"""Hand-checked small counts for every method; the arithmetic is in the comments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from commonground.engines.tally import (
    Election,
    TallyInputError,
    TallyUsageError,
    count,
    java_shuffle,
)

ABC = ["A", "B", "C"]


def ranked(candidates, *groups):
    """Build an election from (weight, ranking) pairs."""
    rankings, weights = [], []
    for weight, ranking in groups:
        rankings.append(ranking)
        weights.append(weight)
    return Election.from_rankings(candidates, rankings, weights)


# ---------------------------------------------------------------------------
# Plurality, approval, score


def test_plurality_counts_top_preferences_and_elects_the_highest():
    # A: 4 + 1 = 5; B: 3; C: 2 -> A.
    election = ranked(ABC, (4, [0, 1]), (1, [0]), (3, [1, 2]), (2, [2, 0]))
    result = count(election, method="plurality")
    assert result.winners == ("A",)
    assert result.rounds[0].tallies == {"A": 5, "B": 3, "C": 2}
    assert result.tie_breaks == ()


def test_plurality_tie_across_the_cut_goes_to_the_earliest_in_the_seeded_lot_order():
    # A 3, B 2, C 2, two seats: A in, B and C tied for the second seat.
    election = ranked(ABC, (3, [0]), (2, [1]), (2, [2]))
    lot_order = java_shuffle([0, 1, 2], 7)
    expected = "B" if lot_order.index(1) < lot_order.index(2) else "C"
    result = count(election, method="plurality", seats=2, seed=7)
    assert result.winners == ("A", expected)
    (tie,) = result.tie_breaks
    assert (tie.purpose, tie.resolved_by, tie.chosen) == (
        "election",
        "seeded_lot",
        expected,
    )
    assert set(tie.tied) == {"B", "C"}


def test_plurality_without_seed_uses_input_order_and_warns():
    election = ranked(ABC, (2, [1]), (2, [2]))
    result = count(election, method="plurality")
    assert result.winners == ("B",)
    assert result.tie_breaks[0].resolved_by == "input_order"
    assert result.warnings


def test_approval_from_a_grid_and_from_rankings():
    # Grid: A approved 2+1 = 3, B 2+3 = 5, C 3 -> B.
    grid = Election.from_grid(ABC, [[1, 1, 0], [1, 0, 0], [0, 1, 1]], [2, 1, 3])
    assert count(grid, method="approval").rounds[0].tallies == {"A": 3, "B": 5, "C": 3}
    assert count(grid, method="approval").winners == ("B",)
    # Rankings: every ranked candidate approved. A 2, B 2 + 1 = 3, C 1.
    election = ranked(ABC, (2, [0, 1]), (1, [1, 2]))
    assert count(election, method="approval").rounds[0].tallies == {
        "A": 2,
        "B": 3,
        "C": 1,
    }


def test_score_sums_scores_and_rejects_values_outside_the_range():
    # A: 5*2 + 0 = 10; B: 3*2 + 5 = 11; C: 1*2 + 4 = 6 -> B, then A with 2 seats.
    grid = Election.from_grid(ABC, [[5, 3, 1], [0, 5, 4]], [2, 1])
    result = count(grid, method="score", seats=2)
    assert result.winners == ("B", "A")
    assert result.rounds[0].tallies == {"A": 10, "B": 11, "C": 6}
    bad = Election.from_grid(ABC, [[6, 0, 0]])
    with pytest.raises(TallyInputError, match="outside 0..5"):
        count(bad, method="score")
    assert count(bad, method="score", max_score=10).winners == ("A",)


# ---------------------------------------------------------------------------
# STAR


def test_star_runoff_can_overturn_the_highest_total():
    # Totals: A 3*5 = 15, B 3*4 + 2*5 = 22, C 2*1 = 2 -> finalists B and A.
    # Runoff: 3 ballots score A above B, 2 score B above A -> A wins.
    grid = Election.from_grid(ABC, [[5, 4, 0], [0, 5, 1]], [3, 2])
    result = count(grid, method="star")
    assert result.winners == ("A",)
    scoring, runoff = result.rounds
    assert scoring.action == "scoring" and runoff.action == "runoff"
    assert scoring.tallies == {"A": 15, "B": 22, "C": 2}
    assert runoff.tallies["A"] == 3 and runoff.tallies["B"] == 2
    assert runoff.extra["no_preference"] == "0"


def test_star_finalist_tie_is_decided_head_to_head():
    # Totals: A 10, B 6 + 4 = 10, C 5 + 5 = 10 (three-way tie for two places).
    # Ballots: (5,3,0), (5,3,5), (0,4,5).  Head to head among the tied:
    # A vs B: ballots 1, 2 prefer A, ballot 3 prefers B -> A wins;
    # A vs C: ballot 1 prefers A, ballot 3 prefers C, ballot 2 equal -> tie;
    # B vs C: ballot 1 prefers B, ballots 2, 3 prefer C -> C wins.
    # Wins: A 1, B 0, C 1 -> A and C advance; runoff A vs C is 1-1,
    # equal totals, five-star counts A 2, C 2 -> lot (input order: A).
    grid = Election.from_grid(ABC, [[5, 3, 0], [5, 3, 5], [0, 4, 5]])
    result = count(grid, method="star")
    finalist_tie, runoff_tie = result.tie_breaks
    assert finalist_tie.purpose == "finalist"
    assert finalist_tie.resolved_by == "head_to_head"
    assert set(finalist_tie.chosen) == {"A", "C"}
    assert runoff_tie.purpose == "runoff"
    assert runoff_tie.resolved_by == "input_order"
    assert result.winners == ("A",)


def test_star_runoff_tie_goes_to_the_higher_total():
    # Totals A 5 + 1 = 6... ballots (5,4,0), (1,2,0): A 6, B 6?  Use (5,4,0),(2,3,0)
    # -> A 7, B 7, C 0; runoff 1-1.  Add (0,0,1): totals unchanged for A and B.
    # Make B's total higher: (5,4,0), (2,4,0): A 7, B 8 -> finalists B, A;
    # runoff: ballot 1 prefers A, ballot 2 prefers B -> 1-1 -> higher total B.
    grid = Election.from_grid(ABC, [[5, 4, 0], [2, 4, 0]])
    result = count(grid, method="star")
    assert result.winners == ("B",)
    assert result.tie_breaks[-1].resolved_by == "total_score"


# ---------------------------------------------------------------------------
# IRV


def test_irv_transfers_the_excluded_candidates_papers():
    # Round 1: A 4, B 3, C 2 of 9; majority needs 5.  C excluded.
    # Round 2: C's 2 papers go to B -> A 4, B 5: B elected.
    election = ranked(ABC, (4, [0]), (3, [1, 0]), (2, [2, 1]))
    result = count(election, method="irv")
    assert result.winners == ("B",)
    first, second = result.rounds
    assert first.threshold == 5 and first.excluded == ("C",)
    assert second.action == "elimination" and second.subject == ("C",)
    assert second.transfers == {"B": 2, "C": -2}
    assert second.tallies == {"A": 4, "B": 5, "C": 0}


def test_irv_counts_exhausted_papers_and_lowers_the_threshold():
    # Round 1: A 4, B 3, C 2 (C's papers rank nobody else).  C excluded,
    # 2 exhausted; round 2: 7 active votes, threshold 4: A elected with 4.
    election = ranked(ABC, (4, [0]), (3, [1]), (2, [2]))
    result = count(election, method="irv")
    assert result.winners == ("A",)
    assert result.rounds[1].exhausted == 2
    assert result.rounds[1].threshold == 4


def test_irv_exclusion_tie_is_broken_by_looking_back():
    # Candidates A B C D.  Round 1: A 5, B 4, C 3, D 2 (of 14; majority 8).
    # D excluded: 2 papers to C -> round 2: A 5, B 4, C 5?  Make D go to B:
    # round 2: A 5, B 6, C 3 -> C excluded ... we want a tie: D's papers to C
    # (1) and B (1): round 2: A 5, B 5, C 4 -> C excluded (no tie).
    # Instead: round 1 A 6, B 4, C 3, D 1; D -> C: round 2 A 6, B 4, C 4.
    # B and C tie on 4; look back to round 1: B 4 > C 3 -> C excluded.
    election = ranked(
        ["A", "B", "C", "D"], (6, [0]), (4, [1]), (3, [2, 1]), (1, [3, 2, 1])
    )
    result = count(election, method="irv")
    (tie,) = result.tie_breaks
    assert tie.purpose == "exclusion" and tie.resolved_by == "look_back"
    assert tie.chosen == "C" and tie.detail == {"round_compared": 1}
    # C's 4 papers all go to B: A 6, B 8 of 14 -> B elected.
    assert result.winners == ("B",)


def test_irv_lot_uses_the_java_shuffle_of_the_seed():
    # A and B tie 1-1 from round 1: two equal finalists, no earlier round,
    # so the lot elects the one earlier in the shuffled order.
    election = ranked(["A", "B"], (1, [0]), (1, [1]))
    for seed in (1, 2, 3, 4):
        order = java_shuffle([0, 1], seed)
        result = count(election, method="irv", seed=seed)
        assert result.winners == ("AB"[order[0]],)
        assert result.tie_breaks[0].resolved_by == "seeded_lot"
        assert result.seed == seed


def test_irv_rejects_more_than_one_seat():
    with pytest.raises(TallyUsageError):
        count(ranked(ABC, (1, [0])), method="irv", seats=2)


# ---------------------------------------------------------------------------
# Ballot normalisation (spec §2)


def test_a_skipped_rank_is_passed_over_except_under_scottish_rules():
    # Ballot A, (skip), B: IRV reads A then B; Scottish rules stop after A.
    election = Election(ABC, {((0,), (), (1,)): 1, ((2,),): 1, ((1,),): 1})
    irv = count(election, method="irv", seed=1)
    # Round 1: A 1, B 1, C 1: the three-way tie is drawn by lot; whatever
    # is excluded, A's paper moves on to B only under IRV.
    assert irv.rounds[0].tallies == {"A": 1, "B": 1, "C": 1}
    if irv.rounds[0].excluded == ("A",):
        assert irv.rounds[1].tallies["B"] == 2
    stv = count(election, method="stv", seats=1, rules="scottish", seed=1)
    if stv.rounds[0].excluded == ("A",):
        assert stv.rounds[1].exhausted == 100000


def test_an_overvote_ends_preferences_for_irv_but_is_an_equal_ranking_for_schulze():
    # Ballot (A=B), C: IRV has no usable preference -> invalid.
    election = Election(ABC, {((0, 1), (2,)): 2, ((2,),): 1})
    irv = count(election, method="irv")
    assert irv.input.invalid_count == 2 and irv.input.ballots == 1
    schulze = count(election, method="schulze")
    # d(A,C) = 2, d(C,A) = 1; d(A,B) = d(B,A) = 0; d(B,C) = 2, d(C,B) = 1.
    pairwise = schulze.rounds[0].extra["pairwise"]
    assert pairwise["A"]["C"] == "2" and pairwise["C"]["A"] == "1"
    assert pairwise["A"]["B"] == "0" and pairwise["B"]["A"] == "0"


def test_withdrawn_candidates_are_removed_from_ballots():
    # C withdrawn: the 3 C-first papers count for B -> B 5, A 4.
    election = Election(
        ABC,
        {((0,),): 4, ((1,),): 2, ((2,), (1,)): 3},
        withdrawn=frozenset({2}),
    )
    result = count(election, method="irv")
    assert result.rounds[0].tallies == {"A": 4, "B": 5}
    assert result.input.withdrawn == ("C",)


def test_repeated_marks_after_the_first_are_ignored():
    # A, A, B reads as A, B.
    election = Election(ABC, {((0,), (0,), (1,)): 1, ((2,),): 2, ((1,),): 1})
    result = count(election, method="irv")
    # Round 1: A 1, B 1, C 2: A and B tie; lot (input order) excludes A, whose
    # paper moves to B: B 2, C 2 -> equal finalists, look back: round 1 B 1,
    # C 2 -> C elected.
    assert result.rounds[1].tallies == {"A": 0, "B": 2, "C": 2}
    assert result.winners == ("C",)


def test_a_numpy_matrix_gives_the_same_count_as_lists():
    rows = [[0, 1, -1], [0, 1, -1], [1, 2, 0], [2, -1, -1], [2, 1, -1]]
    from_matrix = Election.from_rankings(ABC, np.array(rows))
    from_lists = Election.from_rankings(ABC, rows)
    assert dict(from_matrix.ballots) == dict(from_lists.ballots)
    for method in ("irv", "plurality", "schulze"):
        assert (
            count(from_matrix, method=method).to_dict()["rounds"]
            == count(from_lists, method=method).to_dict()["rounds"]
        )


def test_same_seed_gives_identical_results():
    election = ranked(ABC, (1, [0]), (1, [1]), (1, [2]))
    first = json.dumps(count(election, method="irv", seed=99).to_dict())
    second = json.dumps(count(election, method="irv", seed=99).to_dict())
    assert first == second


# ---------------------------------------------------------------------------
# Condorcet methods


SCHULZE_EXAMPLE = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]


def test_schulze_reproduces_the_published_example():
    # Schulze (2011), 45 voters: d[A][B] = 20, d[B][A] = 25, ... the widest
    # paths make E the winner (p[E][X] >= p[X][E] for all X).
    candidates = list("ABCDE")
    election = ranked(
        candidates,
        *[(w, [candidates.index(c) for c in order]) for w, order in SCHULZE_EXAMPLE],
    )
    result = count(election, method="schulze")
    assert result.winners == ("E",)
    pairwise = result.rounds[0].extra["pairwise"]
    assert pairwise["A"]["B"] == "20" and pairwise["B"]["A"] == "25"
    strengths = result.rounds[0].extra["path_strengths"]
    # Margins (d(X,Y) - d(Y,X)): E>B 9, B>A 5, A>C 7, C>E 3.  Widest path
    # E->A is E>B>A with strength min(9, 5) = 5; A->E is A>C>E, min(7, 3) = 3.
    assert strengths["E"]["A"] == "5" and strengths["A"]["E"] == "3"


def test_ranked_pairs_skips_the_pair_that_would_close_a_cycle():
    # 4 A>B>C, 3 B>C>A, 2 C>A>B.  Margins: B>C 7-2 = 5, A>B 6-3 = 3,
    # C>A 5-4 = 1.  Lock B>C, lock A>B, skip C>A (A>B>C>A).  A wins.
    election = ranked(ABC, (4, [0, 1, 2]), (3, [1, 2, 0]), (2, [2, 0, 1]))
    result = count(election, method="ranked-pairs")
    assert result.winners == ("A",)
    extra = result.rounds[0].extra
    assert extra["locked"] == [["B", "C"], ["A", "B"]]
    assert extra["skipped"] == [["C", "A"]]
    # Schulze agrees: p(A,C) = min(3, 5) = 3 > p(C,A) = 1.
    assert count(election, method="schulze").winners == ("A",)


def test_ranked_pairs_elects_the_condorcet_winner():
    # Tennessee capital: 42 M>N>C>K, 26 N>C>K>M, 15 C>K>N>M, 17 K>C>N>M.
    # Nashville beats every other city head to head.
    cities = ["M", "N", "C", "K"]
    election = ranked(
        cities,
        (42, [0, 1, 2, 3]),
        (26, [1, 2, 3, 0]),
        (15, [2, 3, 1, 0]),
        (17, [3, 2, 1, 0]),
    )
    assert count(election, method="ranked-pairs").winners == ("N",)
    assert count(election, method="schulze").winners == ("N",)


# ---------------------------------------------------------------------------
# STV


def test_scottish_surplus_transfer_matches_the_worked_example():
    # Spec §4.1: 8,994 valid papers, 4 seats: quota floor(8994/5) + 1 = 1,799.
    # X has 2,152 first preferences (169 then Y, 1,983 then Z); surplus 353.
    # TV = trunc5(353 / 2152) = 0.16403; Y gains 169 x 0.16403 = 27.72107;
    # Z gains 1983 x 0.16403 = 325.27149; 2152 x 0.16403 = 352.99256 moves,
    # rounding loss 353 - 352.99256 = 0.00744; X keeps 1,799.00000.
    names = ["X", "Y", "Z", "W", "V", "U"]
    election = ranked(
        names,
        (169, [0, 1]),
        (1983, [0, 2]),
        (1700, [1]),
        (1700, [2]),
        (1700, [3]),
        (1742, [4]),
    )
    result = count(election, method="stv", seats=4)
    assert result.to_dict()["quota"] == "1799.00000"
    stage = result.to_dict()["rounds"][1]
    assert stage["action"] == "surplus" and stage["subject"] == ["X"]
    assert stage["amount"] == "353.00000"
    assert stage["transfer_values"] == ["0.16403"]
    assert stage["transfers"] == {
        "X": "-353.00000",
        "Y": "27.72107",
        "Z": "325.27149",
    }
    assert stage["tallies"]["X"] == "1799.00000"
    assert stage["rounding_loss"] == "0.00744"


def test_stv_with_one_seat_elects_the_irv_winner():
    election = ranked(ABC, (4, [0]), (3, [1, 0]), (2, [2, 1]))
    assert (
        count(election, method="stv", seats=1).winners
        == count(election, method="irv").winners
    )


def test_stv_rounds_conserve_the_valid_papers():
    names = list("ABCDE")
    election = ranked(
        names,
        (7, [0, 1, 2]),
        (5, [1, 0]),
        (4, [2, 3, 4]),
        (3, [3, 2]),
        (2, [4, 0, 1]),
        (1, [4]),
    )
    for rules, unit in (("scottish", 10**5), ("wigm", 10**4), ("meek", 10**9)):
        result = count(election, method="stv", seats=2, rules=rules)
        for stage in result.rounds:
            total = (
                sum(stage.tallies.values())
                + stage.exhausted
                + stage.rounding_loss_total
            )
            assert total == 22 * unit, (rules, stage.round)


def test_unknown_method_or_rules_is_a_usage_error():
    election = ranked(ABC, (1, [0]))
    with pytest.raises(TallyUsageError):
        count(election, method="borda")
    with pytest.raises(TallyUsageError):
        count(election, method="stv", rules="ers97")


def test_elections_that_do_not_fit_the_model_are_rejected():
    with pytest.raises(ValueError, match="candidate indices 0..2"):
        Election(ABC, {((3,),): 1})
    with pytest.raises(ValueError, match="positive integer"):
        Election(ABC, {((0,),): 0})
    with pytest.raises(ValueError, match="one integer per candidate"):
        Election(ABC, {(1, 0): 1}, kind="grid")
    with pytest.raises(ValueError, match="distinct"):
        Election(["A", "A"], {})
    with pytest.raises(ValueError, match="-1"):
        Election.from_rankings(ABC, np.array([[0, 3]]))


def test_pairwise_counts_from_a_matrix_equal_those_from_rankings():
    # The matrix path computes d[x][y] = R[x] - A[y][x] with numpy; the
    # ranking path walks every ballot.  They must agree exactly, including
    # skipped ranks, repeated marks and withdrawn candidates.
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(2, 6))
        matrix = rng.integers(-1, n, size=(int(rng.integers(1, 12)), 5))
        weights = rng.integers(1, 5, size=matrix.shape[0])
        withdrawn = frozenset({n - 1}) if rng.random() < 0.3 else frozenset()
        names = [f"C{i}" for i in range(n)]
        fast = Election.from_rankings(names, matrix, weights, withdrawn=withdrawn)
        slow = Election.from_rankings(
            names, matrix.tolist(), weights.tolist(), withdrawn=withdrawn
        )
        for method in ("schulze", "ranked-pairs"):
            a = count(fast, method=method)
            b = count(slow, method=method)
            assert a.rounds == b.rounds and a.winners == b.winners
            assert a.input.invalid_count == b.input.invalid_count
