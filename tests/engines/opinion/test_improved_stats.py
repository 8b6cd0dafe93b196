"""Hand-checked statistics of the improved mode (spec §5.7–5.9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from commonground.engines.opinion._improved._stats import (
    benjamini_hochberg,
    group_aware,
    majority,
    priority,
    representative,
)


def arrays(*rows: list[float]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def test_benjamini_hochberg_by_hand():
    # p sorted: 0.01, 0.02, 0.03, 0.5 with m = 4: raw p*m/rank = 0.04, 0.04,
    # 0.04, 0.5; the step-up minimum from the right keeps them.
    p = np.asarray([0.03, 0.5, 0.01, 0.02])
    assert benjamini_hochberg(p).tolist() == pytest.approx([0.04, 0.5, 0.04, 0.04])
    # Monotone: 0.2*2/1 = 0.4 > 0.3*2/2 = 0.3, so the smallest becomes 0.3.
    assert benjamini_hochberg(np.asarray([0.2, 0.3])).tolist() == pytest.approx(
        [0.3, 0.3]
    )
    assert benjamini_hochberg(np.asarray([0.9, 0.95])).max() <= 1.0


def test_group_aware_agreement_does_not_fall_with_more_groups():
    # Every group agrees 9 of 10 (a_g = 9.5/11): the geometric mean is a_g for
    # any number of groups, while Pol.is's product would be a_g**k.
    for k in (2, 3, 6, 8):
        agree = np.full((k, 1), 9.0)
        disagree = np.full((k, 1), 1.0)
        seen = np.full((k, 1), 10.0)
        result = group_aware(agree, disagree, seen)
        assert result.agree[0] == pytest.approx(9.5 / 11)
        assert result.disagree[0] == pytest.approx(1.5 / 11)
        assert result.net_min[0] == pytest.approx(8 / 11)
        assert result.common_ground == [0]


def test_group_aware_counts_disagreement():
    # Statement 0: group 0 agrees 8/10, group 1 disagrees 8/10.
    # Statement 1: both agree 8/10 and nobody disagrees (2 passes each).
    agree = arrays([8, 8], [2, 8])
    disagree = arrays([2, 0], [8, 0])
    seen = arrays([10, 10], [10, 10])
    result = group_aware(agree, disagree, seen)
    a0 = math.sqrt((8.5 / 11) * (2.5 / 11))
    assert result.agree[0] == pytest.approx(a0)
    assert result.net_min[0] == pytest.approx((2.5 - 8.5) / 11)
    assert result.net_min[1] == pytest.approx(8 / 11)
    assert result.common_ground == [1]


def test_common_ground_needs_three_votes_in_every_group_and_is_ranked():
    agree = arrays([9, 2, 20, 30], [9, 9, 20, 30])
    disagree = arrays([0, 0, 5, 0], [0, 0, 5, 0])
    seen = arrays([9, 2, 25, 30], [9, 9, 25, 30])
    result = group_aware(agree, disagree, seen)
    # Column 1 has S = 2 in group 0; column 2 has net (20.5-5.5)/26 = 0.577.
    # Columns 0 and 3: net 9/10 and 30/31; 3 first.
    assert result.common_ground == [3, 0, 2]


def test_representative_statement_by_hand():
    # Group 0 agrees 18 of 20 with statement 0; group 1 agrees 2 of 20.
    agree = arrays([18, 10], [2, 10])
    disagree = arrays([2, 10], [18, 10])
    seen = arrays([20, 20], [20, 20])
    reps = representative(agree, disagree, seen, fdr=0.1, max_representative=5)
    assert [r.column for r in reps[0]] == [0]
    assert [r.column for r in reps[1]] == [0]
    top = reps[0][0]
    assert top.agree and not reps[1][0].agree
    p_group, p_rest = 18.5 / 21, 2.5 / 21
    pooled = 21 / 42
    z = (p_group - p_rest) / math.sqrt(pooled * pooled * (2 / 21))
    assert top.p_success == pytest.approx(p_group)
    assert top.repness == pytest.approx(p_group / p_rest)
    assert top.repness_test == pytest.approx(z)
    assert top.p_test == pytest.approx(2 * math.sqrt(21) * (19 / 21 - 0.5))
    # Four tests on column 0 and four on column 1 (all p = 0.5 there).
    p_values = sorted([ndtr(-z)] * 2 + [ndtr(z)] * 2 + [0.5] * 4)
    assert top.q_value == pytest.approx(p_values[0] * 8 / 2)
    assert (top.n_success, top.n_trials) == (18, 20)


def test_representative_requires_three_votes_and_a_majority():
    # Group 0 agrees 2 of 2 (too few trials); column 1: 40 % vs 5 % (no majority).
    agree = arrays([2, 8], [0, 1])
    disagree = arrays([0, 12], [20, 19])
    seen = arrays([2, 20], [20, 20])
    reps = representative(agree, disagree, seen, fdr=0.5, max_representative=5)
    assert all(r.column != 0 or not r.agree for r in reps[0])
    assert all(not (r.column == 1 and r.agree) for r in reps[0])


def test_majority_lists_by_hand():
    # 30 agree of 32 seen: p = 31/34, pat = 2*sqrt(33)*(31/33 - 1/2).
    agree = np.asarray([30.0, 1.0, 5.0])
    disagree = np.asarray([1.0, 30.0, 5.0])
    seen = np.asarray([32.0, 31.0, 10.0])
    agree_list, disagree_list = majority(agree, disagree, seen)
    assert [entry[0] for entry in agree_list] == [0]
    assert agree_list[0][3] == pytest.approx(31 / 34)
    assert agree_list[0][4] == pytest.approx(2 * math.sqrt(33) * (31 / 33 - 0.5))
    assert [entry[0] for entry in disagree_list] == [1]


def test_priority_formula_by_hand():
    # A=6, D=2, S=10 (2 passes), extremity 0.5:
    # imp = (1 - 3/12) * 1.5 * 7/12; priority = (imp * (1 + 8 * 2**-2))**2.
    value = priority(
        np.asarray([6.0]), np.asarray([2.0]), np.asarray([10.0]), np.asarray([0.5])
    )
    importance = (1 - 3 / 12) * 1.5 * 7 / 12
    assert value[0] == pytest.approx((importance * 3) ** 2)
