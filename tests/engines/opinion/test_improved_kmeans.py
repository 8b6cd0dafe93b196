"""2-D k-means, silhouette, ARI and bootstrap stability of the improved mode."""

from __future__ import annotations

import numpy as np
import pytest

from commonground.engines.opinion._improved._kmeans import (
    adjusted_rand_index,
    bootstrap_stability,
    kmeans,
    lloyd,
    silhouette_score,
)


def plain_lloyd(points, centres, max_iter=300):
    """Textbook Lloyd: nearest centre (ties: lower index) until labels repeat."""
    centres = centres.copy()
    previous = None
    labels = None
    for _ in range(max_iter):
        d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        labels = np.argmin(d, axis=1)
        counts = np.bincount(labels, minlength=len(centres))
        if (counts == 0).any():
            own = d[np.arange(len(points)), labels]
            for cluster in np.flatnonzero(counts == 0):
                farthest = int(np.argmax(own))
                labels[farthest] = cluster
                own[farthest] = -1.0
        centres = np.asarray(
            [points[labels == c].mean(axis=0) for c in range(len(centres))]
        )
        if previous is not None and np.array_equal(previous, labels):
            break
        previous = labels
    return labels, centres


@pytest.mark.parametrize("seed", range(12))
def test_accelerated_lloyd_makes_the_assignments_of_plain_lloyd(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 1500))
    k = int(rng.integers(2, 9))
    points = rng.normal(size=(n, 2)) * rng.uniform(0.1, 3)
    if seed % 3 == 0:
        points = np.round(points, 1)  # duplicates and exact ties
    if seed % 4 == 0:
        points[: n // 3] += 2.5
    start = points[rng.choice(n, k, replace=False)]
    expected_labels, expected_centres = plain_lloyd(points, start)
    got = lloyd(points, start)
    assert np.array_equal(got.labels, expected_labels)
    assert np.allclose(got.centres, expected_centres, rtol=0, atol=1e-12)


def test_empty_cluster_is_reseeded_with_the_farthest_point():
    points = np.asarray([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0]])
    # Centre 1 is far from every point: nobody picks it at first.
    got = lloyd(points, np.asarray([[0.0, 0.0], [100.0, 100.0]]))
    assert sorted(np.bincount(got.labels).tolist()) == [1, 2]
    assert got.labels[2] != got.labels[0]


def test_kmeans_is_deterministic_and_takes_the_best_start():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 6])
    first = kmeans(points, 2, seed=5, purpose=2, n_init=4)
    again = kmeans(points, 2, seed=5, purpose=2, n_init=4)
    assert np.array_equal(first.labels, again.labels)
    assert first.inertia == again.inertia
    assert adjusted_rand_index(first.labels, np.repeat([0, 1], 100)) == 1.0
    single = min(
        kmeans(points, 2, seed=5, purpose=2, n_init=1, tag=t).inertia for t in range(1)
    )
    assert first.inertia <= single


def test_adjusted_rand_index_known_values():
    assert (
        adjusted_rand_index(np.asarray([0, 0, 1, 1]), np.asarray([1, 1, 0, 0])) == 1.0
    )
    # Classic example: [0,0,0,1,1,1] vs [0,0,1,1,2,2] has ARI 0.24242...
    value = adjusted_rand_index(
        np.asarray([0, 0, 0, 1, 1, 1]), np.asarray([0, 0, 1, 1, 2, 2])
    )
    assert value == pytest.approx(0.242424242, abs=1e-8)


def test_silhouette_by_hand():
    # Points 0, 1 in cluster 0 and 4, 6 in cluster 1 on a line.
    x = np.asarray([0.0, 1.0, 4.0, 6.0])
    distances = np.abs(x[:, None] - x[None, :])
    labels = np.asarray([0, 0, 1, 1])
    # s0: a=1, b=5 -> 0.8; s1: a=1, b=4 -> 0.75; s2: a=2, b=3.5 -> 3/7;
    # s3: a=2, b=5.5 -> 7/11.
    expected = (0.8 + 0.75 + 1.5 / 3.5 + 3.5 / 5.5) / 4
    assert silhouette_score(distances, labels, 2) == pytest.approx(expected)
    # A singleton scores 0.
    assert silhouette_score(distances, np.asarray([0, 1, 1, 1]), 2) < expected


def test_bootstrap_stability_is_high_for_clear_groups_and_deterministic():
    rng = np.random.default_rng(1)
    points = np.concatenate([rng.normal(size=(150, 2)), rng.normal(size=(150, 2)) + 8])
    labels = np.repeat([0, 1], 150)
    jaccard, ari = bootstrap_stability(points, labels, 2, seed=0, resamples=10)
    assert jaccard.min() > 0.95 and ari > 0.95
    again = bootstrap_stability(points, labels, 2, seed=0, resamples=10)
    assert np.array_equal(jaccard, again[0]) and ari == again[1]
