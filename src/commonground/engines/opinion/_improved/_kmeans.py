"""Clustering of 2-D points for the ``improved`` mode (spec §5.4–5.6).

Vectorised Lloyd with k-means++ seeding, mean silhouette on a fixed sample,
adjusted Rand index and the clusterwise Jaccard bootstrap of Hennig (2007).
Every random draw comes from a generator built by :func:`generator`, so the
results depend only on the points, ``k`` and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "PURPOSE_BOOTSTRAP",
    "PURPOSE_BOOTSTRAP_KMEANS",
    "PURPOSE_KMEANS",
    "PURPOSE_PCA",
    "Clustering",
    "adjusted_rand_index",
    "bootstrap_stability",
    "generator",
    "kmeans",
    "lloyd",
    "silhouette_score",
]

# The ``purpose`` word of every seed sequence (spec §5.10).
PURPOSE_PCA = 1
PURPOSE_KMEANS = 2
PURPOSE_BOOTSTRAP = 3
PURPOSE_BOOTSTRAP_KMEANS = 4

Points = NDArray[np.float64]
Labels = NDArray[np.intp]


def generator(seed: int, purpose: int, k: int = 0, run: int = 0) -> np.random.Generator:
    """``Generator(PCG64(SeedSequence([seed, purpose, k, run])))``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, purpose, k, run]))
    )


@dataclass(frozen=True, slots=True)
class Clustering:
    """Labels (0..k-1), centres (k x 2) and inertia of one k-means solution."""

    labels: Labels
    centres: Points
    inertia: float


def _squared_distances(points: Points, centres: Points) -> Points:
    """n x k squared Euclidean distances from true coordinate differences."""
    dx = points[:, 0, None] - centres[None, :, 0]
    dy = points[:, 1, None] - centres[None, :, 1]
    dx *= dx
    dy *= dy
    dx += dy
    return dx


def _kmeans_plus_plus(points: Points, k: int, rng: np.random.Generator) -> Points:
    """k-means++ seeding: first centre uniform, then proportional to D²."""
    n = len(points)
    chosen = [int(rng.integers(n))]
    closest = _squared_distances(points, points[chosen[-1]][None, :])[:, 0]
    for _ in range(1, k):
        total = float(closest.sum())
        if total > 0.0:
            cumulative = np.cumsum(closest)
            target = rng.random() * cumulative[-1]
            index = int(np.searchsorted(cumulative, target, side="right"))
            index = min(index, n - 1)
            # Never land on a zero-weight point through rounding at the edge.
            while closest[index] == 0.0 and index > 0:
                index -= 1
        else:
            index = int(rng.integers(n))
        chosen.append(index)
        np.minimum(
            closest,
            _squared_distances(points, points[index][None, :])[:, 0],
            out=closest,
        )
    return points[np.asarray(chosen)].copy()


def _sums(labels: Labels, weights: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Per-cluster sums of ``weights``."""
    return np.bincount(labels, weights=weights, minlength=k).astype(
        np.float64, copy=False
    )


def _assign(
    x: NDArray[np.float64], y: NDArray[np.float64], cx: Points, cy: Points
) -> tuple[Labels, NDArray[np.float64], NDArray[np.float64]]:
    """Nearest centre (ties: lower index), squared distance to it and to the next.

    Masked copies are slow in numpy, so the running minimum and second
    minimum use ``minimum``/``maximum``: after d, second = min(second,
    max(best, d)) and best = min(best, d).
    """
    n = len(x)
    best = x - cx[0]
    best *= best
    dy = y - cy[0]
    dy *= dy
    best += dy
    second = np.full(n, np.inf)
    labels = np.zeros(n, dtype=np.intp)
    larger = np.empty(n)
    for cluster in range(1, len(cx)):
        d = x - cx[cluster]
        d *= d
        np.subtract(y, cy[cluster], out=dy)
        dy *= dy
        d += dy
        labels = np.where(d < best, cluster, labels)
        np.maximum(best, d, out=larger)
        np.minimum(second, larger, out=second)
        np.minimum(best, d, out=best)
    return labels, best, second


def _nearest(
    x: NDArray[np.float64], y: NDArray[np.float64], cx: Points, cy: Points
) -> Labels:
    """Nearest centre (ties: lower index); same arithmetic as :func:`_assign`."""
    best = x - cx[0]
    best *= best
    dy = y - cy[0]
    dy *= dy
    best += dy
    labels = np.zeros(len(x), dtype=np.intp)
    for cluster in range(1, len(cx)):
        d = x - cx[cluster]
        d *= d
        np.subtract(y, cy[cluster], out=dy)
        dy *= dy
        d += dy
        labels = np.where(d < best, cluster, labels)
        np.minimum(best, d, out=best)
    return labels


def lloyd(points: Points, centres: Points, max_iter: int = 300) -> Clustering:
    """Lloyd iterations from ``centres`` until assignments repeat.

    Assignment ties go to the lower cluster index.  A cluster left empty is
    re-seeded with the point farthest from its own centre (ties: first
    point), which then joins it.

    Exact acceleration: after a full assignment, a point's margin (distance to
    its second-nearest centre minus distance to its own, cluster a) can only
    shrink by the drift of centre a plus the largest drift of the others, so
    only points whose margin is below that are reassigned (with a safety
    margin far above rounding error).  The assignments are those of plain
    Lloyd; centre sums are updated from the changed points and recomputed
    exactly at the end.
    """
    k = len(centres)
    n = len(points)
    x = np.ascontiguousarray(points[:, 0])
    y = np.ascontiguousarray(points[:, 1])
    cx = np.array(centres[:, 0], dtype=np.float64)
    cy = np.array(centres[:, 1], dtype=np.float64)
    labels = np.zeros(n, dtype=np.intp)
    previous = labels
    counts = np.zeros(k, dtype=np.int64)
    sum_x = np.zeros(k)
    sum_y = np.zeros(k)
    anchor = labels
    drift = np.zeros(k)
    refresh = True
    margin = 1e-9
    floor = 1e-12 * (1.0 + float(np.abs(points).max())) if n else 0.0
    crowd = max(n // 4, 1)
    watch_rank = min(max(n // 4, 1), n) - 1 if n else 0
    watch_limit = 0.0
    watch = np.zeros(0, dtype=np.intp)
    watch_slack = np.zeros(0)
    watch_anchor = watch
    for iteration in range(max_iter):
        candidates = np.zeros(0, dtype=np.intp)
        if not refresh:
            if k > 1:
                top = np.argsort(-drift, kind="stable")
                others = np.full(k, drift[top[0]])
                others[top[0]] = drift[top[1]]
                allowance = (drift + others) * (1 + margin) + floor
                if allowance.max() > watch_limit:
                    refresh = True
                else:
                    near = watch_slack <= allowance[watch_anchor]
                    candidates = watch[near]
            refresh = refresh or len(candidates) > crowd
        if refresh:
            labels, best, second = _assign(x, y, cx, cy)
            slack = np.sqrt(second) - np.sqrt(best)
            del best, second
            anchor = labels
            # Only points with a small margin can move before the next refresh.
            watch_limit = float(np.partition(slack, watch_rank)[watch_rank])
            watch = np.flatnonzero(slack <= watch_limit)
            watch_slack = slack[watch]
            watch_anchor = anchor[watch]
            drift = np.zeros(k)
            refresh = False
            if iteration == 0:
                counts = np.bincount(labels, minlength=k)
                sum_x = _sums(labels, x, k)
                sum_y = _sums(labels, y, k)
                changed = np.zeros(0, dtype=np.intp)
                done = False
            else:
                changed = np.flatnonzero(labels != previous)
                done = len(changed) == 0
            old = previous[changed]
        elif len(candidates):
            got = _nearest(x[candidates], y[candidates], cx, cy)
            moved_here = got != labels[candidates]
            changed = candidates[moved_here]
            old = labels[changed]
            labels[changed] = got[moved_here]
            done = len(changed) == 0
        else:
            changed = candidates
            done = True
        if iteration and len(changed):
            new = labels[changed]
            counts += np.bincount(new, minlength=k) - np.bincount(old, minlength=k)
            sum_x += _sums(new, x[changed], k)
            sum_x -= _sums(old, x[changed], k)
            sum_y += _sums(new, y[changed], k)
            sum_y -= _sums(old, y[changed], k)
        if (counts == 0).any():
            own_squared = (x - cx[labels]) ** 2 + (y - cy[labels]) ** 2
            labels = labels.copy()
            for cluster in np.flatnonzero(counts == 0).tolist():
                farthest = int(np.argmax(own_squared))
                labels[farthest] = cluster
                own_squared[farthest] = -1.0
                counts = np.bincount(labels, minlength=k)
            sum_x = _sums(labels, x, k)
            sum_y = _sums(labels, y, k)
            done = done and np.array_equal(labels, previous)
            refresh = True
        previous = labels.copy() if refresh else labels
        new_cx = sum_x / counts
        new_cy = sum_y / counts
        moved = np.sqrt((new_cx - cx) ** 2 + (new_cy - cy) ** 2)
        cx, cy = new_cx, new_cy
        if done:
            break
        drift += moved
    counts = np.bincount(labels, minlength=k)
    cx = _sums(labels, x, k) / counts
    cy = _sums(labels, y, k) / counts
    final = (x - cx[labels]) ** 2 + (y - cy[labels]) ** 2
    return Clustering(
        labels=labels, centres=np.column_stack([cx, cy]), inertia=float(final.sum())
    )


def kmeans(
    points: Points,
    k: int,
    *,
    seed: int,
    purpose: int,
    n_init: int,
    max_iter: int = 300,
    tag: int = 0,
) -> Clustering:
    """Best of ``n_init`` k-means++/Lloyd runs by inertia (ties: lower run)."""
    starts = [
        _kmeans_plus_plus(points, k, generator(seed, purpose, k, tag * 1000 + run))
        for run in range(n_init)
    ]
    results = [lloyd(points, start, max_iter) for start in starts]
    best = results[0]
    for result in results[1:]:
        if result.inertia < best.inertia:
            best = result
    return best


def silhouette_score(distances: Points, labels: Labels, k: int) -> float:
    """Mean silhouette from a full distance matrix (singletons score 0)."""
    n = len(labels)
    if n < 2 or k < 2:
        return 0.0
    counts = np.bincount(labels, minlength=k)
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    present = counts > 0
    sums = np.zeros((n, k))
    # The matrix is symmetric: sum whole rows of each cluster (contiguous).
    sums[:, present] = np.add.reduceat(distances[order], starts[present], axis=0).T
    own_count = counts[labels]
    own = sums[np.arange(n), labels]
    a = np.where(own_count > 1, own / np.maximum(own_count - 1, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / counts[None, :]
    means[:, counts == 0] = np.inf
    means[np.arange(n), labels] = np.inf
    b = means.min(axis=1)
    denominator = np.maximum(a, b)
    s = np.zeros(n)
    ok = (own_count > 1) & (denominator > 0) & np.isfinite(b)
    s[ok] = (b[ok] - a[ok]) / denominator[ok]
    return float(s.mean())


def adjusted_rand_index(first: Labels, second: Labels) -> float:
    """Adjusted Rand index of two labelings of the same points (1.0 if trivial)."""
    n = len(first)
    if n < 2:
        return 1.0
    _, a = np.unique(first, return_inverse=True)
    _, b = np.unique(second, return_inverse=True)
    table = np.bincount(a * (b.max() + 1) + b).astype(np.float64)

    def pairs(x: NDArray[np.float64]) -> float:
        return float((x * (x - 1) / 2).sum())

    index = pairs(table)
    rows = pairs(np.bincount(a).astype(np.float64))
    cols = pairs(np.bincount(b).astype(np.float64))
    expected = rows * cols / (n * (n - 1) / 2)
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def bootstrap_stability(
    points: Points,
    labels: Labels,
    k: int,
    *,
    seed: int,
    resamples: int,
) -> tuple[NDArray[np.float64], float]:
    """Clusterwise Jaccard bootstrap (Hennig 2007) and mean ARI.

    For each resample (with replacement) the distinct resampled points are
    re-clustered (k-means, one start); each original group scores the best
    Jaccard similarity with a bootstrap cluster.  Returns the per-group mean
    Jaccard and the mean ARI between original and bootstrap labels.
    """
    n = len(points)
    jaccard = np.zeros(k)
    ari = 0.0
    if resamples <= 0:
        return np.ones(k), 1.0
    for b in range(resamples):
        rng = generator(seed, PURPOSE_BOOTSTRAP, k, b)
        drawn = rng.integers(0, n, size=n)
        present = np.zeros(n, dtype=bool)
        present[drawn] = True
        # Re-cluster the resample with its multiplicities, as drawn.
        sample = points[drawn]
        fitted = kmeans(
            sample, k, seed=seed, purpose=PURPOSE_BOOTSTRAP_KMEANS, n_init=1, tag=b
        )
        boot_labels = np.full(n, -1, dtype=np.intp)
        boot_labels[drawn] = fitted.labels
        original = labels[present]
        again = boot_labels[present]
        table = np.bincount(original * k + again, minlength=k * k).reshape(k, k)
        size_original = table.sum(axis=1)
        size_boot = table.sum(axis=0)
        union = size_original[:, None] + size_boot[None, :] - table
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(union > 0, table / np.maximum(union, 1), 0.0)
        jaccard += ratio.max(axis=1)
        ari += adjusted_rand_index(original, again)
    return jaccard / resamples, ari / resamples
