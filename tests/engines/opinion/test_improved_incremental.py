"""partial_fit in improved mode gives the result of a fit on all votes (spec §5.10)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from commonground.engines.opinion import OpinionMap, StatementTable, VoteTable
from commonground.engines.opinion._data import concat_votes


def conversation(
    participants: int, statements: int, coverage: float, seed: int
) -> list[tuple[str, str, int, None]]:
    """Three opinion camps on statements with random directions."""
    rng = np.random.default_rng(seed)
    direction = rng.uniform(0, 2 * np.pi, statements)
    records = []
    for p in range(participants):
        angle = 2 * np.pi * (p % 3) / 3
        leans = np.cos(angle - direction) > 0
        for s in np.flatnonzero(rng.random(statements) < coverage).tolist():
            if rng.random() < 0.1:
                vote = 0
            else:
                vote = 1 if (rng.random() < 0.85) == leans[s] else -1
            records.append((str(p), str(s), vote, None))
    return records


def assert_same(actual: Any, expected: Any, where: str = "") -> None:
    """Equal JSON values, floats within 1e-9."""
    if isinstance(expected, float) and isinstance(actual, float):
        assert math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9), where
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), where
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, where


def batches(records: list, count: int, seed: int) -> list[list]:
    cuts = np.sort(
        np.random.default_rng(seed).choice(len(records), count - 1, replace=False)
    )
    return [list(chunk) for chunk in np.split(np.asarray(records, dtype=object), cuts)]


def table(rows: list) -> VoteTable:
    return VoteTable.from_records([tuple(r) for r in rows])


def without_input(data: dict) -> dict:
    # input.vote_rows and path are the same, but keep the comparison about maths.
    return {key: value for key, value in data.items() if key != "params"}


@pytest.mark.parametrize(
    ("participants", "statements", "coverage"),
    [(150, 40, 0.7), (120, 600, 0.3)],  # eigh path, then eigsh with a warm start
)
def test_partial_fit_in_seven_batches_equals_fit_on_everything(
    participants, statements, coverage
):
    records = conversation(participants, statements, coverage, seed=participants)
    shuffled = list(records)
    np.random.default_rng(3).shuffle(shuffled)
    parts = batches(shuffled, 7, seed=4)
    model = OpinionMap(mode="improved", seed=0).fit(table(parts[0]))
    for part in parts[1:]:
        model.partial_fit(table(part))
    full = OpinionMap(mode="improved", seed=0).fit(table(shuffled))
    assert model.k_ == full.k_ >= 2
    assert model.participant_ids_ == full.participant_ids_
    assert np.array_equal(model.labels_, full.labels_)
    assert_same(
        without_input(model.result_.to_dict()), without_input(full.result_.to_dict())
    )
    assert np.abs(model.components_ - full.components_).max() < 1e-9


def test_changed_votes_in_a_later_batch_win_as_in_a_full_fit():
    records = conversation(90, 30, 0.8, seed=5)
    rng = np.random.default_rng(6)
    changed = [
        (p, s, (v + 2) % 3 - 1, None)
        for p, s, v, _ in (
            records[i] for i in rng.choice(len(records), 200, replace=False)
        )
    ]
    model = OpinionMap(seed=0).fit(table(records)).partial_fit(table(changed))
    full = OpinionMap(seed=0).fit(concat_votes(table(records), table(changed)))
    assert_same(model.result_.to_dict(), full.result_.to_dict())
    assert model.result_.input.votes == len(records)
    assert model.result_.input.vote_rows == len(records) + 200


def test_partial_fit_with_new_moderation_equals_fit():
    records = conversation(90, 30, 0.8, seed=7)
    moderation = StatementTable.from_records([("3", -1, False), ("4", 0, True)])
    model = OpinionMap(seed=0).fit(table(records[:1000]))
    model.partial_fit(table(records[1000:]), moderation)
    full = OpinionMap(seed=0).fit(table(records), moderation)
    assert_same(model.result_.to_dict(), full.result_.to_dict())
    assert model.result_.input.moderated_out == ("3", "4")


def test_cache_arrays_match_the_result():
    from commonground.engines.opinion._improved import fit_improved

    records = conversation(60, 20, 0.8, seed=8)
    result, cache = fit_improved(table(records), None, {}, 0, None)
    assert cache.participant_ids == tuple(p.id for p in result.participants)
    assert cache.embedding.tolist() == [[p.x, p.y] for p in result.participants]
    assert cache.labels.tolist() == [
        -1 if p.group is None else p.group for p in result.participants
    ]
    assert cache.in_conv.tolist() == [p.in_conv for p in result.participants]
    assert cache.column_ids == tuple(result.consensus.group_aware)
