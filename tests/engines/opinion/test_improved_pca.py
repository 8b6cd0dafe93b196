"""The improved mode's PCA: exact to the tolerance, and the same bytes on any thread count."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import sparse
from scipy.linalg import eigh

from commonground.engines.opinion._improved._pca import top_two


@pytest.mark.parametrize(
    ("rows", "cols", "density"), [(300, 40, 0.5), (400, 700, 0.05)]
)
def test_top_two_matches_a_dense_eigendecomposition(rows, cols, density):
    rng = np.random.default_rng(rows)
    z = sparse.random_array((rows, cols), density=density, rng=rng, format="csr")
    z.data -= 0.5
    gram = (z.T @ z).toarray()
    expected_values, expected_vectors = eigh(gram)
    values, vectors = top_two(
        lambda v: z.T @ (z @ v),
        cols,
        rng.standard_normal(cols),
        lambda: rng.standard_normal(cols),
    )
    assert values == pytest.approx(expected_values[::-1][:2], rel=1e-10)
    for i in range(2):
        cosine = abs(float(vectors[i] @ expected_vectors[:, -1 - i]))
        assert cosine == pytest.approx(1.0, abs=1e-10)


def test_rank_one_operator_still_gives_two_orthonormal_vectors():
    direction = np.zeros(10)
    direction[3] = 1.0
    rng = np.random.default_rng(0)
    values, vectors = top_two(
        lambda v: direction * (direction @ v) * 5.0,
        10,
        rng.standard_normal(10),
        lambda: rng.standard_normal(10),
    )
    assert values[0] == pytest.approx(5.0) and abs(values[1]) < 1e-12
    assert abs(vectors[0] @ vectors[1]) < 1e-12
    assert abs(abs(vectors[0][3]) - 1.0) < 1e-12


SCRIPT = """
import numpy as np
from commonground.engines.opinion import OpinionMap, VoteTable
rng = np.random.default_rng(0)
direction = rng.uniform(0, 2 * np.pi, 700)
records = []
for p in range(400):
    leans = np.cos(2 * np.pi * (p % 3) / 3 - direction) > 0
    for s in np.flatnonzero(rng.random(700) < 0.1).tolist():
        records.append((p, s, 1 if (rng.random() < 0.85) == leans[s] else -1, None))
print(OpinionMap(seed=0).fit(VoteTable.from_records(records)).result_.to_json())
"""


def test_output_does_not_depend_on_the_blas_thread_count():
    outputs = []
    for threads in ("1", "2"):
        environment = dict(os.environ)
        environment.update(OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
        completed = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        )
        outputs.append(completed.stdout)
    assert outputs[0] == outputs[1]
    assert '"k": 3' in outputs[0]
