"""One ``polis`` tick (spec §4.1 steps 2-12): votes in, PCA, base and group clusters.

The tick updates the :class:`PolisState` in place and returns what the result
needs (projections, labels, the group clustering used and a trace entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._result import TraceTick
from ._kmeans import Clusters, distance_matrix, kmeans, silhouette
from ._pca import _pca, _project
from ._state import (
    _DENSE_ROWS,
    PolisState,
    _add_gram,
    _gram_of_blocks,
    _group_votes,
    _row_blocks,
)


def _apply_votes(
    state: PolisState,
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    internal: NDArray[np.float64],
) -> None:
    """Write a batch into R (last vote wins) and update sums incrementally."""
    if len(rows) == 0:
        return
    m = state.n_cols
    key = rows * m + cols
    # keep the last occurrence of every cell
    rev_key = key[::-1]
    _, first_rev = np.unique(rev_key, return_index=True)
    last = len(key) - 1 - first_rev
    rows, cols, internal = rows[last], cols[last], internal[last]
    touched = np.unique(rows)
    old_cell_val = state.values[rows, cols].copy()
    old_cell_vot = state.voted[rows, cols].copy()
    if len(touched) > _DENSE_ROWS:
        old_blocks = _row_blocks(state, touched, m)
        state.values[rows, cols] = internal
        state.voted[rows, cols] = 1.0
        delta = _gram_of_blocks(_row_blocks(state, touched, m), m)
        delta -= _gram_of_blocks(old_blocks, m)
        _add_gram(state, delta, m)
    else:
        old_block = np.hstack([state.values[touched, :m], state.voted[touched, :m]])
        state.values[rows, cols] = internal
        state.voted[rows, cols] = 1.0
        new_block = np.hstack([state.values[touched, :m], state.voted[touched, :m]])
        # One product gives the changes of S = RᵀR, B = RᵀV and N = VᵀV.
        stacked = np.vstack([new_block, old_block])
        signs = np.concatenate([np.ones(len(touched)), -np.ones(len(touched))])
        _add_gram(state, (stacked * signs[:, None]).T @ stacked, m)
    np.add.at(state.col_sum, cols, internal - old_cell_val)
    np.add.at(state.col_count, cols, 1.0 - old_cell_vot)
    np.add.at(state.row_count, rows, (1.0 - old_cell_vot).astype(np.int64))


def _update_in_conv(state: PolisState) -> None:
    n, m = state.n_rows, state.n_cols
    counts = state.row_count[:n]
    in_conv = state.in_conv[:n]
    in_conv |= counts >= min(7, m)
    missing = 15 - int(in_conv.sum())
    if missing > 0:
        candidates = np.flatnonzero(~in_conv)
        # descending count, ties by encounter order (stable sort)
        order = np.argsort(-counts[candidates], kind="stable")
        in_conv[candidates[order[:missing]]] = True


def _smooth(
    smoother: tuple[int, int, int] | None, best_k: int, buffer: int, max_k: int
) -> tuple[int, int, int]:
    if smoother is None:
        last_k, count, smoothed = None, 0, None
    else:
        last_k, count, smoothed = smoother
    count = count + 1 if best_k == last_k else 1
    if count >= buffer or smoothed is None:
        smoothed = best_k
    smoothed = min(smoothed, max_k)
    return (best_k, count, smoothed)


@dataclass(slots=True)
class _TickOutcome:
    projections: NDArray[np.float64]
    comps: NDArray[np.float64]
    mu: NDArray[np.float64]
    groups: Clusters | None  # group clustering used (members = base ids)
    labels: NDArray[np.int64]  # output group per row, -1 = none
    group_cluster_ids: tuple[int, ...]
    trace: TraceTick


def _tick(
    state: PolisState,
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    internal: NDArray[np.float64],
    params: dict[str, Any],
    *,
    t_end: int | None,
    need_group_votes: bool,
    group_clustering: bool = True,
) -> _TickOutcome:
    """Steps 2-12 of spec §4.1 on a batch already through customs.

    ``group_clustering=False`` stops after the base clusters (steps 9-12 are
    skipped and the per-k clusterings and smoother left empty): used by
    REPLAY for ticks whose group clusterings the reboot would discard.
    """
    _apply_votes(state, rows, cols, internal)
    state.n_ticks += 1
    n = state.n_rows
    mod_out, _meta = state.moderation()
    _update_in_conv(state)
    comps, eigenvalues, mu = _pca(state, mod_out, params["pca_iters"])
    state.pca_components = comps
    state.pca_eigenvalues = eigenvalues
    state.pca_center = mu
    in_rows = np.flatnonzero(state.in_conv[:n]).astype(np.int64)
    proj = _project(state, comps, mu, mod_out)
    labels = np.full(n, -1, dtype=np.int64)
    silhouettes: dict[int, float] = {}
    best_k: int | None = None
    groups: Clusters | None = None
    if len(in_rows):
        state.base = kmeans(
            proj[in_rows],
            in_rows,
            params["base_k"],
            max_iters=100,
            previous=state.base,
        )
    if len(in_rows) and group_clustering:
        silhouettes, best_k, groups = _cluster_groups(state, params, labels)
    elif not group_clustering:
        state.group_clusterings = {}
        state.smoother = None
    group_ids = () if groups is None else tuple(groups.ids.tolist())
    state.last_silhouettes = silhouettes
    state.last_best_k = best_k
    if need_group_votes:
        state.group_votes = _group_votes(state, labels, len(group_ids))
    trace = TraceTick(
        t_end_ms=t_end,
        n_votes=state.n_votes,
        silhouettes=silhouettes,
        best_k=best_k,
        smoothed_k=None if state.smoother is None else state.smoother[2],
    )
    return _TickOutcome(proj, comps, mu, groups, labels, group_ids, trace)


def _cluster_groups(
    state: PolisState, params: dict[str, Any], labels: NDArray[np.int64]
) -> tuple[dict[int, float], int, Clusters]:
    """Steps 9-12: group clusterings of the base clusters for k = 2..max_k.

    Returns the silhouette per k, the best k and the clustering of the
    smoothed k, and sets ``labels`` (group position per participant row).
    """
    assert state.base is not None
    base = state.base
    n_base = len(base)
    max_k = min(params["max_k"], 2 + n_base // 12)
    weights = base.counts().astype(np.float64)
    clusterings: dict[int, Clusters] = {}
    silhouettes: dict[int, float] = {}
    base_dist = distance_matrix(base.centres)
    for k in range(2, max_k + 1):
        clustering = kmeans(
            base.centres,
            base.ids,
            k,
            max_iters=20,
            weights=weights,
            previous=state.group_clusterings.get(k),
        )
        clusterings[k] = clustering
        base_labels = _labels_of(base.ids, clustering)
        silhouettes[k] = silhouette(base_dist, base_labels)
    state.group_clusterings = clusterings
    best_k = max(silhouettes, key=lambda k: (silhouettes[k], k))
    state.smoother = _smooth(state.smoother, best_k, params["group_k_buffer"], max_k)
    state.last_max_k = max_k
    groups = clusterings[state.smoother[2]]
    base_group = _labels_of(base.ids, groups)  # position in groups list
    for j, members in enumerate(base.members):
        labels[members] = base_group[j]
    return silhouettes, best_k, groups


def _labels_of(base_ids: NDArray[np.int64], clustering: Clusters) -> NDArray[np.int64]:
    """Position (in clustering order, i.e. by id) of the cluster holding each base id."""
    lookup = {}
    for position, members in enumerate(clustering.members):
        for name in members.tolist():
            lookup[name] = position
    return np.asarray([lookup[b] for b in base_ids.tolist()], dtype=np.int64)
