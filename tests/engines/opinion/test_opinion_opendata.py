"""The five Pol.is openData conversations (spec §8.2).

Loading: the timestamped log equals the exported matrix.  Fidelity: polis mode
with REPLAY against Pol.is's own ``group-id`` column, reported per
conversation (ARI over participants both sides group, coverage, k).  The
target ARI >= 0.9 is asserted where the replayed in-conversation set covers
Pol.is's grouped participants; every other conversation asserts the measured
cause recorded in docs/opinion-fidelity.md.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from opinion_conformance import (
    OPENDATA,
    group_agreement,
    opendata_dir,
    opendata_groups,
    opendata_matrix,
    opendata_model,
)

from commonground.engines.opinion import OpinionMap, VoteTable, read_polis_export
from commonground.engines.opinion._data import final_votes


@pytest.mark.parametrize("name", OPENDATA)
def test_log_after_last_vote_wins_equals_the_matrix(name: str) -> None:
    votes, _statements = read_polis_export(opendata_dir(name))
    final = final_votes(votes, "canonical")
    log = {
        (final.participant_ids[r], final.statement_ids[c]): int(v)
        for r, c, v in zip(
            final.row.tolist(), final.col.tolist(), final.vote.tolist(), strict=True
        )
    }
    rows = opendata_matrix(name)
    header = list(next(iter(rows.values())))
    statement_columns = header[6:]
    assert statement_columns == sorted(statement_columns, key=int)
    matrix = {}
    for pid, row in rows.items():
        cells = {sid: int(row[sid]) for sid in statement_columns if row[sid] != ""}
        for sid, value in cells.items():
            matrix[(pid, sid)] = value
        values = list(cells.values())
        assert int(row["n-votes"]) == len(values)
        assert int(row["n-agree"]) == values.count(1)
        assert int(row["n-disagree"]) == values.count(-1)
    assert log == matrix
    with open(opendata_dir(name) / "summary.csv", encoding="utf-8", newline="") as f:
        summary = {r[0]: r[1] for r in csv.reader(f) if len(r) == 2}
    assert int(summary["groups"]) == len(set(opendata_groups(name).values()))


def _replay_report(name: str) -> dict[str, object]:
    # Each conversation is replayed by exactly one test (replays are the
    # expensive part of this module); its output is checked here too.
    model = opendata_model(name, "polis", True)
    data = json.loads(model.result_.to_json())
    _check_schema(data)
    assert data["diagnostics"]["ticks"] == model.n_ticks_ > 1
    ours = {p.id: p.group for p in model.result_.participants if p.group is not None}
    in_conv = {p.id for p in model.result_.participants if p.in_conv}
    theirs = opendata_groups(name)
    ari, coverage, compared = group_agreement(ours, theirs)  # type: ignore[arg-type]
    report = {
        "ari": ari,
        "coverage": coverage,
        "compared": compared,
        "k": model.k_,
        "polis_k": len(set(theirs.values())),
        "in_conv_matches": in_conv == set(theirs),
        "ticks": model.n_ticks_,
        "in_conv": in_conv,
        "grouped": set(theirs),
    }
    print(
        f"{name}: ARI {ari:.4f} coverage {coverage:.4f} k {model.k_} "
        f"(Pol.is {report['polis_k']}) ticks {model.n_ticks_} "
        f"in-conv matches {report['in_conv_matches']}"
    )
    return report


def _votes_of(name: str) -> dict[str, int]:
    return {pid: int(row["n-votes"]) for pid, row in opendata_matrix(name).items()}


def test_brexit_consensus_reaches_the_target() -> None:
    report = _replay_report("brexit-consensus")
    assert report["ari"] >= 0.9  # type: ignore[operator]
    assert report["coverage"] >= 0.95  # type: ignore[operator]
    assert report["k"] == report["polis_k"] == 2
    # the only difference in the grouped sets: Pol.is also grouped a few
    # participants with fewer than 7 votes (older in-conv rules)
    missing = report["grouped"] - report["in_conv"]  # type: ignore[operator]
    assert report["in_conv"] <= report["grouped"]  # type: ignore[operator]
    votes = _votes_of("brexit-consensus")
    assert missing and all(votes[p] < 7 for p in missing)


@pytest.mark.parametrize("name", ["football-concussions", "scoop-hivemind.ubi"])
def test_conversations_grouped_under_older_rules(name: str) -> None:
    # Pol.is grouped hundreds of participants with fewer than 7 votes (some
    # with one), which no replay under today's rules admits: coverage is low.
    report = _replay_report(name)
    votes = _votes_of(name)
    missing = report["grouped"] - report["in_conv"]  # type: ignore[operator]
    assert report["in_conv"] <= report["grouped"]  # type: ignore[operator]
    assert len(missing) >= 0.2 * len(report["grouped"])  # type: ignore[arg-type]
    assert all(votes[p] < 7 for p in missing)
    assert min(votes[p] for p in missing) == 1
    assert report["coverage"] < 0.8  # type: ignore[operator]


def test_seattle_was_recomputed_without_in_conv_history() -> None:
    # Pol.is's grouped set is exactly "7 votes or more": a recomputation that
    # forgot the sticky in-conv set, which our replay keeps (a superset).
    report = _replay_report("15-per-hour-seattle")
    votes = _votes_of("15-per-hour-seattle")
    assert report["grouped"] == {p for p, n in votes.items() if n >= 7}
    assert report["in_conv"] > report["grouped"]  # type: ignore[operator]
    assert report["coverage"] == 1.0
    assert report["k"] == report["polis_k"]


def test_vtaiwan_in_conv_matches_but_groups_follow_a_different_history() -> None:
    # The replayed in-conv set equals Pol.is's grouped set exactly and k agrees,
    # but the groups differ: see docs/opinion-fidelity.md for the measurement.
    report = _replay_report("vtaiwan.uberx")
    assert report["in_conv_matches"] is True
    assert report["coverage"] == 1.0
    assert report["k"] == report["polis_k"] == 2
    assert 0.0 < report["ari"] < 0.9  # type: ignore[operator]


SCHEMA_KEYS = [
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


def _check_schema(data: dict[str, object]) -> None:
    assert list(data) == SCHEMA_KEYS
    participants = data["participants"]
    statements = data["statements"]
    assert isinstance(participants, dict) and isinstance(statements, dict)
    for point in participants.values():
        assert list(point) == ["x", "y", "group", "in_conv", "n_votes", "flags"]
        assert isinstance(point["x"], float) and isinstance(point["n_votes"], int)
    for point in statements.values():
        assert list(point) == [
            "x",
            "y",
            "extremity",
            "priority",
            "n_votes",
            "moderated_out",
            "is_meta",
        ]
    groups = data["groups"]
    assert isinstance(groups, list)
    assert [g["id"] for g in groups] == list(range(data["k"]))  # type: ignore[arg-type]
    for group in groups:
        assert list(group) == ["id", "members", "centre", "stability", "representative"]
        for rep in group["representative"]:
            assert rep["direction"] in ("agree", "disagree")
    consensus = data["consensus"]
    assert list(consensus) == ["majority", "group_aware", "common_ground"]  # type: ignore[arg-type]
    assert list(data["input"]) == [  # type: ignore[arg-type]
        "path",
        "source",
        "vote_rows",
        "votes",
        "participants",
        "statements",
        "moderated_out",
        "statements_without_votes",
    ]


@pytest.mark.parametrize("name", OPENDATA)
def test_polis_mode_output_is_schema_valid_and_deterministic(name: str) -> None:
    votes, statements = read_polis_export(opendata_dir(name))
    first = OpinionMap(mode="polis").fit(votes, statements).result_.to_json()
    second = OpinionMap(mode="polis").fit(votes, statements).result_.to_json()
    assert first == second
    _check_schema(json.loads(first))


def test_polis_replay_is_deterministic() -> None:
    name = "15-per-hour-seattle"
    votes, statements = read_polis_export(opendata_dir(name))
    again = OpinionMap(mode="polis", replay=True).fit(votes, statements)
    assert (
        again.result_.to_json() == opendata_model(name, "polis", True).result_.to_json()
    )


def _shuffled(votes: VoteTable, seed: int) -> VoteTable:
    order = np.random.default_rng(seed).permutation(len(votes))
    assert votes.timestamp is not None
    return VoteTable(
        participant_ids=votes.participant_ids,
        statement_ids=votes.statement_ids,
        participant=votes.participant[order],
        statement=votes.statement[order],
        vote=votes.vote[order],
        timestamp=votes.timestamp[order],
        source=votes.source,
        line=None,
        path=votes.path,
    )


@pytest.mark.parametrize("name", OPENDATA)
def test_improved_mode_is_schema_valid_and_order_free(name: str) -> None:
    votes, statements = read_polis_export(opendata_dir(name))
    reference = OpinionMap().fit(votes, statements).result_.to_json()
    _check_schema(json.loads(reference))
    assert OpinionMap().fit(votes, statements).result_.to_json() == reference
    shuffled = _shuffled(votes, 1)
    assert OpinionMap().fit(shuffled, statements).result_.to_json() == reference
    # partial_fit in 7 random batches ends where fit on everything does
    cuts = np.sort(np.random.default_rng(2).choice(len(votes), 6, replace=False))
    model = OpinionMap()
    start = 0
    for stop in [*cuts.tolist(), len(votes)]:
        index = np.arange(start, stop)
        batch = VoteTable(
            participant_ids=shuffled.participant_ids,
            statement_ids=shuffled.statement_ids,
            participant=shuffled.participant[index],
            statement=shuffled.statement[index],
            vote=shuffled.vote[index],
            timestamp=shuffled.timestamp[index],  # type: ignore[index]
            source=shuffled.source,
            line=None,
            path=shuffled.path,
        )
        model.partial_fit(batch, statements)
        start = stop
    incremental = json.loads(model.result_.to_json())
    expected = json.loads(reference)
    for key in ("k", "participants", "groups", "consensus"):
        assert _close(incremental[key], expected[key]), key


def _close(a: object, b: object) -> bool:
    """Equal structure and values, floats within 1e-9 (spec §5.10)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and abs(a - b) <= 1e-9
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b
