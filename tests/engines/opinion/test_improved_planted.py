"""Improved mode on constructed conversations whose true groups are known (spec §5).

Planted groups sit at equal angles on a circle of opinion; every statement has
a random direction, and a group agrees with it with probability 0.85 when it
faces the group (cosine > 0), else 0.15.  So the groups are separable on a 2-D
map.  Participants pass 10 % of the time and see a random 70 % of statements.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from commonground.engines.opinion import OpinionMap, StatementTable, VoteTable
from commonground.engines.opinion._improved._kmeans import adjusted_rand_index


def profiles_of(groups: int, statements: int, seed: int) -> np.ndarray:
    """groups x statements booleans: does the group lean to agree?"""
    rng = np.random.default_rng(seed)
    direction = rng.uniform(0, 2 * np.pi, statements)
    angle = 2 * np.pi * np.arange(groups) / groups
    return np.cos(angle[:, None] - direction[None, :]) > 0


def planted(
    sizes: list[int],
    statements: int = 40,
    *,
    seed: int = 0,
    uniform_voters: int = 0,
    coverage: float = 0.7,
) -> tuple[list[tuple[str, str, int, None]], dict[str, int]]:
    """Vote records and the true group of each participant (-1 = agree-to-all)."""
    profiles = profiles_of(len(sizes), statements, seed)
    rng = np.random.default_rng(seed + 1000)
    records: list[tuple[str, str, int, None]] = []
    truth: dict[str, int] = {}
    person = 0
    for group, size in enumerate(sizes):
        for _ in range(size):
            pid = f"p{person:05d}"
            truth[pid] = group
            for s in np.flatnonzero(rng.random(statements) < coverage).tolist():
                u = rng.random()
                if u < 0.1:
                    vote = 0
                else:
                    agree_probability = 0.85 if profiles[group, s] else 0.15
                    vote = 1 if rng.random() < agree_probability else -1
                records.append((pid, f"s{s:03d}", vote, None))
            person += 1
    for _ in range(uniform_voters):
        pid = f"p{person:05d}"
        truth[pid] = -1
        for s in np.flatnonzero(rng.random(statements) < coverage).tolist():
            records.append((pid, f"s{s:03d}", 1, None))
        person += 1
    return records, truth


def fit(records: list[tuple[str, str, int, None]], **params: object) -> OpinionMap:
    return OpinionMap(mode="improved", seed=0, **params).fit(  # type: ignore[arg-type]
        VoteTable.from_records(records)
    )


def recovered_ari(model: OpinionMap, truth: dict[str, int]) -> float:
    ids = [p for p in model.participant_ids_ if truth[p] >= 0]
    position = {p: i for i, p in enumerate(model.participant_ids_)}
    found = np.asarray([model.labels_[position[p]] for p in ids])
    planted_labels = np.asarray([truth[p] for p in ids])
    return adjusted_rand_index(planted_labels, found)


@pytest.mark.parametrize(
    ("sizes", "seed"),
    [([60, 60], 1), ([80, 50, 40], 2), ([70, 60, 50, 40], 3), ([120, 30, 30], 4)],
)
def test_planted_groups_are_recovered(sizes, seed):
    records, truth = planted(sizes, seed=seed)
    model = fit(records)
    assert model.k_ == len(sizes)
    assert recovered_ari(model, truth) >= 0.9
    for group in model.result_.groups:
        assert group.stability is not None and group.stability >= 0.6
    stability = model.result_.diagnostics.stability
    assert stability["ari"] >= 0.6
    assert stability["groups"] == [g.stability for g in model.result_.groups]
    chosen = stability["evaluated"][str(model.k_)]
    assert chosen["min_stability"] == min(stability["groups"])
    assert chosen["min_group"] >= 5
    assert model.result_.diagnostics.chosen_k_reason == "silhouette"


def test_agree_to_all_voters_are_flagged_and_do_not_form_a_group():
    records, truth = planted([70, 60], seed=5, uniform_voters=40)
    model = fit(records)
    result = model.result_
    assert model.k_ == 2
    flagged = {p.id for p in result.participants if "uniform" in p.flags}
    assert flagged == {p for p, g in truth.items() if g == -1}
    assert result.diagnostics.uniform_voters == 40
    # They are shown in a group (the nearest), counted in its members, but the
    # groups are the planted ones.
    assert all(p.group is not None for p in result.participants if p.id in flagged)
    assert sum(g.members for g in result.groups) == 170
    assert recovered_ari(model, truth) >= 0.9


def test_too_few_participants_for_two_groups_give_one_group_with_a_warning():
    # 9 clustered participants: m = max(5, ceil(0.03 * 9)) = 5, and 9 // 5 = 1,
    # so no k >= 2 is a candidate.
    records, _ = planted([5, 4], statements=12, seed=6, coverage=1.0)
    result = fit(records).result_
    assert result.k == 1
    assert "no_stable_groups" in result.diagnostics.warnings
    assert result.diagnostics.chosen_k_reason == "no_stable_groups"
    assert result.groups[0].members == 9
    assert result.groups[0].stability is None
    assert result.groups[0].representative == ()


def test_identical_voters_give_one_group_without_nan():
    # Everyone votes the same: Z is all zeros, no variance to map.
    records = [
        (f"p{p}", f"s{s}", 1 if s % 2 else -1, None)
        for p in range(30)
        for s in range(8)
    ]
    result = fit(records).result_
    assert result.k == 1
    assert "no_variance" in result.diagnostics.warnings
    text = result.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert all(p.x == 0.0 and p.y == 0.0 for p in result.participants)


def test_output_does_not_depend_on_row_order():
    records, _ = planted([50, 40, 30], seed=8)
    first = fit(records).result_.to_json()
    shuffled = list(records)
    np.random.default_rng(1).shuffle(shuffled)
    assert fit(shuffled).result_.to_json() == first
    reversed_rows = fit(list(reversed(records))).result_.to_json()
    assert reversed_rows == first


def test_same_seed_same_bytes_and_seed_is_recorded():
    records, _ = planted([50, 50], seed=9)
    votes = VoteTable.from_records(records)
    a = OpinionMap(seed=3).fit(votes).result_
    b = OpinionMap(seed=3).fit(votes).result_
    assert a.to_json() == b.to_json()
    assert a.seed == 3 and json.loads(a.to_json())["seed"] == 3


def test_groups_are_numbered_by_size_and_centres_are_member_means():
    records, _ = planted([90, 40], seed=10)
    result = fit(records).result_
    assert [g.members for g in result.groups] == sorted(
        (g.members for g in result.groups), reverse=True
    )
    for group in result.groups:
        members = [
            p for p in result.participants if p.group == group.id and not p.flags
        ]
        assert group.centre[0] == pytest.approx(
            np.mean([p.x for p in members]), abs=1e-12
        )
        assert group.centre[1] == pytest.approx(
            np.mean([p.y for p in members]), abs=1e-12
        )


def test_representative_statements_are_the_planted_differences():
    records, truth = planted([60, 60], statements=30, seed=11)
    result = fit(records).result_
    profiles = profiles_of(2, 30, 11)
    # Map found groups to planted groups by majority of members.
    group_of = {p.id: p.group for p in result.participants}
    for group in result.groups:
        members = [truth[p] for p, g in group_of.items() if g == group.id]
        planted_group = max(set(members), key=members.count)
        assert 1 <= len(group.representative) <= 5
        for rep in group.representative:
            column = int(rep.statement[1:])
            assert profiles[0, column] != profiles[1, column]
            expected = "agree" if profiles[planted_group, column] else "disagree"
            assert rep.direction == expected
            assert rep.q_value is not None and rep.q_value <= 0.10
            assert rep.n_trials >= 3 and rep.p_success > 0.5
            assert rep.best_agree is False


def test_common_ground_is_what_every_group_agrees_with():
    records, _ = planted([60, 60, 50], statements=20, seed=12)
    # Statement "zz" everyone agrees with (80 %), statement "zy" splits groups.
    rng = np.random.default_rng(0)
    extra = []
    for pid in sorted({r[0] for r in records}):
        extra.append((pid, "zz", 1 if rng.random() < 0.8 else -1, None))
    records = records + extra
    result = fit(records).result_
    assert "zz" in result.consensus.common_ground
    score = result.consensus.group_aware["zz"]
    assert score.net_min is not None and score.net_min >= 0.3
    for sid in result.consensus.common_ground:
        assert result.consensus.group_aware[sid].net_min >= 0.3


def test_moderated_statements_are_removed_not_zeroed():
    records, _ = planted([50, 50], statements=20, seed=13)
    statements = StatementTable.from_records(
        [
            ("s000", -1, False),
            ("s001", 0, True),
            ("s999", -1, False),
            ("s998", 1, False),
        ]
    )
    votes = VoteTable.from_records(records)
    result = OpinionMap().fit(votes, statements).result_
    by_id = {s.id: s for s in result.statements}
    for sid in ("s000", "s001"):
        point = by_id[sid]
        assert point.moderated_out and point.x is None and point.priority is None
        assert sid not in result.consensus.group_aware
        for group in result.groups:
            assert all(r.statement != sid for r in group.representative)
    # Every moderated-out statement of the table, with or without votes.
    assert result.input.moderated_out == ("s000", "s001", "s999")
    assert result.input.statements_without_votes == ("s998", "s999")
    assert "s999" not in by_id
    assert by_id["s001"].is_meta


def test_large_conversation_fits_on_the_hash_sample_and_recovers_groups():
    # 20,500 fit points: k-means runs on the 20,000 with the smallest
    # blake2b ranks, the silhouette on 2,000, then Lloyd on everyone.
    records, truth = planted([8000, 7000, 5500], statements=24, seed=14, coverage=0.8)
    votes = VoteTable.from_records(records)
    model = OpinionMap(mode="improved", seed=0).fit(votes)
    assert model.result_.diagnostics.n_in_conv > 20_000
    assert model.k_ == 3
    assert recovered_ari(model, truth) >= 0.9
    shuffled = list(records)
    np.random.default_rng(2).shuffle(shuffled)
    again = OpinionMap(mode="improved", seed=0).fit(VoteTable.from_records(shuffled))
    assert again.result_.to_json() == model.result_.to_json()
    # Another seed draws another hash sample, but the same planted groups.
    other = OpinionMap(mode="improved", seed=1).fit(votes)
    assert other.k_ == 3 and recovered_ari(other, truth) >= 0.9
