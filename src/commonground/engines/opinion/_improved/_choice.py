"""Choosing the number of groups in the ``improved`` mode (spec §5.4–5.6).

k-means for every candidate k, ranked by silhouette on a hash-selected sample,
and admitted only when its groups survive the bootstrap.  Large conversations
are fitted on the 20,000 participants with the smallest ``blake2b`` ranks.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._cache import ImprovedCache, param
from ._kmeans import (
    PURPOSE_KMEANS,
    Clustering,
    bootstrap_stability,
    kmeans,
    lloyd,
    silhouette_score,
)

__all__ = ["STABILITY_THRESHOLD", "Choice", "choose_k"]

MAX_FIT_POINTS = 20_000
MAX_SILHOUETTE_POINTS = 2_000
FULL_LLOYD_ITERATIONS = 50
STABILITY_THRESHOLD = 0.6
SCORE_TOLERANCE = 0.005


@dataclass(frozen=True, slots=True)
class Choice:
    """The chosen number of groups and the evidence for it (spec §5.4–5.6)."""

    k: int
    clustering: Clustering | None  # on all fit points
    reason: str
    silhouettes: dict[int, float]
    jaccard: NDArray[np.float64] | None
    ari: float | None
    evaluated: dict[str, Any]


def choose_k(
    points: NDArray[np.float64],
    ids: list[str],
    params: Mapping[str, Any],
    seed: int,
    cache: ImprovedCache,
) -> Choice:
    """k-means per candidate k, silhouette ranking, bootstrap admission (§5.4–5.6)."""
    n = len(points)
    share = float(param(params, "min_group_share"))
    max_groups = int(param(params, "max_groups"))
    n_init = int(param(params, "n_init"))
    resamples = int(param(params, "bootstrap"))
    minimum = max(5, math.ceil(share * n))
    candidates = list(range(2, min(max_groups, n // minimum) + 1))
    spread = n > 0 and bool(np.ptp(points, axis=0).max() > 0.0)
    if not candidates or not spread:
        return Choice(1, None, "no_stable_groups", {}, None, None, {})
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
    distances = _distances(points[sample_index])
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
            return Choice(k, full, "silhouette", scores, jaccard, ari, evaluated)
    return Choice(1, None, "no_stable_groups", scores, None, None, evaluated)


def _distances(sample: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean distances between all points of the silhouette sample."""
    sample_x = np.ascontiguousarray(sample[:, 0])
    sample_y = np.ascontiguousarray(sample[:, 1])
    distances = np.subtract.outer(sample_x, sample_x)
    distances *= distances
    dy = np.subtract.outer(sample_y, sample_y)
    dy *= dy
    distances += dy
    del dy
    np.sqrt(distances, out=distances)
    return distances


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
