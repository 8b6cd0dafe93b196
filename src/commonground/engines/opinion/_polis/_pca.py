"""PCA and projections of ``polis`` mode (spec §4.1 steps 5-7), from the Gram blocks.

Power iteration as Pol.is's ``powerit-pca``, warm-started from the previous
tick's components, and participant projections with its sparsity scaling.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._state import PolisState


def _pca(
    state: PolisState, mod_out: NDArray[np.bool_], iters: int
) -> tuple[NDArray[np.float64], tuple[float, ...], NDArray[np.float64]]:
    """Power-iteration PCA of the centred matrix (spec §4.1 step 5).

    Returns components (n_comp × cols), their eigenvalues and the centre μ
    (moderated-out columns have μ = 0 and zero loadings).
    """
    n, m = state.n_rows, state.n_cols
    count = state.col_count[:m]
    mu = np.where(count > 0, state.col_sum[:m] / np.where(count > 0, count, 1.0), 0.0)
    mu[mod_out] = 0.0
    n_comp = min(2, n, m)
    if n_comp == 0:
        return np.zeros((0, m)), (), mu
    b_mu = state.gram_b[:m, :m] * mu[None, :]
    cov = state.gram_s[:m, :m] - b_mu - b_mu.T + state.gram_n[:m, :m] * np.outer(mu, mu)
    if mod_out.any():
        cov[mod_out, :] = 0.0
        cov[:, mod_out] = 0.0
    previous = state.pca_components
    comps = np.zeros((n_comp, m))
    eigenvalues: list[float] = []
    for i in range(n_comp):
        start: NDArray[np.float64] | None = None
        if previous is not None and i < len(previous):
            prev = previous[i]
            if np.any(prev != 0):
                start = np.ones(m)
                start[: len(prev)] = prev
        vec, lam = _power_iteration(cov, np.ones(m) if start is None else start, iters)
        if lam == 0.0 and np.any(cov):
            # The start vector is orthogonal to every direction with variance
            # (e.g. all-ones on perfectly balanced camps); Pol.is's random start
            # avoids this by chance, we retry from a fixed ramp.
            vec, lam = _power_iteration(cov, np.linspace(1.0, 2.0, m), iters)
        comps[i] = vec
        eigenvalues.append(lam)
        norm2 = float(vec @ vec)
        if norm2 > 0:
            cv = cov @ vec
            cov = (
                cov
                - (np.outer(cv, vec) + np.outer(vec, cv)) / norm2
                + np.outer(vec, vec) * (float(vec @ cv) / (norm2 * norm2))
            )
    return comps, tuple(eigenvalues), mu


def _power_iteration(
    cov: NDArray[np.float64], start: NDArray[np.float64], iters: int
) -> tuple[NDArray[np.float64], float]:
    """Pol.is ``powerit-pca`` on the Gram matrix: at most iters+1 products,
    stopping when the eigenvalue repeats exactly."""
    vec = start
    last = 0.0
    lam = 0.0
    for _ in range(iters + 1):
        product = cov @ vec
        lam = float(np.sqrt(product @ product))
        vec = product / lam if lam > 0 else np.zeros(len(start))
        if lam == last:
            break
        last = lam
    return vec, lam


def _project(
    state: PolisState,
    comps: NDArray[np.float64],
    mu: NDArray[np.float64],
    mod_out: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Participant projections with Pol.is's sparsity scaling (step 6)."""
    n, m = state.n_rows, state.n_cols
    if len(comps) < 2:
        return np.zeros((n, 2))
    # Whole rows of the [R | V] block are contiguous: one product with the
    # loadings stacked over minus the centred loadings, padded with zeros.
    cap = state.values.shape[1]
    weights = np.zeros((2 * cap, 2))
    weights[:m] = comps.T
    weights[cap : cap + m] = -(mu[:, None] * comps.T)
    vot = state.voted[:n, :m]
    proj = state.store[:n] @ weights
    n_votes = state.row_count[:n].astype(np.float64)
    if mod_out.any():
        n_mod = float(mod_out.sum())
        n_votes = n_votes + n_mod - vot[:, mod_out].sum(axis=1)
    scale = np.sqrt(m / np.maximum(n_votes, 1.0))
    return np.asarray(proj * scale[:, None], dtype=np.float64)


def _centred_cov_trace(
    state: PolisState, mu: NDArray[np.float64], mod_out: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Diagonal of ZᵀZ as a diagonal matrix (total variance for the ratio)."""
    m = state.n_cols
    s = np.diag(state.gram_s[:m, :m])
    b = np.diag(state.gram_b[:m, :m])
    nn = np.diag(state.gram_n[:m, :m])
    diag = s - 2.0 * b * mu + nn * mu * mu
    diag = np.where(mod_out, 0.0, diag)
    return np.diag(diag)
