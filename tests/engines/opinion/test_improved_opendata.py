"""Improved mode on the five openData conversations (spec §8.2.3).

Schema-valid JSON, byte-identical reruns, the same bytes with the vote rows
shuffled, and partial_fit in 7 random batches equal to one fit.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from commonground.engines.opinion import OpinionMap, VoteTable, read_polis_export
from support import shared_data

FOLDERS = [
    "15-per-hour-seattle",
    "brexit-consensus",
    "football-concussions",
    "scoop-hivemind.ubi",
    "vtaiwan.uberx",
]


def rows(votes: VoteTable, index: np.ndarray) -> VoteTable:
    """The same table restricted to (or reordered by) ``index``."""
    return VoteTable(
        participant_ids=votes.participant_ids,
        statement_ids=votes.statement_ids,
        participant=votes.participant[index],
        statement=votes.statement[index],
        vote=votes.vote[index],
        timestamp=None if votes.timestamp is None else votes.timestamp[index],
        source=votes.source,
        line=None if votes.line is None else votes.line[index],
        path=votes.path,
    )


def check_schema(data: dict[str, Any]) -> None:
    assert list(data) == [
        "format",
        "mode",
        "replay",
        "seed",
        "input",
        "k",
        "participants",
        "groups",
        "consensus",
        "statements",
        "diagnostics",
    ]
    assert data["format"] == "commonground-opinion/1" and data["mode"] == "improved"
    assert [g["id"] for g in data["groups"]] == list(range(data["k"]))
    sizes = [g["members"] for g in data["groups"]]
    assert sizes == sorted(sizes, reverse=True)
    grouped = [
        p["group"] for p in data["participants"].values() if p["group"] is not None
    ]
    assert sorted(set(grouped)) == list(range(data["k"]))
    assert len(grouped) == sum(sizes)
    for group in data["groups"]:
        assert 0.0 <= group["stability"] <= 1.0 if data["k"] > 1 else True
        for rep in group["representative"]:
            assert rep["direction"] in ("agree", "disagree")
            assert rep["q_value"] <= 0.10 and rep["best_agree"] is False
    for score in data["consensus"]["group_aware"].values():
        assert 0.0 < score["agree"] < 1.0 and 0.0 < score["disagree"] < 1.0
        assert -1.0 < score["net_min"] < 1.0
    for statement in data["statements"].values():
        if statement["moderated_out"]:
            assert statement["x"] is None and statement["priority"] is None
        else:
            assert math.isfinite(statement["x"]) and statement["priority"] >= 0
    assert data["input"]["votes"] == sum(
        p["n_votes"] for p in data["participants"].values()
    )


def close(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return abs(actual - expected) <= 1e-9
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and list(actual) == list(expected)
            and all(close(actual[key], expected[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(close(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


@pytest.mark.parametrize("name", FOLDERS)
def test_improved_mode_on_opendata(name):
    votes, statements = read_polis_export(shared_data("polis", "opendata", name))
    first = OpinionMap(mode="improved", seed=0).fit(votes, statements).result_
    text = first.to_json()
    data = json.loads(text)
    check_schema(data)
    assert data["k"] >= 1
    assert (
        OpinionMap(mode="improved", seed=0).fit(votes, statements).result_.to_json()
        == text
    )

    rng = np.random.default_rng(len(name))
    shuffled = rows(votes, rng.permutation(len(votes)))
    again = OpinionMap(mode="improved", seed=0).fit(shuffled, statements)
    assert again.result_.to_json() == text

    cuts = np.sort(rng.choice(np.arange(1, len(votes)), 6, replace=False))
    pieces = np.split(np.arange(len(votes)), cuts)
    model = OpinionMap(mode="improved", seed=0).fit(rows(votes, pieces[0]), statements)
    for piece in pieces[1:]:
        model.partial_fit(rows(votes, piece))
    assert close(model.result_.to_dict(), first.to_dict())
