"""Assembling the :class:`OpinionResult` of the ``improved`` mode from its parts.

Participants and statements keep canonical order; groups are numbered by
descending size; moderated-out statements have no coordinates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._data import VoteTable
from .._result import (
    Consensus,
    Diagnostics,
    Group,
    GroupAwareScore,
    InputSummary,
    MajorityStatement,
    OpinionResult,
    ParticipantPoint,
    RepresentativeStatement,
    StatementPoint,
)
from ._cache import param
from ._choice import STABILITY_THRESHOLD
from ._matrix import CanonicalVotes
from ._parts import ActiveVotes, Columns, Groups, Statistics
from ._projection import Pca, Plane
from ._stats import Representative

__all__ = ["assemble"]


def assemble(
    votes: VoteTable,
    final: CanonicalVotes,
    params: dict[str, Any],
    seed: int,
    columns: Columns,
    active: ActiveVotes,
    pca: Pca,
    plane: Plane,
    groups: Groups,
    stats: Statistics,
    warnings: list[str],
) -> OpinionResult:
    """The result of one fit (``warnings`` complete by now)."""
    return OpinionResult(
        mode="improved",
        replay=bool(params.get("replay", False)),
        seed=seed,
        params=params,
        input=_summary(votes, final, columns),
        k=groups.k,
        participants=_participants(final, plane, groups, active),
        groups=_groups(groups, stats, columns.column_ids),
        consensus=_consensus(groups.k, stats, columns),
        statements=_statements(columns, plane, stats, active),
        diagnostics=_diagnostics(params, pca, groups, warnings),
        trace=(),
    )


def _summary(votes: VoteTable, final: CanonicalVotes, columns: Columns) -> InputSummary:
    return InputSummary(
        path=votes.path,
        source=votes.source,
        vote_rows=len(votes),
        votes=len(final.vote),
        participants=len(final.participant_ids),
        statements=len(final.statement_ids),
        moderated_out=columns.all_moderated,
        statements_without_votes=columns.without_votes,
    )


def _participants(
    final: CanonicalVotes, plane: Plane, groups: Groups, active: ActiveVotes
) -> tuple[ParticipantPoint, ...]:
    xs = plane.embedding[:, 0].tolist()
    ys = plane.embedding[:, 1].tolist()
    label_list = groups.labels.tolist()
    clustered_list = groups.clustered.tolist()
    uniform_list = groups.uniform.tolist()
    vote_list = active.participant_votes.tolist()
    return tuple(
        map(
            ParticipantPoint,
            final.participant_ids,
            xs,
            ys,
            [None if label < 0 else label for label in label_list],
            clustered_list,
            vote_list,
            [("uniform",) if flag else () for flag in uniform_list],
        )
    )


def _groups(
    groups: Groups, stats: Statistics, column_ids: tuple[str, ...]
) -> tuple[Group, ...]:
    k, labels, centres, choice = groups.k, groups.labels, groups.centres, groups.choice
    if not k:
        return ()
    members = np.bincount(labels[labels >= 0], minlength=k)
    out: list[Group] = []
    for gid in range(k):
        stability = (
            float(choice.jaccard[gid])
            if choice is not None and choice.jaccard is not None
            else None
        )
        out.append(
            Group(
                id=gid,
                members=int(members[gid]),
                centre=(float(centres[gid, 0]), float(centres[gid, 1])),
                stability=stability,
                representative=_representatives(stats.reps[gid], column_ids),
            )
        )
    return tuple(out)


def _representatives(
    reps: list[Representative], column_ids: tuple[str, ...]
) -> tuple[RepresentativeStatement, ...]:
    return tuple(
        RepresentativeStatement(
            statement=column_ids[r.column],
            direction="agree" if r.agree else "disagree",
            n_success=r.n_success,
            n_trials=r.n_trials,
            p_success=r.p_success,
            p_test=r.p_test,
            repness=r.repness,
            repness_test=r.repness_test,
            best_agree=False,
            q_value=r.q_value,
        )
        for r in reps
    )


def _consensus(k: int, stats: Statistics, columns: Columns) -> Consensus:
    column_ids = columns.column_ids
    aware = stats.aware
    return Consensus(
        majority_agree=tuple(
            MajorityStatement(column_ids[c], a, s, p, t)
            for c, a, s, p, t in stats.agree_list
        ),
        majority_disagree=tuple(
            MajorityStatement(column_ids[c], a, s, p, t)
            for c, a, s, p, t in stats.disagree_list
        ),
        group_aware={
            column_ids[j]: GroupAwareScore(
                float(aware.agree[j]), float(aware.disagree[j]), float(aware.net_min[j])
            )
            for j in range(columns.n_active)
        }
        if k
        else {},
        common_ground=tuple(column_ids[j] for j in aware.common_ground),
    )


def _statements(
    columns: Columns, plane: Plane, stats: Statistics, active: ActiveVotes
) -> tuple[StatementPoint, ...]:
    sx = plane.statement_xy[:, 0].tolist()
    sy = plane.statement_xy[:, 1].tolist()
    ext = plane.extremity.tolist()
    pri = stats.prio.tolist()
    col_list = columns.column_of.tolist()
    svotes = active.statement_votes.tolist()
    moderated_list = columns.moderated.tolist()
    meta_list = columns.is_meta.tolist()
    sids = columns.statement_ids
    statement_points = []
    for j in range(len(sids)):
        c = col_list[j]
        statement_points.append(
            StatementPoint(
                sids[j],
                None if c < 0 else sx[c],
                None if c < 0 else sy[c],
                None if c < 0 else ext[c],
                None if c < 0 else pri[c],
                svotes[j],
                moderated_list[j],
                meta_list[j],
            )
        )
    return tuple(statement_points)


def _diagnostics(
    params: dict[str, Any], pca: Pca, groups: Groups, warnings: list[str]
) -> Diagnostics:
    choice = groups.choice
    stability_json: Any = None
    if choice is not None:
        stability_json = {
            "resamples": int(param(params, "bootstrap")),
            "threshold": STABILITY_THRESHOLD,
            "ari": choice.ari,
            "groups": None
            if choice.jaccard is None
            else [float(j) for j in choice.jaccard],
            "evaluated": choice.evaluated,
        }
    return Diagnostics(
        n_in_conv=int(groups.clustered.sum()),
        explained_variance=pca.explained,
        silhouette=dict(sorted(choice.silhouettes.items())) if choice else {},
        chosen_k_reason=choice.reason if choice else "no_clustered_participants",
        smoother=None,
        ticks=None,
        replay_window_ms=None,
        reboot_before_final=None,
        base_clusters=None,
        group_cluster_ids=None,
        stability=stability_json,
        uniform_voters=int(groups.uniform.sum()),
        warnings=tuple(warnings),
    )
