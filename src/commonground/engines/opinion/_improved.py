"""The ``improved`` mode: deterministic, stateless opinion maps (spec §5).

The result depends only on the final votes, the statement table, the
parameters and the seed: rows and columns are put in canonical id order,
every random draw comes from ``Generator(PCG64(SeedSequence([seed, purpose,
k, run])))`` and every sort is stable.  ``partial_fit`` passes back the cache
returned here; it only speeds things up (warm-started eigensolver, cached
hash ranks), the result is the one a fresh :func:`fit_improved` gives.

>>> from commonground.engines.opinion import VoteTable
>>> votes = VoteTable.from_records(
...     [(p, s, 1 if (p < 20) == (s < 5) else -1, None)
...      for p in range(40) for s in range(10)])
>>> result, cache = fit_improved(votes, None, {}, 0, None)
>>> result.k, [g.members for g in result.groups]
(2, [20, 20])
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ._data import StatementTable, VoteTable
from ._improved_kmeans import (
    PURPOSE_KMEANS,
    PURPOSE_PCA,
    Clustering,
    bootstrap_stability,
    generator,
    kmeans,
    lloyd,
    silhouette_score,
)
from ._improved_matrix import (
    MatrixMemo,
    canonical_votes_memo,
    centred_matrix,
    fast_canonical_order,
)
from ._improved_pca import top_two
from ._improved_stats import group_aware, majority, priority, representative
from ._result import (
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
    orientation_signs,
)

__all__ = ["ImprovedCache", "fit_improved"]

DEFAULTS: dict[str, Any] = {
    "min_votes": 7,
    "max_groups": 8,
    "min_group_share": 0.03,
    "n_init": 4,
    "bootstrap": 10,
    "fdr": 0.10,
    "max_representative": 5,
}
MAX_FIT_POINTS = 20_000
MAX_SILHOUETTE_POINTS = 2_000
FULL_LLOYD_ITERATIONS = 50
STABILITY_THRESHOLD = 0.6
SCORE_TOLERANCE = 0.005
UNIFORM_MIN_VOTES = 10
UNIFORM_SHARE = 0.95


@dataclass(eq=False)
class ImprovedCache:
    """What ``partial_fit`` hands back: learned arrays plus reusable work.

    ``column_ids``, ``center`` and ``components`` (output orientation) are
    read by the estimator, and so may ``participant_ids``, ``embedding``,
    ``labels`` (-1 = no group) and ``in_conv`` (canonical participant order,
    equal to the result's participants); ``hash_ranks`` maps participant id to its
    ``blake2b`` rank key for ``hash_seed``.
    """

    column_ids: tuple[str, ...] = ()
    center: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    components: NDArray[np.float64] = field(default_factory=lambda: np.zeros((2, 0)))
    n_ticks: int = 1
    hash_seed: int | None = None
    hash_ranks: dict[str, int] = field(default_factory=dict)
    matrix: MatrixMemo | None = None
    participant_ids: tuple[str, ...] = ()
    embedding: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 2)))
    labels: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )
    in_conv: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _param(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    return DEFAULTS[name] if value is None else value


def _hash_keys(ids: list[str], seed: int, cache: ImprovedCache) -> NDArray[np.uint64]:
    """First 8 bytes of ``blake2b(f"{seed}:{id}")`` as big-endian uint64, memoised."""
    if cache.hash_seed != seed:
        cache.hash_seed = seed
        cache.hash_ranks = {}
    memo = cache.hash_ranks
    out = np.empty(len(ids), dtype=np.uint64)
    for i, pid in enumerate(ids):
        value = memo.get(pid)
        if value is None:
            # The rank is the order of the (default, 64-byte) digests; their
            # first 8 bytes decide it (ties fall back to canonical order).
            digest = hashlib.blake2b(f"{seed}:{pid}".encode()).digest()
            value = int.from_bytes(digest[:8], "big")
            memo[pid] = value
        out[i] = value
    return out


def _smallest_hash(
    keys: NDArray[np.uint64], counts: tuple[int, ...]
) -> list[NDArray[np.intp]]:
    """For each count, the positions of the smallest keys (ties: lower position),
    in ascending position order."""
    everyone = np.arange(len(keys))
    if all(len(keys) <= count for count in counts):
        return [everyone for _ in counts]
    order = np.lexsort((everyone, keys))
    return [np.sort(order[:count]) for count in counts]


@dataclass(frozen=True, slots=True)
class _Pca:
    components: NDArray[np.float64]  # 2 x columns, output orientation
    explained: tuple[float | None, float | None]
    usable: bool


def _pca(z: sparse.csr_array, seed: int, warm: NDArray[np.float64] | None) -> _Pca:
    """Top-2 right singular vectors of Z (spec §5.2), thread-count independent.

    Lanczos on v ↦ Zᵀ(Zv) (see :mod:`._improved_pca`) at every size, from a
    seeded start vector, or from the previous components in ``partial_fit``;
    both converge to the 1e-12 tolerance of spec §5.2.
    """
    n_rows, n_cols = z.shape
    total = float(np.einsum("i,i->", z.data, z.data))
    components = np.zeros((2, n_cols))
    if min(2, n_rows, n_cols) < 2 or total <= 0.0:
        return _Pca(components, (None, None), False)
    zt = z.T

    def normal(v: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = zt @ (z @ v)
        return result

    rng = generator(seed, PURPOSE_PCA)
    cold = rng.standard_normal(n_cols)
    start = warm if warm is not None and np.any(warm) else cold
    values, vectors = top_two(
        normal, n_cols, start, lambda: rng.standard_normal(n_cols), tol=1e-12
    )
    components = np.ascontiguousarray(vectors)
    components *= orientation_signs(components)[:, None]
    explained = (
        max(float(values[0]), 0.0) / total,
        max(float(values[1]), 0.0) / total,
    )
    return _Pca(components, explained, True)


@dataclass(frozen=True, slots=True)
class _Choice:
    k: int
    clustering: Clustering | None  # on all fit points
    reason: str
    silhouettes: dict[int, float]
    jaccard: NDArray[np.float64] | None
    ari: float | None
    evaluated: dict[str, Any]


def _choose_k(
    points: NDArray[np.float64],
    ids: list[str],
    params: Mapping[str, Any],
    seed: int,
    cache: ImprovedCache,
) -> _Choice:
    """k-means per candidate k, silhouette ranking, bootstrap admission (§5.4–5.6)."""
    n = len(points)
    share = float(_param(params, "min_group_share"))
    max_groups = int(_param(params, "max_groups"))
    n_init = int(_param(params, "n_init"))
    resamples = int(_param(params, "bootstrap"))
    minimum = max(5, math.ceil(share * n))
    candidates = list(range(2, min(max_groups, n // minimum) + 1))
    spread = n > 0 and bool(np.ptp(points, axis=0).max() > 0.0)
    if not candidates or not spread:
        return _Choice(1, None, "no_stable_groups", {}, None, None, {})
    keys = (
        _hash_keys(ids, seed, cache)
        if n > MAX_SILHOUETTE_POINTS
        else np.zeros(n, dtype=np.uint64)
    )
    fit_index, sample_index = _smallest_hash(
        keys, (MAX_FIT_POINTS, MAX_SILHOUETTE_POINTS)
    )
    fit_points = points[fit_index]
    sample_in_fit = np.searchsorted(fit_index, sample_index)
    sample_x = np.ascontiguousarray(points[sample_index, 0])
    sample_y = np.ascontiguousarray(points[sample_index, 1])
    distances = np.subtract.outer(sample_x, sample_x)
    distances *= distances
    dy = np.subtract.outer(sample_y, sample_y)
    dy *= dy
    distances += dy
    del dy
    np.sqrt(distances, out=distances)
    fits: dict[int, Clustering] = {}
    scores: dict[int, float] = {}
    for k in candidates:
        fitted = kmeans(fit_points, k, seed=seed, purpose=PURPOSE_KMEANS, n_init=n_init)
        fits[k] = fitted
        scores[k] = silhouette_score(distances, fitted.labels[sample_in_fit], k)
    remaining = list(candidates)
    evaluated: dict[str, Any] = {}
    while remaining:
        best = max(scores[k] for k in remaining)
        k = min(k for k in remaining if scores[k] >= best - SCORE_TOLERANCE)
        remaining.remove(k)
        fitted = fits[k]
        if n > len(fit_index):
            full = lloyd(points, fitted.centres, FULL_LLOYD_ITERATIONS)
        else:
            full = fitted
        sizes = np.bincount(full.labels, minlength=k)
        entry: dict[str, Any] = {"min_group": int(sizes.min()), "min_stability": None}
        evaluated[str(k)] = entry
        if sizes.min() < minimum:
            continue
        # Resamples of the points k-means was fitted on (all fit points, or the
        # 20,000 hash-selected ones in a larger conversation).
        jaccard, ari = bootstrap_stability(
            fit_points, fitted.labels, k, seed=seed, resamples=resamples
        )
        entry["min_stability"] = float(jaccard.min())
        if jaccard.min() >= STABILITY_THRESHOLD:
            return _Choice(k, full, "silhouette", scores, jaccard, ari, evaluated)
    return _Choice(1, None, "no_stable_groups", scores, None, None, evaluated)


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
    pids = final.participant_ids
    sids = final.statement_ids
    n_p, n_s = len(pids), len(sids)
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

    # Active columns: not moderated out (spec §5.1).
    active = ~moderated
    column_of = np.full(n_s, -1, dtype=np.int32)
    column_of[active] = np.arange(int(active.sum()), dtype=np.int32)
    n_active = int(active.sum())
    if moderated.any():
        keep = active[final.col]
        row = final.row[keep]
        col = column_of[final.col[keep]]
        value = final.vote[keep]
        del keep
    else:
        row, col, value = final.row, final.col, final.vote
    column_ids = tuple(s for s, a in zip(sids, active.tolist(), strict=True) if a)

    # One pass each for (disagree, pass, agree) counts per participant and per
    # statement over the active columns.
    cells = _vote_counts(row, value, n_p)
    active_votes = cells.sum(axis=1)
    everyone = _vote_counts(col, value, n_active)
    column_counts = everyone.sum(axis=1)
    if moderated.any():
        statement_votes = np.bincount(final.col, minlength=n_s)
        participant_votes = np.bincount(final.row, minlength=n_p)
    else:
        statement_votes = column_counts
        participant_votes = active_votes
    z, mean = centred_matrix(
        row,
        col,
        value,
        (n_p, n_active),
        column_sums=everyone[:, 2] - everyone[:, 0],
        column_counts=column_counts,
        row_counts=active_votes,
    )
    warm = None
    if previous is not None and n_active:
        position = {s: i for i, s in enumerate(previous.column_ids)}
        carried = np.asarray([position.get(s, -1) for s in column_ids], dtype=np.int64)
        if (carried >= 0).any():
            old = previous.components
            warm = np.where(carried >= 0, old[0][carried] + 0.5 * old[1][carried], 0.0)
    pca = _pca(z, seed, warm)
    comps = pca.components
    if not pca.usable and len(final.vote):
        rank_one = min(n_p, n_active) < 2
        warnings.append("rank_one" if rank_one else "no_variance")

    scale = np.sqrt(n_active / np.maximum(active_votes, 1))
    if pca.usable:
        embedding = np.asarray(z @ comps.T) * scale[:, None]
        statement_xy = (1.0 - mean)[:, None] * comps.T * math.sqrt(n_active)
    else:
        embedding = np.zeros((n_p, 2))
        statement_xy = np.zeros((n_active, 2))
    extremity = np.hypot(statement_xy[:, 0], statement_xy[:, 1])

    # Clustered set and uniform voters (spec §5.3).
    min_votes = int(_param(params, "min_votes"))
    clustered = (
        active_votes >= min(min_votes, n_active)
        if n_active
        else np.zeros(n_p, dtype=bool)
    )
    clustered &= active_votes > 0
    decided = cells[:, 0] + cells[:, 2]
    uniform = (
        clustered
        & (decided >= UNIFORM_MIN_VOTES)
        & (np.maximum(cells[:, 0], cells[:, 2]) >= UNIFORM_SHARE * decided)
    )
    fit_rows = np.flatnonzero(clustered & ~uniform)
    fit_points = embedding[fit_rows]

    labels = np.full(n_p, -1, dtype=np.int64)
    choice: _Choice | None = None
    if len(fit_rows) == 0:
        k = 0
        if n_p:
            warnings.append("no_clustered_participants")
    else:
        choice = _choose_k(
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
        # Group ids by descending size, ties by smallest canonical member.
        sizes = np.bincount(labels[labels >= 0], minlength=k)
        first = np.full(k, n_p, dtype=np.int64)
        np.minimum.at(first, labels[labels >= 0], np.flatnonzero(labels >= 0))
        order = np.lexsort((first, -sizes))
        relabel = np.empty(k, dtype=np.int64)
        relabel[order] = np.arange(k)
        labels[labels >= 0] = relabel[labels[labels >= 0]]
        centres = centres[order]
        if choice.jaccard is not None:
            choice = _Choice(
                choice.k,
                choice.clustering,
                choice.reason,
                choice.silhouettes,
                choice.jaccard[order],
                choice.ari,
                choice.evaluated,
            )

    # Vote counts per (bucket, column): buckets 0..k-1 are the groups (members
    # minus uniform voters), bucket k everyone else; one pass over the votes.
    bucket_of_row = np.where(uniform | (labels < 0), k, labels).astype(np.int32)
    bucket = bucket_of_row[row]
    if (k + 1) * n_active < np.iinfo(np.int32).max // 4:
        bucket *= n_active
        bucket += col
    else:
        bucket = bucket.astype(np.int64) * n_active + col
    counts = _vote_counts(bucket, value, (k + 1) * n_active).reshape(k + 1, n_active, 3)
    del bucket
    g_agree = counts[:k, :, 2].astype(np.float64)
    g_disagree = counts[:k, :, 0].astype(np.float64)
    g_seen = counts[:k].sum(axis=2).astype(np.float64)
    all_agree = everyone[:, 2].astype(np.float64)
    all_disagree = everyone[:, 0].astype(np.float64)
    all_seen = everyone.sum(axis=1).astype(np.float64)

    reps = representative(
        g_agree,
        g_disagree,
        g_seen,
        fdr=float(_param(params, "fdr")),
        max_representative=int(_param(params, "max_representative")),
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

    # Assemble the result.
    xs = embedding[:, 0].tolist()
    ys = embedding[:, 1].tolist()
    label_list = labels.tolist()
    clustered_list = clustered.tolist()
    uniform_list = uniform.tolist()
    vote_list = participant_votes.tolist()
    participants = tuple(
        map(
            ParticipantPoint,
            pids,
            xs,
            ys,
            [None if label < 0 else label for label in label_list],
            clustered_list,
            vote_list,
            [("uniform",) if flag else () for flag in uniform_list],
        )
    )
    groups: list[Group] = []
    if k:
        members = np.bincount(labels[labels >= 0], minlength=k)
        for gid in range(k):
            stability = (
                float(choice.jaccard[gid])
                if choice is not None and choice.jaccard is not None
                else None
            )
            groups.append(
                Group(
                    id=gid,
                    members=int(members[gid]),
                    centre=(float(centres[gid, 0]), float(centres[gid, 1])),
                    stability=stability,
                    representative=tuple(
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
                        for r in reps[gid]
                    ),
                )
            )
    consensus = Consensus(
        majority_agree=tuple(
            MajorityStatement(column_ids[c], a, s, p, t) for c, a, s, p, t in agree_list
        ),
        majority_disagree=tuple(
            MajorityStatement(column_ids[c], a, s, p, t)
            for c, a, s, p, t in disagree_list
        ),
        group_aware={
            column_ids[j]: GroupAwareScore(
                float(aware.agree[j]), float(aware.disagree[j]), float(aware.net_min[j])
            )
            for j in range(n_active)
        }
        if k
        else {},
        common_ground=tuple(column_ids[j] for j in aware.common_ground),
    )
    sx = statement_xy[:, 0].tolist()
    sy = statement_xy[:, 1].tolist()
    ext = extremity.tolist()
    pri = prio.tolist()
    col_list = column_of.tolist()
    svotes = statement_votes.tolist()
    moderated_list = moderated.tolist()
    meta_list = is_meta.tolist()
    statement_points = []
    for j in range(n_s):
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
    if len(votes) == 0:
        warnings.append("no_votes")
    stability_json: Any = None
    if choice is not None:
        stability_json = {
            "resamples": int(_param(params, "bootstrap")),
            "threshold": STABILITY_THRESHOLD,
            "ari": choice.ari,
            "groups": None
            if choice.jaccard is None
            else [float(j) for j in choice.jaccard],
            "evaluated": choice.evaluated,
        }
    diagnostics = Diagnostics(
        n_in_conv=int(clustered.sum()),
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
        uniform_voters=int(uniform.sum()),
        warnings=tuple(warnings),
    )
    summary = InputSummary(
        path=votes.path,
        source=votes.source,
        vote_rows=len(votes),
        votes=len(final.vote),
        participants=n_p,
        statements=n_s,
        moderated_out=all_moderated,
        statements_without_votes=without_votes,
    )
    result = OpinionResult(
        mode="improved",
        replay=bool(params.get("replay", False)),
        seed=seed,
        params=params,
        input=summary,
        k=k,
        participants=participants,
        groups=tuple(groups),
        consensus=consensus,
        statements=tuple(statement_points),
        diagnostics=diagnostics,
        trace=(),
    )
    state.column_ids = column_ids
    state.participant_ids = pids
    state.embedding = embedding
    state.labels = labels
    state.in_conv = clustered
    state.center = mean
    state.components = comps
    return result, state


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
