"""Top-2 eigenpairs of ZᵀZ for the ``improved`` mode, independent of thread count.

ARPACK and LAPACK call a threaded BLAS, whose reductions change with the
number of threads, so the same votes could give different last bits (and
different JSON) on different machines.  This Lanczos iteration with full
reorthogonalisation does every reduction with numpy's own pairwise sums and
the products with scipy's sparse kernels, so its result depends only on the
data and the start vector.  Only the tiny tridiagonal eigenproblem goes to
LAPACK (no BLAS-3, no threads).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import eigh_tridiagonal

__all__ = ["top_two"]

Vector = NDArray[np.float64]


def _dot(a: Vector, b: Vector) -> float:
    return float(np.einsum("i,i->", a, b))


def _orthogonalise(w: Vector, basis: NDArray[np.float64]) -> None:
    """Remove from ``w`` its components along the rows of ``basis`` (twice)."""
    for _ in range(2):
        weights = (basis * w).sum(axis=1)
        w -= (basis * weights[:, None]).sum(axis=0)


def top_two(
    product: Callable[[Vector], Vector],
    size: int,
    start: Vector,
    fresh: Callable[[], Vector],
    *,
    tol: float = 1e-12,
    max_basis: int = 80,
    max_restarts: int = 30,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two largest eigenvalues (descending) and unit eigenvectors (2 x size).

    ``product`` is v ↦ A v for a symmetric positive semi-definite A;
    ``start`` the first Lanczos vector; ``fresh()`` a seeded random vector
    used when the Krylov space closes early.  Converged when each residual
    ‖A y − θ y‖ ≤ ``tol`` · θ₁.
    """
    limit = min(size, max_basis)
    vector = start / np.sqrt(_dot(start, start))
    values = np.zeros(2)
    vectors = np.zeros((2, size))
    for _ in range(max_restarts):
        basis = np.empty((limit, size))
        basis[0] = vector
        alpha: list[float] = []
        beta: list[float] = []
        scale = 0.0
        converged = False
        m = 0
        theta = np.zeros(1)
        ritz = np.zeros((1, 1))
        while True:
            w = product(basis[m])
            alpha.append(_dot(basis[m], w))
            _orthogonalise(w, basis[: m + 1])
            norm = np.sqrt(_dot(w, w))
            m += 1
            scale = max(scale, abs(alpha[-1]) + norm)
            if m >= 2 or m == size:
                theta, ritz = eigh_tridiagonal(np.asarray(alpha), np.asarray(beta))
                top = theta[-1]
                residual = norm * np.abs(ritz[-1, -min(2, m) :])
                if m == size or (residual <= tol * max(top, 1e-300)).all():
                    converged = True
                    break
            if m == limit:
                break
            if norm <= 1e-14 * max(scale, 1e-300):
                # An invariant subspace: continue from a new direction.
                w = fresh()
                before = np.sqrt(_dot(w, w))
                _orthogonalise(w, basis[:m])
                norm = np.sqrt(_dot(w, w))
                if norm <= 1e-10 * before:
                    converged = True
                    break
                beta.append(0.0)
            else:
                beta.append(norm)
            basis[m] = w / norm
        if m >= 2:
            theta, ritz = eigh_tridiagonal(np.asarray(alpha), np.asarray(beta))
        picks = [len(theta) - 1, len(theta) - 2] if len(theta) >= 2 else [0]
        for i, pick in enumerate(picks):
            values[i] = theta[pick]
            vectors[i] = (basis[:m] * ritz[:, pick][:, None]).sum(axis=0)
            vectors[i] /= np.sqrt(_dot(vectors[i], vectors[i]))
        if converged or m < 2:
            break
        vector = vectors[0] + vectors[1]
        vector /= np.sqrt(_dot(vector, vector))
    return values, vectors
