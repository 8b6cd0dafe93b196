"""``fit`` of the ``improved`` mode (spec §5), step by step.

Columns and moderation (§5.1), the centred matrix and its components (§5.2),
the clustered set and the groups (§5.3–5.6), then the statistics on group vote
counts (§5.7–5.9); :mod:`._assemble` builds the result from these parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._data import StatementTable, VoteTable
from .._result import OpinionResult
from ._assemble import assemble
from ._cache import ImprovedCache, param
from ._choice import Choice, choose_k
from ._matrix import (
    CanonicalVotes,
    canonical_votes_memo,
    centred_matrix,
    fast_canonical_order,
)
from ._parts import ActiveVotes, Columns, Groups, Statistics
from ._projection import place, principal_components
from ._stats import group_aware, majority, priority, representative

__all__ = ["fit_improved"]

UNIFORM_MIN_VOTES = 10
UNIFORM_SHARE = 0.95


def fit_improved(
    votes: VoteTable,
    statements: StatementTable | None,
    params: dict[str, Any],
    seed: int,
    cache: object | None,
) -> tuple[OpinionResult, ImprovedCache]:
    """Fit the improved-mode opinion map of every vote (spec §5).

    ``cache`` is the second value of a previous call (or None); it only makes
    the work faster.

    >>> from commonground.engines.opinion import VoteTable
    >>> votes = VoteTable.from_records(
    ...     [(p, s, 1 if (p < 20) == (s < 5) else -1, None)
    ...      for p in range(40) for s in range(10)])
    >>> result, cache = fit_improved(votes, None, {}, 0, None)
    >>> result.k, [g.members for g in result.groups]
    (2, [20, 20])
    """
    previous = cache if isinstance(cache, ImprovedCache) else None
    state = ImprovedCache()
    if previous is not None:
        state.hash_seed = previous.hash_seed
        state.hash_ranks = previous.hash_ranks
        state.n_ticks = previous.n_ticks + 1
    warnings: list[str] = []
    if params.get("replay"):
        warnings.append("replay_ignored")
    final, state.matrix = canonical_votes_memo(
        votes, previous.matrix if previous is not None else None
    )
    n_p = len(final.participant_ids)
    columns = _columns(final.statement_ids, statements)
    active = _active_votes(final, columns)
    z, mean = centred_matrix(
        active.row,
        active.col,
        active.value,
        (n_p, columns.n_active),
        column_sums=active.everyone[:, 2] - active.everyone[:, 0],
        column_counts=active.column_counts,
        row_counts=active.active_votes,
    )
    pca = principal_components(z, seed, _warm_start(previous, columns))
    if not pca.usable and len(final.vote):
        rank_one = min(n_p, columns.n_active) < 2
        warnings.append("rank_one" if rank_one else "no_variance")
    plane = place(z, pca, mean, active.active_votes)
    groups = _groups(
        plane.embedding, active, columns.n_active, final, params, seed, state, warnings
    )
    stats = _statistics(groups, active, columns.n_active, plane.extremity, params)
    if len(votes) == 0:
        warnings.append("no_votes")
    result = assemble(
        votes, final, params, seed, columns, active, pca, plane, groups, stats, warnings
    )
    state.column_ids = columns.column_ids
    state.participant_ids = final.participant_ids
    state.embedding = plane.embedding
    state.labels = groups.labels
    state.in_conv = groups.clustered
    state.center = mean
    state.components = pca.components
    return result, state


def _columns(sids: tuple[str, ...], statements: StatementTable | None) -> Columns:
    """Moderation of the voted statements; the active columns (spec §5.1)."""
    n_s = len(sids)
    moderated_ids = (
        statements.moderated_out_ids() if statements is not None else frozenset()
    )
    meta_ids = statements.meta_ids() if statements is not None else frozenset()
    moderated = np.fromiter((s in moderated_ids for s in sids), dtype=bool, count=n_s)
    is_meta = np.fromiter((s in meta_ids for s in sids), dtype=bool, count=n_s)
    without_votes: tuple[str, ...] = ()
    # Every moderated-out statement of the table, voted on or not (as polis mode).
    out_ids = sorted(moderated_ids)
    all_moderated = tuple(out_ids[i] for i in _canonical_positions(out_ids))
    if statements is not None:
        voted = set(sids)
        missing = [s for s in statements.ids if s not in voted]
        without_votes = tuple(missing[i] for i in _canonical_positions(missing))
    # Active columns: not moderated out.
    active = ~moderated
    column_of = np.full(n_s, -1, dtype=np.int32)
    column_of[active] = np.arange(int(active.sum()), dtype=np.int32)
    column_ids = tuple(s for s, a in zip(sids, active.tolist(), strict=True) if a)
    return Columns(
        sids, moderated, is_meta, all_moderated, without_votes, column_of, column_ids
    )


def _active_votes(final: CanonicalVotes, columns: Columns) -> ActiveVotes:
    """The votes on active columns; (disagree, pass, agree) counts in one pass each."""
    n_p, n_s = len(final.participant_ids), len(final.statement_ids)
    moderated = columns.moderated
    if moderated.any():
        keep = (~moderated)[final.col]
        row = final.row[keep]
        col = columns.column_of[final.col[keep]]
        value = final.vote[keep]
        del keep
    else:
        row, col, value = final.row, final.col, final.vote
    # Per participant and per statement, over the active columns.
    cells = _vote_counts(row, value, n_p)
    active_votes = cells.sum(axis=1)
    everyone = _vote_counts(col, value, columns.n_active)
    column_counts = everyone.sum(axis=1)
    if moderated.any():
        statement_votes = np.bincount(final.col, minlength=n_s)
        participant_votes = np.bincount(final.row, minlength=n_p)
    else:
        statement_votes = column_counts
        participant_votes = active_votes
    return ActiveVotes(
        row,
        col,
        value,
        cells,
        active_votes,
        everyone,
        column_counts,
        statement_votes,
        participant_votes,
    )


def _warm_start(
    previous: ImprovedCache | None, columns: Columns
) -> NDArray[np.float64] | None:
    """A start vector from the previous fit's components (``partial_fit``)."""
    if previous is None or not columns.n_active:
        return None
    position = {s: i for i, s in enumerate(previous.column_ids)}
    carried = np.asarray(
        [position.get(s, -1) for s in columns.column_ids], dtype=np.int64
    )
    if not (carried >= 0).any():
        return None
    old = previous.components
    warm: NDArray[np.float64] = np.where(
        carried >= 0, old[0][carried] + 0.5 * old[1][carried], 0.0
    )
    return warm


def _clustered_set(
    active: ActiveVotes, n_active: int, params: dict[str, Any]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The clustered participants and the uniform voters among them (spec §5.3)."""
    active_votes, cells = active.active_votes, active.cells
    min_votes = int(param(params, "min_votes"))
    clustered = (
        active_votes >= min(min_votes, n_active)
        if n_active
        else np.zeros(len(active_votes), dtype=bool)
    )
    clustered &= active_votes > 0
    decided = cells[:, 0] + cells[:, 2]
    uniform = (
        clustered
        & (decided >= UNIFORM_MIN_VOTES)
        & (np.maximum(cells[:, 0], cells[:, 2]) >= UNIFORM_SHARE * decided)
    )
    return clustered, uniform


def _groups(
    embedding: NDArray[np.float64],
    active: ActiveVotes,
    n_active: int,
    final: CanonicalVotes,
    params: dict[str, Any],
    seed: int,
    state: ImprovedCache,
    warnings: list[str],
) -> Groups:
    """Cluster the clustered set without its uniform voters, then place those."""
    clustered, uniform = _clustered_set(active, n_active, params)
    pids = final.participant_ids
    n_p = len(pids)
    fit_rows = np.flatnonzero(clustered & ~uniform)
    fit_points = embedding[fit_rows]
    labels = np.full(n_p, -1, dtype=np.int64)
    if len(fit_rows) == 0:
        if n_p:
            warnings.append("no_clustered_participants")
        return Groups(0, labels, np.zeros((0, 2)), None, clustered, uniform)
    choice = choose_k(
        fit_points, [pids[i] for i in fit_rows.tolist()], params, seed, state
    )
    k = choice.k
    if choice.clustering is None:
        raw = np.zeros(len(fit_rows), dtype=np.int64)
        warnings.append("no_stable_groups")
    else:
        raw = choice.clustering.labels.astype(np.int64)
    centres = np.column_stack(
        [
            np.bincount(raw, weights=fit_points[:, i], minlength=k)
            / np.bincount(raw, minlength=k)
            for i in range(2)
        ]
    )
    labels[fit_rows] = raw
    uniform_rows = np.flatnonzero(uniform)
    if len(uniform_rows):
        u = embedding[uniform_rows]
        d = (u[:, 0, None] - centres[None, :, 0]) ** 2 + (
            u[:, 1, None] - centres[None, :, 1]
        ) ** 2
        labels[uniform_rows] = np.argmin(d, axis=1)
    centres, choice = _number_by_size(labels, centres, choice, k)
    return Groups(k, labels, centres, choice, clustered, uniform)


def _number_by_size(
    labels: NDArray[np.int64], centres: NDArray[np.float64], choice: Choice, k: int
) -> tuple[NDArray[np.float64], Choice]:
    """Renumber ``labels`` in place: by descending size, ties by smallest member."""
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    first = np.full(k, len(labels), dtype=np.int64)
    np.minimum.at(first, labels[labels >= 0], np.flatnonzero(labels >= 0))
    order = np.lexsort((first, -sizes))
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    labels[labels >= 0] = relabel[labels[labels >= 0]]
    if choice.jaccard is not None:
        choice = Choice(
            choice.k,
            choice.clustering,
            choice.reason,
            choice.silhouettes,
            choice.jaccard[order],
            choice.ari,
            choice.evaluated,
        )
    return centres[order], choice


def _statistics(
    groups: Groups,
    active: ActiveVotes,
    n_active: int,
    extremity: NDArray[np.float64],
    params: dict[str, Any],
) -> Statistics:
    """Representative statements, majority and group-aware consensus, priority."""
    k = groups.k
    g_agree, g_disagree, g_seen = _group_vote_counts(groups, active, n_active)
    everyone = active.everyone
    all_agree = everyone[:, 2].astype(np.float64)
    all_disagree = everyone[:, 0].astype(np.float64)
    all_seen = everyone.sum(axis=1).astype(np.float64)
    reps = representative(
        g_agree,
        g_disagree,
        g_seen,
        fdr=float(param(params, "fdr")),
        max_representative=int(param(params, "max_representative")),
    )
    if k == 1:
        reps = [[]]
    agree_list, disagree_list = majority(all_agree, all_disagree, all_seen)
    aware = group_aware(g_agree, g_disagree, g_seen)
    if k:
        prio = priority(
            g_agree.sum(axis=0), g_disagree.sum(axis=0), g_seen.sum(axis=0), extremity
        )
    else:
        prio = priority(all_agree, all_disagree, all_seen, extremity)
    return Statistics(reps, agree_list, disagree_list, aware, prio)


def _group_vote_counts(
    groups: Groups, active: ActiveVotes, n_active: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Agree, disagree and seen per (group, column), uniform voters left out.

    Buckets 0..k-1 are the groups (members minus uniform voters), bucket k
    everyone else; one pass over the votes.
    """
    k, labels = groups.k, groups.labels
    bucket_of_row = np.where(groups.uniform | (labels < 0), k, labels).astype(np.int32)
    bucket = bucket_of_row[active.row]
    if (k + 1) * n_active < np.iinfo(np.int32).max // 4:
        bucket *= n_active
        bucket += active.col
    else:
        bucket = bucket.astype(np.int64) * n_active + active.col
    counts = _vote_counts(bucket, active.value, (k + 1) * n_active).reshape(
        k + 1, n_active, 3
    )
    del bucket
    g_agree = counts[:k, :, 2].astype(np.float64)
    g_disagree = counts[:k, :, 0].astype(np.float64)
    g_seen = counts[:k].sum(axis=2).astype(np.float64)
    return g_agree, g_disagree, g_seen


def _vote_counts(
    index: NDArray[np.int32] | NDArray[np.int64], value: NDArray[np.int8], size: int
) -> NDArray[np.int64]:
    """size x 3 counts of (disagree, pass, agree) per index value."""
    wide = 3 * size + 3 >= np.iinfo(np.int32).max
    key: NDArray[np.signedinteger[Any]] = index.astype(np.int64 if wide else np.int32)
    key *= 3
    key += value
    key += 1
    return np.bincount(key, minlength=3 * size).reshape(size, 3)


def _canonical_positions(ids: list[str]) -> list[int]:
    return fast_canonical_order(ids).tolist() if ids else []
