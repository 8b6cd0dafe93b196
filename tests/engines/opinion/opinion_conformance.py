"""Shared helpers of the opinion conformance tests (not a test module).

Imported as ``from opinion_conformance import ...`` (tests/ and this folder are
on ``pythonpath`` through ``tests/engines/opinion/conftest.py``).
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from commonground.engines.opinion import (
    OpinionMap,
    read_polis_api_json,
    read_polis_export,
)
from support import shared_data

FIXTURES = (
    "below-100-ptpts",
    "25ptpt-3gp-no-strict-with-meta",
    "50ptpt-3gp-strict-no-meta",
    "150ptpt-3gp-no-strict-no-meta",
    "above-100-ptpts",
)
OPENDATA = (
    "15-per-hour-seattle",
    "brexit-consensus",
    "football-concussions",
    "scoop-hivemind.ubi",
    "vtaiwan.uberx",
)


def adjusted_rand_index(a: list[Any], b: list[Any]) -> float:
    """Hubert–Arabie adjusted Rand index of two labelings of the same items."""
    if len(a) != len(b):
        raise ValueError("labelings differ in length")
    if len(a) < 2:
        return 1.0
    _, ai = np.unique(np.asarray(a), return_inverse=True)
    _, bi = np.unique(np.asarray(b), return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1.0)

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    index = pairs(table)
    rows = pairs(table.sum(axis=1))
    cols = pairs(table.sum(axis=0))
    total = len(a) * (len(a) - 1) / 2
    expected = rows * cols / total
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def fixture_dir(name: str) -> Path:
    return shared_data("polis", "fixtures", name)


def opendata_dir(name: str) -> Path:
    return shared_data("polis", "opendata", name)


@functools.cache
def fixture_math(name: str) -> dict[str, Any]:
    with open(fixture_dir(name) / "math-pca2.json", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@functools.cache
def fixture_model(name: str, replay: bool) -> OpinionMap:
    votes, statements = read_polis_api_json(fixture_dir(name))
    return OpinionMap(mode="polis", replay=replay).fit(votes, statements)


def polis_fixture_groups(name: str) -> dict[str, int]:
    """Participant id -> Pol.is group id, through the fixture's base clusters."""
    math = fixture_math(name)
    base = math["base-clusters"]
    members = dict(zip(base["id"], base["members"], strict=True))
    groups: dict[str, int] = {}
    for group in math["group-clusters"]:
        for bid in group["members"]:
            for pid in members[bid]:
                groups[str(pid)] = int(group["id"])
    return groups


@functools.cache
def opendata_model(name: str, mode: str, replay: bool) -> OpinionMap:
    votes, statements = read_polis_export(opendata_dir(name))
    return OpinionMap(mode=mode, replay=replay).fit(votes, statements)


@functools.cache
def opendata_matrix(name: str) -> dict[str, dict[str, str]]:
    """participants-votes.csv rows by participant id."""
    path = opendata_dir(name) / "participants-votes.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["participant"]: row for row in csv.DictReader(handle)}


def opendata_groups(name: str) -> dict[str, int]:
    return {
        pid: int(row["group-id"])
        for pid, row in opendata_matrix(name).items()
        if row["group-id"] != ""
    }


def group_agreement(
    ours: dict[str, int], theirs: dict[str, int]
) -> tuple[float, float, int]:
    """(ARI over participants both group, coverage of theirs, number compared)."""
    both = sorted(set(ours) & set(theirs))
    ari = adjusted_rand_index([ours[p] for p in both], [theirs[p] for p in both])
    coverage = len(both) / len(theirs) if theirs else 1.0
    return ari, coverage, len(both)
