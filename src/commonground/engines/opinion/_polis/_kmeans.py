"""k-means exactly as Pol.is ``clusters.clj`` (spec §4.2), and its silhouette.

A clustering is a list of clusters (id, members, centre); members are the
*names* of data rows (participant rows for base clusters, base-cluster ids for
group clusters).  Everything here is deterministic; the only quirks kept on
purpose are Pol.is's: ties to the last cluster in Clojure map iteration order,
the cancellation-prone distance formula in the assignment step, dropping of
empty clusters and the truncating convergence test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Clusters",
    "clojure_hash_order",
    "distance_matrix",
    "kmeans",
    "silhouette",
]

_MASK32 = 0xFFFFFFFF


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & _MASK32


def _mix_k1(k1: int) -> int:
    k1 = (k1 * 0xCC9E2D51) & _MASK32
    k1 = _rotl(k1, 15)
    return (k1 * 0x1B873593) & _MASK32


def _mix_h1(h1: int, k1: int) -> int:
    h1 ^= k1
    h1 = _rotl(h1, 13)
    return (h1 * 5 + 0xE6546B64) & _MASK32


def murmur3_hash_long(value: int) -> int:
    """Clojure's ``hash`` of a Long (``Murmur3.hashLong``), as unsigned 32 bits."""
    if value == 0:
        return 0
    unsigned = value & 0xFFFFFFFFFFFFFFFF
    h1 = _mix_h1(0, _mix_k1(unsigned & _MASK32))
    h1 = _mix_h1(h1, _mix_k1(unsigned >> 32))
    h1 ^= 8
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & _MASK32
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & _MASK32
    h1 ^= h1 >> 16
    return h1


def _hash_rank_key(value: int) -> int:
    """Sort key of a hash-map entry: 5-bit hash chunks, least significant first."""
    h = murmur3_hash_long(value)
    key = 0
    for level in range(7):
        key = (key << 5) | ((h >> (5 * level)) & 31)
    return key


_KEY_CACHE: dict[int, int] = {}


def clojure_hash_order(ids: NDArray[np.int64]) -> NDArray[np.intp]:
    """Positions of ``ids`` in the iteration order of a Clojure hash map."""
    keys = []
    for value in ids.tolist():
        key = _KEY_CACHE.get(value)
        if key is None:
            key = _hash_rank_key(value)
            _KEY_CACHE[value] = key
        keys.append(key)
    return np.argsort(np.asarray(keys, dtype=np.int64), kind="stable")


@dataclass(slots=True)
class Clusters:
    """Clusters in list order: ids, centres (c × d) and member names."""

    ids: NDArray[np.int64]
    centres: NDArray[np.float64]
    members: list[NDArray[np.int64]]

    def __len__(self) -> int:
        return len(self.ids)

    def sorted_by_id(self) -> Clusters:
        order = np.argsort(self.ids, kind="stable")
        return Clusters(
            self.ids[order], self.centres[order], [self.members[i] for i in order]
        )

    def counts(self) -> NDArray[np.int64]:
        return np.asarray([len(m) for m in self.members], dtype=np.int64)


def _cold_init(
    points: NDArray[np.float64], names: NDArray[np.int64], k: int
) -> Clusters:
    """The first k distinct rows (exact equality) in row order, ids 0..k-1."""
    seen: set[tuple[float, ...]] = set()
    chosen: list[int] = []
    for i, row in enumerate(points.tolist()):
        key = tuple(row)
        if key in seen:
            continue
        seen.add(key)
        chosen.append(i)
        if len(chosen) == k:
            break
    return Clusters(
        np.arange(len(chosen), dtype=np.int64),
        points[chosen].copy(),
        [np.zeros(0, dtype=np.int64) for _ in chosen],
    )


_ASSIGN_CHUNK = 8192  # rows per block of the assignment (keeps temporaries in cache)


def _nearest_reversed(
    points: NDArray[np.float64], reverse: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Index (into ``reverse``) of the first nearest centre of every point.

    vectorz's distance: sqrt(max(0, |a|^2 + |c|^2 - 2 a.c)), computed
    elementwise (no fused multiply-add) so that coincident points tie at
    exactly 0.  The centres come reversed, so argmin's first minimum is the
    last cluster in iteration order (Pol.is's tie rule).
    """
    a0 = points[:, 0:1]
    a1 = points[:, 1:2]
    c0 = reverse[None, :, 0]
    c1 = reverse[None, :, 1]
    dist = a0 * a0
    dist += a1 * a1
    dist = dist + (c0 * c0 + c1 * c1)
    ac = a0 * c0
    ac += a1 * c1
    ac *= 2.0
    dist -= ac
    np.maximum(dist, 0.0, out=dist)
    np.sqrt(dist, out=dist)
    return np.asarray(np.argmin(dist, axis=1), dtype=np.int64)


def _step(
    points: NDArray[np.float64],
    names: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    clusters: Clusters,
) -> Clusters:
    """One assignment + recentring step (``cluster-step``)."""
    c = len(clusters)
    if c > 8:
        order = clojure_hash_order(clusters.ids)
        ids = clusters.ids[order]
        centres = clusters.centres[order]
    else:
        ids = clusters.ids
        centres = clusters.centres
    reverse = np.ascontiguousarray(centres[::-1])
    labels = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), _ASSIGN_CHUNK):
        part = points[start : start + _ASSIGN_CHUNK]
        labels[start : start + len(part)] = c - 1 - _nearest_reversed(part, reverse)
    counts = np.bincount(labels, minlength=c)
    if weights is None:
        sw = counts.astype(np.float64)
        sx = np.bincount(labels, weights=points[:, 0], minlength=c)
        sy = np.bincount(labels, weights=points[:, 1], minlength=c)
    else:
        sw = np.bincount(labels, weights=weights, minlength=c).astype(np.float64)
        sx = np.bincount(labels, weights=weights * points[:, 0], minlength=c)
        sy = np.bincount(labels, weights=weights * points[:, 1], minlength=c)
    keep = np.flatnonzero(counts > 0)
    new_centres = np.column_stack([sx[keep] / sw[keep], sy[keep] / sw[keep]])
    sorter = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    sorted_names = names[sorter]
    members = [sorted_names[bounds[j] : bounds[j + 1]] for j in keep.tolist()]
    return Clusters(ids[keep].copy(), new_centres, members)


def _same(old: Clusters, new: Clusters) -> bool:
    """Pol.is convergence: lexicographically sorted centres, truncated, < 0.01."""
    a = old.centres[np.lexsort(old.centres.T[::-1])]
    b = new.centres[np.lexsort(new.centres.T[::-1])]
    n = min(len(a), len(b))
    if n == 0:
        return True
    dist = np.sqrt(((a[:n] - b[:n]) ** 2).sum(axis=1))
    return bool(np.all(dist < 0.01))


def _distinct_rows(points: NDArray[np.float64]) -> int:
    """Number of distinct rows (exact float equality; -0.0 equals 0.0)."""
    if points.shape[1] == 2:
        flat = np.ascontiguousarray(points + 0.0).view(np.complex128).ravel()
        return len(np.unique(flat))
    return len(np.unique(points + 0.0, axis=0))


def _group_sums(
    points: NDArray[np.float64],
    weights: NDArray[np.float64],
    rows: NDArray[np.int64],
    labels: NDArray[np.int64],
    c: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Weighted coordinate sums (c × d) and weight sums (c) by cluster label."""
    w = weights[rows]
    total = np.bincount(labels, weights=w, minlength=c)
    sums = np.column_stack(
        [
            np.bincount(labels, weights=w * points[rows, d], minlength=c)
            for d in range(points.shape[1])
        ]
    ).astype(np.float64)
    return sums, total.astype(np.float64)


def _clean_start(
    points: NDArray[np.float64],
    names: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    k: int,
    previous: Clusters,
) -> Clusters:
    """Warm start from the previous clustering (``clean-start-clusters``)."""
    w = np.ones(len(points)) if weights is None else weights
    counts = previous.counts()
    all_names = (
        np.concatenate(previous.members) if len(previous) else np.zeros(0, np.int64)
    )
    all_labels = np.repeat(np.arange(len(previous), dtype=np.int64), counts)
    max_name = int(max(names.max(initial=0), all_names.max(initial=0)))
    position = np.full(max_name + 1, -1, dtype=np.int64)
    position[names] = np.arange(len(names))
    # (a) recentre on the members still present; drop clusters without any.
    rows = position[all_names]
    present = rows >= 0
    rows, labels = rows[present], all_labels[present]
    n_present = np.bincount(labels, minlength=len(previous))
    kept = np.flatnonzero(n_present > 0)
    if len(kept) == 0:
        ids = np.asarray([int(previous.ids.max(initial=-1)) + 1], dtype=np.int64)
        label_of_row = np.zeros(len(points), dtype=np.int64)
    else:
        remap = np.full(len(previous), -1, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        ids = previous.ids[kept].copy()
        label_of_row = np.full(len(points), -1, dtype=np.int64)
        label_of_row[rows] = remap[labels]
    member_rows = np.flatnonzero(label_of_row >= 0)
    sums, total = _group_sums(
        points, w, member_rows, label_of_row[member_rows], len(ids)
    )
    centres = sums / total[:, None]
    # (b) merge clusters with exactly equal centres, left to right.
    if len(ids) > 1 and _distinct_rows(centres) < len(ids):
        ids, centres, label_of_row = _merge_equal(ids, centres, label_of_row)
    # (c) add singleton clusters at the most distal rows up to min(k, distinct).
    if len(ids) < k:
        possible = min(k, _distinct_rows(points))
        while len(ids) < possible:
            member_rows = np.flatnonzero(label_of_row >= 0)
            sums, total = _group_sums(
                points, w, member_rows, label_of_row[member_rows], len(ids)
            )
            centres = sums / total[:, None]
            diff = points[:, None, :] - centres[None, :, :]
            dist = np.sqrt((diff * diff).sum(axis=2)).min(axis=1)
            far = len(dist) - 1 - int(np.argmax(dist[::-1]))
            if dist[far] == 0:
                break
            old = label_of_row[far]
            new_id = int(ids.max()) + 1
            ids = np.append(ids, new_id)
            centres = np.vstack([centres, points[far]])
            label_of_row[far] = len(ids) - 1
            if old >= 0 and not np.any(label_of_row == old):
                keep = np.arange(len(ids)) != old
                ids, centres = ids[keep], centres[keep]
                label_of_row = np.where(
                    label_of_row > old, label_of_row - 1, label_of_row
                )
        member_rows = np.flatnonzero(label_of_row >= 0)
        sums, total = _group_sums(
            points, w, member_rows, label_of_row[member_rows], len(ids)
        )
        # the newest singleton keeps its row as centre; others are recentred
        centres = sums / total[:, None]
    members = _members_by_label(names, label_of_row, len(ids))
    return Clusters(ids, np.asarray(centres, dtype=np.float64), members)


def _members_by_label(
    names: NDArray[np.int64], labels: NDArray[np.int64], c: int
) -> list[NDArray[np.int64]]:
    rows = np.flatnonzero(labels >= 0)
    sorter = rows[np.argsort(labels[rows], kind="stable")]
    counts = np.bincount(labels[rows], minlength=c)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    sorted_names = names[sorter]
    return [sorted_names[bounds[j] : bounds[j + 1]] for j in range(c)]


def _merge_equal(
    ids: NDArray[np.int64],
    centres: NDArray[np.float64],
    label_of_row: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Merge clusters with exactly equal centres, left to right (step b)."""
    sizes = np.bincount(label_of_row[label_of_row >= 0], minlength=len(ids))
    out_ids: list[int] = []
    out_centres: list[NDArray[np.float64]] = []
    out_sizes: list[int] = []
    target = np.zeros(len(ids), dtype=np.int64)
    for i in range(len(ids)):
        for j, other in enumerate(out_centres):
            if np.array_equal(other, centres[i]):
                n_other, n_this = out_sizes[j], int(sizes[i])
                out_ids[j] = out_ids[j] if n_other > n_this else int(ids[i])
                out_centres[j] = (other * n_other + centres[i] * n_this) / (
                    n_other + n_this
                )
                out_sizes[j] = n_other + n_this
                target[i] = j
                break
        else:
            target[i] = len(out_ids)
            out_ids.append(int(ids[i]))
            out_centres.append(centres[i].copy())
            out_sizes.append(int(sizes[i]))
    new_labels = np.where(label_of_row >= 0, target[np.maximum(label_of_row, 0)], -1)
    return (
        np.asarray(out_ids, dtype=np.int64),
        np.asarray(out_centres, dtype=np.float64),
        new_labels,
    )


def kmeans(
    points: NDArray[np.float64],
    names: NDArray[np.int64],
    k: int,
    *,
    max_iters: int,
    weights: NDArray[np.float64] | None = None,
    previous: Clusters | None = None,
) -> Clusters:
    """Pol.is ``kmeans``: warm- or cold-started, returned sorted by id."""
    if len(points) == 0:
        return Clusters(np.zeros(0, dtype=np.int64), np.zeros((0, points.shape[1])), [])
    if previous is None or len(previous) == 0:
        clusters = _cold_init(points, names, k)
    else:
        clusters = _clean_start(points, names, weights, k, previous)
    counter = max_iters
    while True:
        new = _step(points, names, weights, clusters)
        if counter == 0 or _same(clusters, new):
            return new.sorted_by_id()
        clusters = new
        counter -= 1


def distance_matrix(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """True Euclidean distances between all rows."""
    diff = points[:, None, :] - points[None, :, :]
    return np.asarray(np.sqrt((diff * diff).sum(axis=2)), dtype=np.float64)


def silhouette(dist: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    """Mean silhouette of points (base centres) labelled by group, unweighted.

    ``dist`` is the distance matrix of the points.  A point alone in its group
    scores 0, as does a point with a = b = 0 and any point when there is a
    single group.
    """
    n = len(dist)
    if n == 0:
        return 0.0
    groups = np.unique(labels)
    if len(groups) < 2:
        return 0.0
    own = np.searchsorted(groups, labels)
    onehot = np.zeros((n, len(groups)))
    onehot[np.arange(n), own] = 1.0
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot  # n × g: summed distance to each group's points
    own_size = sizes[own]
    alone = own_size <= 1
    rows = np.arange(n)
    a = np.where(alone, 0.0, sums[rows, own] / np.maximum(own_size - 1, 1))
    means = sums / sizes[None, :]
    means[rows, own] = np.inf
    b = means.min(axis=1)
    top = np.maximum(a, b)
    s = np.where(alone | (top == 0), 0.0, (b - a) / np.where(top == 0, 1.0, top))
    return float(s.mean())
