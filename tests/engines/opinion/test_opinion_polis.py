"""Polis mode on small hand-checked cases (spec §4): k-means quirks, silhouette,
smoother, in-conv, incremental ticks, persistence and degenerate inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from commonground.engines.opinion import (
    OpinionMap,
    PolisState,
    StatementTable,
    VoteTable,
)
from commonground.engines.opinion._polis._kmeans import (
    Clusters,
    clojure_hash_order,
    distance_matrix,
    kmeans,
    murmur3_hash_long,
    silhouette,
)
from commonground.engines.opinion._polis._stats import priorities, repness_stats
from commonground.engines.opinion._polis._tick import _smooth
from commonground.engines.opinion._result import json_value, orientation_signs


def two_camps(n: int = 12, m: int = 8, *, timed: bool = True) -> VoteTable:
    """Participants 0..n/2-1 agree with statements 0..m/2-1 and disagree with the
    rest; the other half the opposite; one vote a second, participant-major."""
    records = []
    t = 0
    for p in range(n):
        for s in range(m):
            agree = (p < n // 2) == (s < m // 2)
            # a little noise so that no two participants are identical
            vote = 1 if agree else -1
            if (p * 7 + s * 3) % 11 == 0:
                vote = 0
            records.append((str(p), str(s), vote, t * 1000 if timed else None))
            t += 1
    return VoteTable.from_records(records)


def test_clojure_hash_map_order_of_small_integers() -> None:
    assert murmur3_hash_long(0) == 0
    order = clojure_hash_order(np.arange(9, dtype=np.int64))
    assert order.tolist() == [0, 7, 1, 4, 6, 3, 2, 5, 8]


def test_cold_start_takes_the_first_distinct_rows() -> None:
    points = np.asarray([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [0.0, 0.0]])
    names = np.arange(4, dtype=np.int64)
    result = kmeans(points, names, 3, max_iters=10)
    # only two distinct rows: two clusters, ids 0 and 1
    assert result.ids.tolist() == [0, 1]
    assert [m.tolist() for m in result.members] == [[0, 1, 3], [2]]


def test_assignment_ties_go_to_the_last_cluster() -> None:
    points = np.asarray([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    names = np.arange(3, dtype=np.int64)
    previous = Clusters(
        np.asarray([0, 1], dtype=np.int64),
        np.asarray([[0.0, 0.0], [2.0, 0.0]]),
        [np.asarray([0]), np.asarray([1])],
    )
    result = kmeans(points, names, 2, max_iters=0, previous=previous)
    # the midpoint is 1 from both centres: it joins the later cluster (id 1)
    assert [m.tolist() for m in result.members] == [[0], [1, 2]]
    np.testing.assert_allclose(result.centres, [[0.0, 0.0], [1.5, 0.0]])


def test_warm_start_adds_a_cluster_at_the_most_distant_row() -> None:
    points = np.asarray([[0.0, 0.0], [0.2, 0.0], [9.0, 0.0]])
    names = np.asarray([10, 11, 12], dtype=np.int64)
    previous = Clusters(
        np.asarray([4], dtype=np.int64),
        np.asarray([[0.1, 0.0]]),
        [np.asarray([10, 11], dtype=np.int64)],
    )
    result = kmeans(points, names, 2, max_iters=5, previous=previous)
    # new cluster id = max id + 1 = 5, holding the outlier (name 12)
    assert result.ids.tolist() == [4, 5]
    assert [m.tolist() for m in result.members] == [[10, 11], [12]]


def test_weighted_centres() -> None:
    points = np.asarray([[0.0, 0.0], [3.0, 0.0], [100.0, 0.0]])
    names = np.asarray([0, 1, 2], dtype=np.int64)
    weights = np.asarray([1.0, 2.0, 1.0])
    result = kmeans(points, names, 2, max_iters=5, weights=weights)
    # {0, 3} with weights 1, 2 -> centre 2.0
    np.testing.assert_allclose(result.centres, [[2.0, 0.0], [100.0, 0.0]])


def test_silhouette_by_hand() -> None:
    centres = np.asarray(
        [[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0], [50.0, 0.0]]
    )
    labels = np.asarray([0, 0, 1, 1, 2])
    # point 0: a = 1, b = mean(10, 11) = 10.5 -> 9.5 / 10.5
    # point 1: a = 1, b = mean(9, 10) = 9.5 -> 8.5 / 9.5
    # point 2: a = 1, b = mean(10, 9) = 9.5 -> 8.5 / 9.5
    # point 3: a = 1, b = mean(11, 10) = 10.5 -> 9.5 / 10.5
    # point 4: alone in its group -> 0
    expected = (2 * 9.5 / 10.5 + 2 * 8.5 / 9.5 + 0.0) / 5
    assert silhouette(distance_matrix(centres), labels) == pytest.approx(expected)
    assert silhouette(distance_matrix(centres), np.zeros(5, dtype=np.int64)) == 0.0


def test_k_smoother_needs_four_wins_in_a_row_and_clamps() -> None:
    state = None
    seen = []
    for best in (2, 3, 3, 3, 3, 2):
        state = _smooth(state, best, 4, 5)
        seen.append(state[2])
    assert seen == [2, 2, 2, 2, 3, 3]
    assert _smooth((3, 5, 3), 3, 4, 2) == (3, 6, 2)


def test_repness_formulas_by_hand() -> None:
    # group 0: 4 agree of 5 seen; rest: 1 agree of 5 seen.
    stats = repness_stats(
        np.asarray([[4.0], [1.0]]),
        np.asarray([[1.0], [3.0]]),
        np.asarray([[5.0], [5.0]]),
    )
    assert stats.pa[0, 0] == pytest.approx(5 / 7)
    assert stats.pat[0, 0] == pytest.approx(2 * math.sqrt(6) * (5 / 6 - 0.5))
    assert stats.ra[0, 0] == pytest.approx((5 / 7) / (2 / 7))
    p1, p2, p_hat = 5 / 6, 2 / 6, 7 / 12
    z = (p1 - p2) / math.sqrt(p_hat * (1 - p_hat) * (1 / 6 + 1 / 6))
    assert stats.rat[0, 0] == pytest.approx(z)


def test_priority_formula_by_hand() -> None:
    # A=3, D=1, S=5 (1 pass), E=0.5: imp = (1 - 2/7) * 1.5 * 4/7
    value = priorities(
        np.asarray([3.0]),
        np.asarray([1.0]),
        np.asarray([5.0]),
        np.asarray([0.5]),
        np.asarray([False]),
    )[0]
    importance = (1 - 2 / 7) * 1.5 * 4 / 7
    assert value == pytest.approx((importance * (1 + 8 * 2 ** (-1.0))) ** 2)
    meta = priorities(
        np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), np.asarray([True])
    )
    assert meta.tolist() == [49.0]


def test_two_camps_are_found_with_their_statements() -> None:
    model = OpinionMap(mode="polis").fit(two_camps())
    result = model.result_
    assert result.k == 2
    groups = {p.id: p.group for p in result.participants}
    first = {groups[str(p)] for p in range(6)}
    second = {groups[str(p)] for p in range(6, 12)}
    assert len(first) == 1 and len(second) == 1 and first != second
    for group in result.groups:
        assert group.representative
        assert group.stability is None
        assert all(r.q_value is None for r in group.representative)
    assert result.diagnostics.smoother is not None
    assert model.state_.n_ticks == 1


def test_in_conv_is_sticky_and_tops_up_to_fifteen() -> None:
    # 20 participants: 0..9 vote on 8 statements, 10..19 on 2 statements.
    records = []
    for p in range(20):
        for s in range(8 if p < 10 else 2):
            records.append((str(p), str(s), 1 if (p + s) % 3 else -1, None))
    model = OpinionMap(mode="polis").fit(VoteTable.from_records(records))
    in_conv = {p.id for p in model.result_.participants if p.in_conv}
    # 10 reach min(7, 8) votes; 5 more are added by descending count, then
    # encounter order (10, 11, 12, 13, 14).
    assert in_conv == {str(p) for p in range(15)}
    # sticky: a later tick in which nobody new qualifies keeps them all
    model.partial_fit(VoteTable.from_records([("0", "0", -1, None)]))
    assert {p.id for p in model.result_.participants if p.in_conv} == in_conv


def _comparable(result) -> dict:  # type: ignore[no-untyped-def]
    data = result.to_dict()
    return {
        key: data[key]
        for key in ("k", "participants", "groups", "consensus", "statements")
    }


def test_partial_fit_equals_replay_in_the_same_batches() -> None:
    votes = two_camps(16, 10)
    size = 23
    replayed = OpinionMap(
        mode="polis", replay=True, replay_batch_votes=size, reboot_before_final=False
    ).fit(votes)
    incremental = OpinionMap(mode="polis")
    for start in range(0, len(votes), size):
        batch = VoteTable.from_records(
            [
                (
                    votes.participant_ids[votes.participant[i]],
                    votes.statement_ids[votes.statement[i]],
                    int(votes.vote[i]),
                    int(votes.timestamp[i]),  # type: ignore[index]
                )
                for i in range(start, min(start + size, len(votes)))
            ]
        )
        incremental.partial_fit(batch)
    assert incremental.n_ticks_ == replayed.n_ticks_ == math.ceil(len(votes) / size)
    assert _comparable(incremental.result_) == _comparable(replayed.result_)


def test_state_round_trips_through_json() -> None:
    votes = two_camps(14, 8)
    first = VoteTable.from_records(
        [
            (votes.participant_ids[p], votes.statement_ids[s], int(v), None)
            for p, s, v in zip(
                votes.participant[:60],
                votes.statement[:60],
                votes.vote[:60],
                strict=True,
            )
        ]
    )
    rest = VoteTable.from_records(
        [
            (votes.participant_ids[p], votes.statement_ids[s], int(v), None)
            for p, s, v in zip(
                votes.participant[60:],
                votes.statement[60:],
                votes.vote[60:],
                strict=True,
            )
        ]
    )
    live = OpinionMap(mode="polis").fit(first)
    text = live.state_.to_json()
    restored = PolisState.from_json(text)
    assert restored.to_json() == text
    resumed = OpinionMap.from_state(restored)
    live.partial_fit(rest)
    resumed.partial_fit(rest)
    assert live.result_.to_json() == resumed.result_.to_json()
    with pytest.raises(ValueError, match="commonground-polis-state"):
        PolisState.from_json(json.dumps({"format": "other"}))


def test_moderated_statement_is_zeroed_but_counted() -> None:
    votes = two_camps(12, 8, timed=False)
    statements = StatementTable.from_records([("3", -1, False), ("99", 0, False)])
    result = OpinionMap(mode="polis").fit(votes, statements).result_
    point = {s.id: s for s in result.statements}["3"]
    assert point.moderated_out and point.x == 0.0 and point.y == 0.0
    assert point.n_votes == 12
    assert result.input.moderated_out == ("3",)
    assert result.input.statements_without_votes == ("99",)
    chosen = {r.statement for g in result.groups for r in g.representative}
    chosen |= {c.statement for c in result.consensus.majority_agree}
    chosen |= {c.statement for c in result.consensus.majority_disagree}
    chosen |= set(result.consensus.common_ground)
    assert "3" not in chosen


def _no_nan(value) -> bool:  # type: ignore[no-untyped-def]
    text = json.dumps(value, allow_nan=False)
    return "NaN" not in text and "Infinity" not in text


@pytest.mark.parametrize("replay", [False, True])
def test_zero_votes_give_k_zero_and_a_warning(replay: bool) -> None:
    result = OpinionMap(mode="polis", replay=replay).fit(VoteTable.empty()).result_
    assert result.k == 0 and result.participants == () and result.groups == ()
    assert "no_votes" in result.diagnostics.warnings
    assert _no_nan(result.to_dict())


@pytest.mark.parametrize(
    "records",
    [
        [("only", str(s), 1 if s % 2 else -1, None) for s in range(5)],
        [(str(p), "only", 1 if p % 2 else -1, None) for p in range(5)],
        [(str(p), str(s), 1, None) for p in range(6) for s in range(4)],
        [("a", "b", 0, None)],
    ],
    ids=["one-participant", "one-statement", "all-agree", "one-pass"],
)
def test_degenerate_conversations_give_finite_documented_results(records) -> None:  # type: ignore[no-untyped-def]
    result = OpinionMap(mode="polis").fit(VoteTable.from_records(records)).result_
    data = result.to_dict()
    assert _no_nan(data)
    assert result.k == 1  # polis runs k = 2 and collapses to one cluster
    if len({r[0] for r in records}) == 1 or len({r[1] for r in records}) == 1:
        assert "single_component" in result.diagnostics.warnings
        assert all(p.x == 0.0 and p.y == 0.0 for p in result.participants)


def test_replay_without_timestamps_is_refused() -> None:
    from commonground.engines.opinion import OpinionInputError

    with pytest.raises(OpinionInputError, match="timestamp"):
        OpinionMap(mode="polis", replay=True).fit(two_camps(timed=False))
    # fixed-size batches need no timestamps
    model = OpinionMap(mode="polis", replay=True, replay_batch_votes=10).fit(
        two_camps(timed=False)
    )
    assert model.n_ticks_ == math.ceil(96 / 10)


def test_replay_windows_group_votes_by_time() -> None:
    votes = two_camps()  # one vote a second
    model = OpinionMap(mode="polis", replay=True, replay_window_ms=10_000).fit(votes)
    assert model.n_ticks_ == math.ceil(96 / 10)
    trace = model.result_.trace
    assert [t.n_votes for t in trace][:2] == [10, 20]
    assert trace[0].t_end_ms == 9000
    assert model.result_.diagnostics.ticks == len(trace)
    assert model.result_.diagnostics.replay_window_ms == 10_000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mode", "other"),
        ("seed", -1),
        ("base_k", 0),
        ("max_k", 1),
        ("fdr", 1.5),
        ("replay", 1),
    ],
)
def test_parameters_are_validated_in_fit(name: str, value: object) -> None:
    model = OpinionMap(**{name: value})  # type: ignore[arg-type]
    assert getattr(model, name) == value  # stored unchanged
    with pytest.raises(ValueError, match=name):
        model.fit(two_camps())


def test_same_input_gives_byte_identical_json() -> None:
    first = OpinionMap(mode="polis", replay=True).fit(two_camps()).result_.to_json()
    second = OpinionMap(mode="polis", replay=True).fit(two_camps()).result_.to_json()
    assert first == second and first.endswith("}\n")


def test_json_number_rules_and_orientation() -> None:
    assert json_value(
        {"a": float("nan"), "b": -0.0, "c": np.float64(0.5), 1: (1, 2)}
    ) == {
        "a": None,
        "b": 0.0,
        "c": 0.5,
        "1": [1, 2],
    }
    comps = np.asarray([[-1.0, 0.5], [1.0, -1.0], [0.0, 0.0]])
    # sum -0.5 -> flip; sum 0 -> largest |loading| (first on ties) = +1 -> keep
    assert orientation_signs(comps).tolist() == [-1.0, 1.0, 1.0]
    model = OpinionMap(mode="polis").fit(two_camps())
    assert np.all(model.components_.sum(axis=1) >= 0)


def test_perfectly_balanced_camps_still_get_components() -> None:
    # All-ones is orthogonal to the only direction with variance here: the
    # power iteration retries from a fixed ramp instead of collapsing to 0.
    votes = VoteTable.from_records(
        [
            (p, s, 1 if (p < 4) == (s < 3) else -1, None)
            for p in range(8)
            for s in range(6)
        ]
    )
    model = OpinionMap(mode="polis").fit(votes)
    assert model.k_ == 2
    assert np.abs(model.components_[0]).sum() > 0
    assert sorted(set(model.labels_.tolist())) == [0, 1]


def test_votes_on_statements_missing_from_the_table_are_kept() -> None:
    votes = two_camps(12, 8, timed=False)
    table = StatementTable.from_records([("0", 0, False, "first")])
    result = OpinionMap(mode="polis").fit(votes, table).result_
    assert result.input.statements == 8
    unknown = {s.id: s for s in result.statements}["7"]
    assert unknown.moderated_out is False and unknown.n_votes == 12
