"""Principal components and coordinates of the ``improved`` mode (spec §5.2).

The top-2 right singular vectors of the centred vote matrix Z, then the
participant and statement coordinates in that plane (with Pol.is's sparsity
scaling of participants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .._result import orientation_signs
from ._kmeans import PURPOSE_PCA, generator
from ._pca import top_two

__all__ = ["Pca", "Plane", "place", "principal_components"]


@dataclass(frozen=True, slots=True)
class Pca:
    """The top-2 components of Z, the variance they explain and whether usable."""

    components: NDArray[np.float64]  # 2 x columns, output orientation
    explained: tuple[float | None, float | None]
    usable: bool


def principal_components(
    z: sparse.csr_array, seed: int, warm: NDArray[np.float64] | None
) -> Pca:
    """Top-2 right singular vectors of Z (spec §5.2), thread-count independent.

    Lanczos on v ↦ Zᵀ(Zv) (see :mod:`._pca`) at every size, from a
    seeded start vector, or from the previous components in ``partial_fit``;
    both converge to the 1e-12 tolerance of spec §5.2.
    """
    n_rows, n_cols = z.shape
    total = float(np.einsum("i,i->", z.data, z.data))
    components = np.zeros((2, n_cols))
    if min(2, n_rows, n_cols) < 2 or total <= 0.0:
        return Pca(components, (None, None), False)
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
    return Pca(components, explained, True)


@dataclass(frozen=True, slots=True)
class Plane:
    """Coordinates in the plane of the two components (zeros if unusable)."""

    embedding: NDArray[np.float64]  # participants x 2
    statement_xy: NDArray[np.float64]  # active columns x 2
    extremity: NDArray[np.float64]  # active columns


def place(
    z: sparse.csr_array,
    pca: Pca,
    mean: NDArray[np.float64],
    active_votes: NDArray[np.int64],
) -> Plane:
    """Participants (scaled by sqrt(columns / own votes)) and statements."""
    n_p, n_active = z.shape
    comps = pca.components
    scale = np.sqrt(n_active / np.maximum(active_votes, 1))
    if pca.usable:
        embedding = np.asarray(z @ comps.T) * scale[:, None]
        statement_xy = (1.0 - mean)[:, None] * comps.T * math.sqrt(n_active)
    else:
        embedding = np.zeros((n_p, 2))
        statement_xy = np.zeros((n_active, 2))
    extremity = np.hypot(statement_xy[:, 0], statement_xy[:, 1])
    return Plane(embedding, statement_xy, extremity)
