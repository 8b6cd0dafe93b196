"""Canonical order, last-vote-wins, the centred matrix and degenerate inputs (improved)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from commonground.engines.opinion import OpinionMap, VoteTable
from commonground.engines.opinion._data import (
    canonical_order,
    concat_votes,
    final_votes,
)
from commonground.engines.opinion._improved._matrix import (
    canonical_votes,
    canonical_votes_memo,
    centred_matrix,
    fast_canonical_order,
)


@pytest.mark.parametrize(
    "ids",
    [
        ("10", "9", "100", "0"),
        ("b", "a", "B", "é", "10", "9"),
        ("007", "7", "70"),  # equal values: fall back to the text tie-break
        (),
    ],
)
def test_fast_canonical_order_matches_the_shared_rule(ids):
    assert fast_canonical_order(ids).tolist() == canonical_order(ids).tolist()


def test_last_vote_wins_by_timestamp_then_file_order():
    votes = VoteTable.from_records(
        [
            ("2", "b", 1, 30),
            ("10", "a", -1, 20),
            ("2", "b", -1, 10),  # earlier in time: loses to the first row
            ("10", "a", 0, 20),  # same time, later in the file: wins
            ("2", "a", 1, 5),
        ]
    )
    final = canonical_votes(votes)
    assert final.participant_ids == ("2", "10")
    assert final.statement_ids == ("a", "b")
    cells = list(
        zip(final.row.tolist(), final.col.tolist(), final.vote.tolist(), strict=True)
    )
    assert cells == [(0, 0, 1), (0, 1, 1), (1, 0, 0)]
    shared = final_votes(votes, "canonical")
    assert shared.vote.tolist() == final.vote.tolist()


def test_without_timestamps_the_later_row_wins():
    votes = VoteTable.from_records([("p", "s", 1, None), ("p", "s", -1, None)])
    assert canonical_votes(votes).vote.tolist() == [-1]


def test_centred_matrix_by_hand():
    # Column 0 votes 1, -1, 0: mean 0; column 1 votes 1, 1: mean 1.
    row = np.asarray([0, 0, 1, 2, 2], dtype=np.int32)
    col = np.asarray([0, 1, 0, 0, 1], dtype=np.int32)
    vote = np.asarray([1, 1, -1, 0, 1], dtype=np.int8)
    z, mean = centred_matrix(row, col, vote, (3, 2))
    assert mean.tolist() == [0.0, 1.0]
    assert z.toarray().tolist() == [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]
    assert z.nnz == 5


def test_zero_votes_give_k_zero_and_a_warning():
    result = OpinionMap().fit(VoteTable.empty()).result_
    assert result.k == 0 and result.groups == () and result.participants == ()
    assert "no_votes" in result.diagnostics.warnings
    json.loads(result.to_json())


@pytest.mark.parametrize(
    "records",
    [
        [
            ("only", f"s{s}", 1 if s % 2 else -1, None) for s in range(12)
        ],  # one participant
        [
            (f"p{p}", "only", 1 if p % 2 else -1, None) for p in range(12)
        ],  # one statement
        [("p", "s", 1, None)],
    ],
)
def test_single_participant_or_statement_is_a_documented_degenerate_result(records):
    result = OpinionMap().fit(VoteTable.from_records(records)).result_
    text = result.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert "rank_one" in result.diagnostics.warnings
    assert result.k <= 1
    assert all(p.x == 0.0 and p.y == 0.0 for p in result.participants)


def test_replay_flag_is_ignored_with_a_warning():
    votes = VoteTable.from_records(
        [(f"p{p}", f"s{s}", 1, p) for p in range(3) for s in range(3)]
    )
    result = OpinionMap(mode="improved", replay=True).fit(votes).result_
    assert "replay_ignored" in result.diagnostics.warnings


@pytest.mark.parametrize("timed", [False, True])
@pytest.mark.parametrize("numeric", [False, True])
def test_extending_the_previous_matrix_equals_a_fresh_one(timed, numeric):
    rng = np.random.default_rng(int(timed) * 2 + int(numeric))

    def ident(prefix: str, i: int) -> str:
        return str(i * 7 % 101) if numeric else f"{prefix}{i * 7 % 101}"

    def rows(count: int, start_time: int) -> list:
        return [
            (
                ident("p", int(rng.integers(0, 60))),
                ident("s", int(rng.integers(0, 25))),
                int(rng.integers(-1, 2)),
                start_time + int(rng.integers(0, 5)) if timed else None,
            )
            for _ in range(count)
        ]

    table = VoteTable.from_records(rows(400, 0))
    final, memo = canonical_votes_memo(table, None)
    for step in range(1, 6):
        # New ids land anywhere in canonical order; re-votes overwrite.
        table = concat_votes(table, VoteTable.from_records(rows(60, 10 * step)))
        final, memo = canonical_votes_memo(table, memo)
        fresh = canonical_votes(table)
        assert final.participant_ids == fresh.participant_ids
        assert final.statement_ids == fresh.statement_ids
        for name in ("row", "col", "vote"):
            assert getattr(final, name).tolist() == getattr(fresh, name).tolist()
            assert getattr(final, name).dtype == getattr(fresh, name).dtype


def test_a_batch_timed_before_the_previous_votes_is_recomputed_in_full():
    first = VoteTable.from_records([("a", "s", 1, 100), ("b", "s", 1, 100)])
    _, memo = canonical_votes_memo(first, None)
    late = concat_votes(first, VoteTable.from_records([("a", "s", -1, 50)]))
    final, _ = canonical_votes_memo(late, memo)
    assert final.vote.tolist() == [1, 1]  # the row at t=50 is older: it loses
