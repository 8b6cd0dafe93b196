"""Rounding to a uniform lottery, the canonical lottery file and the draw."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from commonground.engines.sortition import (
    Lottery,
    Person,
    Quota,
    SortitionInputError,
    select_panel,
)
from commonground.engines.sortition._lottery import dependent_rounding
from commonground.engines.sortition._synthetic import synthetic_pool


def test_dependent_rounding_keeps_the_sum_and_rounds_each_value_down_or_up():
    rng = np.random.default_rng(0)
    values = np.array([0.25, 1.5, 2.75, 0.5, 3.0, 0.0, 2.0])  # sums to 10
    for _ in range(50):
        rounded = dependent_rounding(values, rng)
        assert rounded.sum() == 10
        assert (rounded >= np.floor(values)).all() and (
            rounded <= np.ceil(values)
        ).all()


def test_dependent_rounding_is_unbiased():
    # Each value's average over many roundings approaches the value.
    rng = np.random.default_rng(1)
    values = np.array([0.2, 0.3, 0.5, 1.7, 0.3])
    mean = np.mean([dependent_rounding(values, rng) for _ in range(4000)], axis=0)
    assert np.abs(mean - values).max() < 0.04


def test_lottery_bound_holds_on_a_pool_with_many_types():
    people, quotas = synthetic_pool(120, 15, [3, 4, 3], slack=0.1, seed=3)
    result = select_panel(people, quotas, 15, lottery_size=300, seed=2)
    worst = 0.0
    for pid, probability in result.probabilities.items():
        deviation = abs(result.lottery_probabilities[pid] - probability)
        assert deviation <= result.lottery_bounds[pid] + 1e-12
        worst = max(worst, deviation)
    assert result.to_json()["lottery"]["max_deviation"] == pytest.approx(worst)


def test_lottery_file_is_canonical_json_and_its_hash_is_the_files_hash():
    lottery = Lottery(
        panel_size=2, panels=(("é", "b"), ("c", "d")), algorithm="leximin", seed=4
    )
    data = lottery.to_bytes()
    assert data.startswith(
        b'{"algorithm":"leximin","format":"commonground-sortition-lottery/1"'
    )
    assert b" " not in data and not data.endswith(b"\n")
    assert "é".encode() in data
    assert lottery.sha256 == hashlib.sha256(data).hexdigest()
    assert Lottery.from_bytes(data) == lottery


@pytest.mark.parametrize(("number", "index"), [(0, 0), (2, 2), (3, 0), (10**30 + 1, 2)])
def test_draw_picks_r_mod_m(number, index):
    lottery = Lottery(panel_size=1, panels=(("a",), ("b",), ("c",)))
    drawn = lottery.draw(number)
    assert (drawn.index, drawn.panel) == (index, lottery.panels[index])


def test_draw_rejects_negative_or_non_integer_numbers():
    lottery = Lottery(panel_size=1, panels=(("a",),))
    with pytest.raises(SortitionInputError):
        lottery.draw(-1)
    with pytest.raises(SortitionInputError):
        lottery.draw(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (
            {
                "format": "commonground-sortition-lottery/1",
                "panel_size": 0,
                "size": 0,
                "panels": [],
            },
            "panel_size",
        ),
        (
            {
                "format": "commonground-sortition-lottery/1",
                "panel_size": 1,
                "size": 1,
                "panels": [],
            },
            "panels",
        ),
        (
            {
                "format": "commonground-sortition-lottery/1",
                "panel_size": 2,
                "size": 1,
                "panels": [["a"]],
            },
            "panels",
        ),
        (
            {
                "format": "commonground-sortition-lottery/1",
                "panel_size": 1,
                "size": 2,
                "panels": [["a"]],
            },
            "size",
        ),
    ],
)
def test_malformed_lottery_files_name_the_field(value, field):
    with pytest.raises(SortitionInputError) as caught:
        Lottery.from_bytes(json.dumps(value).encode(), source="pub.json")
    assert caught.value.field == field and "pub.json" in str(caught.value)


def test_people_of_one_type_are_chosen_by_lottery_counts_differing_by_at_most_one():
    # 7 identical people, 3 seats: each has probability 3/7; in a lottery of 10
    # panels the 30 seats go 4 or 5 times to each person (30 / 7 = 4.29).
    people = [Person(str(i), {"g": "x"}) for i in range(7)]
    result = select_panel(people, [Quota("g", "x", 0, 3)], 3, lottery_size=10)
    counts = sorted(round(10 * q) for q in result.lottery_probabilities.values())
    assert counts == [4, 4, 4, 4, 4, 5, 5]
    for panel, _ in result.distribution:
        assert len(set(panel)) == 3
    assert sum(p for _, p in result.distribution) == pytest.approx(1.0)
    for probability in result.probabilities.values():
        assert probability == pytest.approx(3 / 7)
