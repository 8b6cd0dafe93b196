"""LEXIMIN is exact: checked against brute force and the published definition.

The oracle here shares no code with the engine: it lists every panel of a small
pool person by person (itertools), then computes the LEXIMIN probabilities with
scipy's ``linprog`` straight from the definition: maximise the smallest
probability of the people not yet fixed, then fix everyone who cannot rise above
it (one linear program per person), and repeat.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from commonground.engines.sortition import (
    InfeasibleQuotasError,
    Person,
    Quota,
    check_people_panel,
    select_panel,
)


def _all_panels(people: list[Person], quotas: list[Quota], k: int) -> np.ndarray:
    """Every valid panel as a 0/1 matrix (panels x people)."""
    rows = []
    for chosen in combinations(range(len(people)), k):
        ids = [people[i].id for i in chosen]
        if not check_people_panel(people, quotas, ids):
            row = np.zeros(len(people))
            row[list(chosen)] = 1
            rows.append(row)
    return np.array(rows)


def _exact_leximin(panels: np.ndarray) -> np.ndarray:
    """LEXIMIN probabilities over the given panels, from the definition."""
    count, n = panels.shape
    fixed = np.full(n, np.nan)
    # variables: one weight per panel, then z
    equal = (np.r_[np.ones(count), 0.0][None, :], [1.0])
    while np.isnan(fixed).any():
        free = np.isnan(fixed)
        upper_rows = []
        upper_rhs = []
        for person in range(n):
            row = np.r_[-panels[:, person], 1.0 if free[person] else 0.0]
            upper_rows.append(row)
            upper_rhs.append(0.0 if free[person] else -fixed[person] + 1e-10)
        cost = np.r_[np.zeros(count), -1.0]
        stage = linprog(
            cost,
            A_ub=np.array(upper_rows),
            b_ub=upper_rhs,
            A_eq=equal[0],
            b_eq=equal[1],
            bounds=[(0, None)] * count + [(0, 1)],
            method="highs",
        )
        assert stage.status == 0
        z = -stage.fun
        bounds = [(0, None)] * count + [(z - 1e-10, z - 1e-10)]
        stuck = []
        for person in np.flatnonzero(free):
            rise = linprog(
                np.r_[-panels[:, person], 0.0],
                A_ub=np.array(upper_rows),
                b_ub=upper_rhs,
                A_eq=equal[0],
                b_eq=equal[1],
                bounds=bounds,
                method="highs",
            )
            assert rise.status == 0
            if -rise.fun <= z + 1e-7:
                stuck.append(person)
        assert stuck
        fixed[stuck] = z
    return fixed


def _check_exact(people: list[Person], quotas: list[Quota], k: int) -> None:
    expected = _exact_leximin(_all_panels(people, quotas, k))
    for algorithm in ("leximin", "maximin"):
        result = select_panel(people, quotas, k, algorithm=algorithm, lottery_size=20)
        ours = np.array([result.probabilities[p.id] for p in people])
        assert np.abs(ours - expected).max() <= 1e-6, (algorithm, ours, expected)


# Found by searching random pools: the LEXIMIN point of the relaxed polytope of
# expected seats is not a mixture of panels here, so the engine must cut it off
# (trace "cuts" > 0) before it reaches the true LEXIMIN. Each row: the three
# 0/1 features of the people, the quotas (feature index, value, min, max), k.
CUT_CASES = [
    (
        [[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]
        + [[1, 1, 0]],
        [(0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 0, 1), (1, 1, 0, 1), (2, 0, 0, 1)]
        + [(2, 1, 1, 1)],
        2,
    ),
    (
        [[0, 1, 0], [0, 0, 1], [1, 1, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 0]]
        + [[0, 1, 0]],
        [(0, 0, 0, 1), (0, 1, 1, 2), (1, 0, 0, 1), (1, 1, 1, 2), (2, 0, 1, 2)]
        + [(2, 1, 1, 2)],
        3,
    ),
]


def _binary_pool(
    features: list[list[int]], rules: list[tuple[int, int, int, int]]
) -> tuple[list[Person], list[Quota]]:
    people = [
        Person(str(i + 1), {f"f{j}": "ab"[value] for j, value in enumerate(row)})
        for i, row in enumerate(features)
    ]
    quotas = [Quota(f"f{f}", "ab"[v], low, high) for f, v, low, high in rules]
    return people, quotas


@pytest.mark.parametrize(("features", "rules", "k"), CUT_CASES)
def test_relaxed_point_out_of_reach_is_cut_off_and_the_result_is_exact(
    features, rules, k
):
    people, quotas = _binary_pool(features, rules)
    result = select_panel(people, quotas, k, lottery_size=20)
    assert result.trace["cuts"] >= 1
    _check_exact(people, quotas, k)


def test_generated_hard_pool_matches_brute_force():
    # Six people per value pattern is too many to enumerate; 9 people, k = 3,
    # three features with skewed quotas keep it at C(9, 3) = 84 panels.
    features = [
        [0, 0, 1],
        [0, 1, 1],
        [1, 1, 0],
        [1, 0, 0],
        [0, 0, 0],
        [1, 1, 1],
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 1],
    ]
    rules = [(0, 0, 1, 2), (0, 1, 1, 2), (1, 0, 1, 2), (1, 1, 1, 1), (2, 0, 1, 2)]
    rules.append((2, 1, 1, 2))
    people, quotas = _binary_pool(features, rules)
    _check_exact(people, quotas, 3)


@st.composite
def _small_pools(draw):  # type: ignore[no-untyped-def]
    size = draw(st.integers(4, 9))
    k = draw(st.integers(1, 3))
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 1)),
            min_size=size,
            max_size=size,
        )
    )
    people = [
        Person(str(i), {"g": "ab"[g], "h": "xyz"[h], "e": "pq"[e]})
        for i, (g, h, e) in enumerate(rows)
    ]
    quotas = []
    for feature, values in (("g", "ab"), ("h", "xyz"), ("e", "pq")):
        for value in values:
            low = draw(st.integers(0, 2))
            quotas.append(Quota(feature, value, low, low + draw(st.integers(0, 2))))
    seed = draw(st.integers(0, 2**32 - 1))
    return people, quotas, k, seed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_pools())
def test_random_small_pools_meet_quotas_in_expectation_and_are_exact(instance):
    people, quotas, k, seed = instance
    try:
        result = select_panel(people, quotas, k, seed=seed, lottery_size=30)
    except InfeasibleQuotasError as error:
        assert error.relaxation or "no change" in str(error)
        assert not len(_all_panels(people, quotas, k))
        return
    probabilities = result.probabilities
    # the probabilities add up to the panel size ...
    assert sum(probabilities.values()) == pytest.approx(k, abs=1e-9)
    # ... and meet every quota in expectation
    for quota in quotas:
        expected = sum(
            p
            for person in people
            if person.features[quota.feature] == quota.value
            for p in [probabilities[person.id]]
        )
        assert quota.minimum - 1e-9 <= expected <= quota.maximum + 1e-9
    # they are the LEXIMIN probabilities
    exact = _exact_leximin(_all_panels(people, quotas, k))
    ours = np.array([probabilities[p.id] for p in people])
    assert np.abs(ours - exact).max() <= 1e-6
    # and the lottery and the draw are reproducible from the seed
    again = select_panel(people, quotas, k, seed=seed, lottery_size=30)
    assert again.lottery.to_bytes() == result.lottery.to_bytes()
    assert again.lottery.draw(seed).panel == result.lottery.draw(seed).panel
    assert again.to_json() == result.to_json()
