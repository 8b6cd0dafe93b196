"""Hand-checked small cases: households, types, MAXIMIN vs LEXIMIN, legacy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.engines.sortition import (
    Person,
    Quota,
    SortitionInputError,
    check_people_panel,
    select_panel,
)


def _people(spec: str, household: dict[int, str] | None = None) -> list[Person]:
    """One person per character: the character is their value of feature g."""
    household = household or {}
    return [
        Person(str(i + 1), {"g": value}, household.get(i + 1))
        for i, value in enumerate(spec)
    ]


def test_leximin_raises_the_rest_after_the_scarce_group_is_fixed():
    # 1 "a" person and 4 "b" people, panel of 2 with exactly one a and one b:
    # the a person is on every panel (probability 1), each b has 1/4.
    people = _people("abbbb")
    quotas = [Quota("g", "a", 1, 1), Quota("g", "b", 1, 1)]
    result = select_panel(people, quotas, 2, lottery_size=8)
    assert result.probabilities["1"] == pytest.approx(1.0)
    for pid in "2345":
        assert result.probabilities[pid] == pytest.approx(0.25)


def test_leximin_second_level_is_maximised_not_just_the_minimum():
    # Features g (a/b) and h (x/y). People: 1=(a,x) 2=(a,y) 3=(b,x) 4=(b,y)
    # 5=(b,y). Panel of 2 with exactly one a and exactly one x.
    # Valid panels: {1,4},{1,5} (a,x + b,y) and {2,3} (a,y + b,x).
    # Person 1 or 2 is always chosen, so p1 + p2 = 1 and p3 = p2, p4 + p5 = p1.
    # LEXIMIN: maximise the minimum of (p1, p2, p2, p1/2, p1/2): p1 = 2/3,
    # p2 = p3 = 1/3, p4 = p5 = 1/3 (all four equal at 1/3, then p1 = 2/3).
    people = [
        Person("1", {"g": "a", "h": "x"}),
        Person("2", {"g": "a", "h": "y"}),
        Person("3", {"g": "b", "h": "x"}),
        Person("4", {"g": "b", "h": "y"}),
        Person("5", {"g": "b", "h": "y"}),
    ]
    quotas = [
        Quota("g", "a", 1, 1),
        Quota("g", "b", 0, 2),
        Quota("h", "x", 1, 1),
        Quota("h", "y", 0, 2),
    ]
    result = select_panel(people, quotas, 2, lottery_size=6)
    expected = {"1": 2 / 3, "2": 1 / 3, "3": 1 / 3, "4": 1 / 3, "5": 1 / 3}
    for pid, value in expected.items():
        assert result.probabilities[pid] == pytest.approx(value, abs=1e-9)
    for panel, _ in result.distribution:
        assert check_people_panel(people, quotas, panel) == []


def test_household_rule_breaks_symmetry_between_identical_people():
    # People 1, 2, 3 live together; 4 lives alone; all have the same value.
    # Any panel of 2 takes at most one of 1-3, so person 4 is on every panel:
    # p4 = 1 and p1 = p2 = p3 = 1/3. Without the household rule all get 1/2.
    people = _people("xxxx", household={1: "h1", 2: "h1", 3: "h1", 4: "h2"})
    quotas = [Quota("g", "x", 0, 2)]
    result = select_panel(people, quotas, 2, lottery_size=30)
    assert result.probabilities["4"] == pytest.approx(1.0)
    for pid in "123":
        assert result.probabilities[pid] == pytest.approx(1 / 3)
    for panel in result.lottery.panels:
        assert "4" in panel and check_people_panel(people, quotas, panel) == []
    free = select_panel(_people("xxxx"), quotas, 2)
    assert all(p == pytest.approx(0.5) for p in free.probabilities.values())


def test_legacy_estimates_probabilities_from_valid_simulated_panels():
    people = _people("abbbb")
    quotas = [Quota("g", "a", 1, 1), Quota("g", "b", 1, 1)]
    result = select_panel(people, quotas, 2, algorithm="legacy", legacy_draws=400)
    assert result.probabilities["1"] == pytest.approx(1.0)
    assert sum(result.probabilities.values()) == pytest.approx(2.0)
    for panel, _ in result.distribution:
        assert check_people_panel(people, quotas, panel) == []


def test_same_seed_gives_the_same_lottery_and_another_seed_may_differ():
    people = [Person(str(i), {"g": "ab"[i % 2], "h": "xyz"[i % 3]}) for i in range(30)]
    quotas = [
        Quota("g", "a", 3, 4),
        Quota("g", "b", 3, 4),
        Quota("h", "x", 2, 3),
        Quota("h", "y", 2, 3),
        Quota("h", "z", 2, 3),
    ]
    first = select_panel(people, quotas, 7, seed=5)
    again = select_panel(people, quotas, 7, seed=5)
    assert first.lottery.sha256 == again.lottery.sha256
    assert first.to_json() == again.to_json()
    other = select_panel(people, quotas, 7, seed=6)
    for pid in first.probabilities:
        assert other.probabilities[pid] == pytest.approx(
            first.probabilities[pid], abs=1e-9
        )


def test_unknown_algorithm_and_bad_numbers_are_input_errors():
    people = _people("ab")
    quotas = [Quota("g", "a", 0, 1), Quota("g", "b", 0, 1)]
    with pytest.raises(SortitionInputError, match="unknown algorithm"):
        select_panel(people, quotas, 1, algorithm="nash")
    with pytest.raises(SortitionInputError, match="lottery"):
        select_panel(people, quotas, 1, lottery_size=0)
    with pytest.raises(SortitionInputError, match="negative"):
        select_panel(people, quotas, 1, random_number=-1)
    with pytest.raises(SortitionInputError, match="seed"):
        select_panel(people, quotas, 1, seed=-2)
    with pytest.raises(SortitionInputError, match="no quota"):
        select_panel([Person("1", {"g": "c"})], quotas, 1)
    with pytest.raises(SortitionInputError, match="twice"):
        select_panel([Person("1", {"g": "a"}), Person("1", {"g": "b"})], quotas, 1)


@st.composite
def _instances(draw):  # type: ignore[no-untyped-def]
    size = draw(st.integers(6, 14))
    g = draw(st.lists(st.sampled_from("ab"), min_size=size, max_size=size))
    h = draw(st.lists(st.sampled_from("xyz"), min_size=size, max_size=size))
    houses = draw(
        st.lists(st.sampled_from([None, "1", "2"]), min_size=size, max_size=size)
    )
    people = [Person(str(i), {"g": g[i], "h": h[i]}, houses[i]) for i in range(size)]
    k = draw(st.integers(2, 4))
    quotas = []
    for feature, values, column in (("g", "ab", g), ("h", "xyz", h)):
        for value in values:
            have = column.count(value)
            low = draw(st.integers(0, min(have, 2)))
            quotas.append(Quota(feature, value, low, low + draw(st.integers(0, 3))))
    return people, quotas, k


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_instances())
def test_random_small_pools_give_valid_fair_distributions(instance):
    from commonground.engines.sortition import InfeasibleQuotasError

    people, quotas, k = instance
    try:
        leximin = select_panel(people, quotas, k, lottery_size=50)
    except InfeasibleQuotasError as error:
        assert error.relaxation or "no change" in str(error)
        return
    maximin = select_panel(people, quotas, k, algorithm="maximin", lottery_size=50)
    for result in (leximin, maximin):
        assert sum(result.probabilities.values()) == pytest.approx(k)
        for panel, _ in result.distribution:
            assert check_people_panel(people, quotas, panel) == []
        for panel in result.lottery.panels:
            assert check_people_panel(people, quotas, panel) == []
        for pid, probability in result.probabilities.items():
            deviation = abs(result.lottery_probabilities[pid] - probability)
            assert deviation <= result.lottery_bounds[pid] + 1e-12
    lex = np.sort(list(leximin.probabilities.values()))
    mxm = np.sort(list(maximin.probabilities.values()))
    assert lex[0] == pytest.approx(mxm[0], abs=1e-7)
    differ = np.flatnonzero(np.abs(lex - mxm) > 1e-7)
    assert not len(differ) or lex[differ[0]] > mxm[differ[0]]
