"""``polis`` mode: Pol.is math, tick by tick, with REPLAY (spec §4).

Internally every number uses Pol.is's signs (agree = -1); the result is
converted at the boundary (agree = +1, then the output orientation rule).

Storage: the raw matrix R is dense (``values`` with 0 for nil and ``voted``
0/1), grown by doubling; the Gram blocks S = RᵀR, B = RᵀV and N = VᵀV are
updated row by row, so one tick's PCA costs O(columns²) whatever the number
of participants: ZᵀZ = S − B·diag(μ) − diag(μ)·Bᵀ + N ∘ μμᵀ for the centred,
mean-imputed matrix Z (spec §4.1 step 5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from threadpoolctl import threadpool_limits

from ._data import (
    FinalVotes,
    OpinionInputError,
    StatementTable,
    VoteTable,
    arrival_order,
    canonical_order,
    final_votes,
)
from ._polis_kmeans import Clusters, distance_matrix, kmeans, silhouette
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
    TraceTick,
    orientation_signs,
)

__all__ = ["PolisState", "fit_polis", "tick_polis"]

Z_90 = 1.2816
STATE_FORMAT = "commonground-polis-state/1"


@dataclass(slots=True)
class _GroupVotes:
    """Votes per group from R (internal signs): agree, disagree, seen."""

    agree: NDArray[np.float64]  # groups × columns
    disagree: NDArray[np.float64]
    seen: NDArray[np.float64]


@dataclass(eq=False)
class PolisState:
    """Everything Pol.is carries from one tick to the next (spec §4.4).

    Persist it with :meth:`to_json` and restore it with :meth:`from_json`;
    the restored state gives the same next tick as the original.
    """

    participant_ids: list[str] = field(default_factory=list)
    statement_ids: list[str] = field(default_factory=list)
    values: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    voted: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    store: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    gram_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    gram_b: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    gram_n: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    col_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    col_count: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    row_count: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )
    in_conv: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    pca_components: NDArray[np.float64] | None = None  # internal, n_comp × cols
    pca_eigenvalues: tuple[float, ...] = ()
    pca_center: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    base: Clusters | None = None
    group_clusterings: dict[int, Clusters] = field(default_factory=dict)
    smoother: tuple[int, int, int] | None = None  # last_k, count, smoothed_k
    group_votes: _GroupVotes | None = None
    n_ticks: int = 0
    n_vote_rows: int = 0
    source: str = ""
    path: str = ""
    statements: StatementTable | None = None
    last_silhouettes: dict[int, float] = field(default_factory=dict)
    last_best_k: int | None = None
    last_max_k: int = 0
    _moderation_cache: Any = None

    # -- sizes -------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return len(self.participant_ids)

    @property
    def n_cols(self) -> int:
        return len(self.statement_ids)

    @property
    def n_votes(self) -> int:
        return int(self.row_count[: self.n_rows].sum())

    # -- attributes read by OpinionMap (output convention) -----------------
    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(self.statement_ids)

    @property
    def center(self) -> NDArray[np.float64]:
        mu = self.pca_center
        return np.asarray(-mu, dtype=np.float64) + 0.0

    @property
    def components(self) -> NDArray[np.float64]:
        out = np.zeros((2, self.n_cols))
        if self.pca_components is not None:
            comps = self.pca_components
            signs = orientation_signs(comps)
            out[: len(comps)] = comps * signs[:, None]
        return out

    # -- growth --------------------------------------------------------------
    def _reserve(self, n_rows: int, n_cols: int) -> None:
        rows_cap, cols_cap = self.values.shape
        if n_rows <= rows_cap and n_cols <= cols_cap:
            return
        new_rows = max(n_rows, rows_cap * 2 if n_rows > rows_cap else rows_cap, 16)
        new_cols = max(n_cols, cols_cap * 2 if n_cols > cols_cap else cols_cap, 16)
        # R and V side by side in one block, so that a projection is a single
        # product of contiguous rows: [R | V] @ [w ; -μw].
        store = np.zeros((new_rows, 2 * new_cols))
        store[:rows_cap, :cols_cap] = self.values
        store[:rows_cap, new_cols : new_cols + cols_cap] = self.voted
        self.store = store
        self.values = store[:, :new_cols]
        self.voted = store[:, new_cols:]
        if new_cols != cols_cap:
            for name in ("gram_s", "gram_b", "gram_n"):
                old = getattr(self, name)
                grown = np.zeros((new_cols, new_cols))
                grown[: old.shape[0], : old.shape[1]] = old
                setattr(self, name, grown)
            for name in ("col_sum", "col_count"):
                old = getattr(self, name)
                grown1 = np.zeros(new_cols)
                grown1[: len(old)] = old
                setattr(self, name, grown1)
        if new_rows != rows_cap:
            row_count = np.zeros(new_rows, dtype=np.int64)
            row_count[: len(self.row_count)] = self.row_count
            in_conv = np.zeros(new_rows, dtype=bool)
            in_conv[: len(self.in_conv)] = self.in_conv
            self.row_count, self.in_conv = row_count, in_conv

    def moderation(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Per column: moderated out (mod = -1 or meta), and meta."""
        key = (id(self.statements), self.n_cols)
        cached = self._moderation_cache
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        mod_out = np.zeros(self.n_cols, dtype=bool)
        meta = np.zeros(self.n_cols, dtype=bool)
        table = self.statements
        if table is not None and len(table):
            index = {sid: j for j, sid in enumerate(self.statement_ids)}
            out = (table.moderated == -1) | table.is_meta
            for sid, o, m in zip(
                table.ids, out.tolist(), table.is_meta.tolist(), strict=True
            ):
                j = index.get(sid)
                if j is not None:
                    mod_out[j] = o
                    meta[j] = m
        self._moderation_cache = (key, mod_out, meta)
        return mod_out, meta

    # -- persistence -----------------------------------------------------------
    def to_json(self) -> str:
        """The whole state as JSON text (floats round-trip exactly)."""
        n, m = self.n_rows, self.n_cols
        rows, cols = np.nonzero(self.voted[:n, :m])
        data: dict[str, Any] = {
            "format": STATE_FORMAT,
            "participant_ids": self.participant_ids,
            "statement_ids": self.statement_ids,
            "votes": {
                "row": rows.tolist(),
                "col": cols.tolist(),
                "internal": self.values[rows, cols].astype(int).tolist(),
            },
            "in_conv": np.flatnonzero(self.in_conv[:n]).tolist(),
            "pca_components": None
            if self.pca_components is None
            else self.pca_components.tolist(),
            "pca_eigenvalues": list(self.pca_eigenvalues),
            "pca_center": self.pca_center.tolist(),
            "base": _clusters_to_json(self.base),
            "group_clusterings": {
                str(k): _clusters_to_json(c) for k, c in self.group_clusterings.items()
            },
            "smoother": None if self.smoother is None else list(self.smoother),
            "group_votes": None
            if self.group_votes is None
            else {
                "agree": self.group_votes.agree.tolist(),
                "disagree": self.group_votes.disagree.tolist(),
                "seen": self.group_votes.seen.tolist(),
            },
            "n_ticks": self.n_ticks,
            "n_vote_rows": self.n_vote_rows,
            "source": self.source,
            "path": self.path,
            "statements": None
            if self.statements is None
            else {
                "ids": list(self.statements.ids),
                "moderated": self.statements.moderated.tolist(),
                "is_meta": self.statements.is_meta.tolist(),
                "text": list(self.statements.text),
            },
            "last_silhouettes": {str(k): v for k, v in self.last_silhouettes.items()},
            "last_best_k": self.last_best_k,
            "last_max_k": self.last_max_k,
        }
        return json.dumps(data, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> PolisState:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} document")
        state = cls()
        state.participant_ids = list(data["participant_ids"])
        state.statement_ids = list(data["statement_ids"])
        n, m = len(state.participant_ids), len(state.statement_ids)
        state._reserve(n, m)
        rows = np.asarray(data["votes"]["row"], dtype=np.int64)
        cols = np.asarray(data["votes"]["col"], dtype=np.int64)
        internal = np.asarray(data["votes"]["internal"], dtype=np.float64)
        state.values[rows, cols] = internal
        state.voted[rows, cols] = 1.0
        _rebuild_sums(state)
        state.in_conv[np.asarray(data["in_conv"], dtype=np.int64)] = True
        comps = data["pca_components"]
        state.pca_components = (
            None
            if comps is None
            else np.asarray(comps, dtype=np.float64).reshape(-1, m)
        )
        state.pca_eigenvalues = tuple(float(x) for x in data["pca_eigenvalues"])
        state.pca_center = np.asarray(data["pca_center"], dtype=np.float64)
        state.base = _clusters_from_json(data["base"])
        state.group_clusterings = {
            int(k): c
            for k, v in data["group_clusterings"].items()
            if (c := _clusters_from_json(v)) is not None
        }
        sm = data["smoother"]
        state.smoother = None if sm is None else (int(sm[0]), int(sm[1]), int(sm[2]))
        gv = data["group_votes"]
        state.group_votes = (
            None
            if gv is None
            else _GroupVotes(
                np.asarray(gv["agree"], dtype=np.float64).reshape(len(gv["agree"]), -1),
                np.asarray(gv["disagree"], dtype=np.float64).reshape(
                    len(gv["disagree"]), -1
                ),
                np.asarray(gv["seen"], dtype=np.float64).reshape(len(gv["seen"]), -1),
            )
        )
        state.n_ticks = int(data["n_ticks"])
        state.n_vote_rows = int(data["n_vote_rows"])
        state.source = str(data["source"])
        state.path = str(data["path"])
        st = data["statements"]
        state.statements = (
            None
            if st is None
            else StatementTable(
                ids=tuple(st["ids"]),
                moderated=np.asarray(st["moderated"], dtype=np.int8),
                is_meta=np.asarray(st["is_meta"], dtype=np.bool_),
                text=tuple(st["text"]),
            )
        )
        state.last_silhouettes = {
            int(k): float(v) for k, v in data["last_silhouettes"].items()
        }
        state.last_best_k = data["last_best_k"]
        state.last_max_k = int(data["last_max_k"])
        return state


def _clusters_to_json(clusters: Clusters | None) -> dict[str, Any] | None:
    if clusters is None:
        return None
    return {
        "ids": clusters.ids.tolist(),
        "centres": clusters.centres.tolist(),
        "members": [m.tolist() for m in clusters.members],
    }


def _clusters_from_json(data: dict[str, Any] | None) -> Clusters | None:
    if data is None:
        return None
    ids = np.asarray(data["ids"], dtype=np.int64)
    return Clusters(
        ids,
        np.asarray(data["centres"], dtype=np.float64).reshape(len(ids), 2),
        [np.asarray(m, dtype=np.int64) for m in data["members"]],
    )


_DENSE_ROWS = 64  # above this many changed rows, Gram updates go sparse by chunks


def _row_blocks(
    state: PolisState, rows: NDArray[np.int64], m: int
) -> list[sparse.csr_matrix]:
    """[R | V] restricted to ``rows``, as sparse chunks of bounded memory."""
    chunk = max(1, 4_000_000 // max(2 * m, 1))
    blocks = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        blocks.append(
            sparse.csr_matrix(
                np.hstack([state.values[part, :m], state.voted[part, :m]])
            )
        )
    return blocks


def _gram_of_blocks(blocks: list[sparse.csr_matrix], m: int) -> NDArray[np.float64]:
    total = np.zeros((2 * m, 2 * m))
    for block in blocks:
        total += (block.T @ block).toarray()
    return total


def _add_gram(state: PolisState, delta: NDArray[np.float64], m: int) -> None:
    state.gram_s[:m, :m] += delta[:m, :m]
    state.gram_b[:m, :m] += delta[:m, m:]
    state.gram_n[:m, :m] += delta[m:, m:]


def _rebuild_sums(state: PolisState) -> None:
    """Recompute the Gram blocks and counts from R (exact: integer sums)."""
    n, m = state.n_rows, state.n_cols
    vals = state.values[:n, :m]
    vot = state.voted[:n, :m]
    state.gram_s[:m, :m] = 0.0
    state.gram_b[:m, :m] = 0.0
    state.gram_n[:m, :m] = 0.0
    rows = np.arange(n, dtype=np.int64)
    _add_gram(state, _gram_of_blocks(_row_blocks(state, rows, m), m), m)
    state.col_sum[:m] = vals.sum(axis=0)
    state.col_count[:m] = vot.sum(axis=0)
    state.row_count[:n] = vot.sum(axis=1).astype(np.int64)


# ---------------------------------------------------------------------------
# One tick
# ---------------------------------------------------------------------------


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


def _group_votes(
    state: PolisState, labels: NDArray[np.int64], n_groups: int
) -> _GroupVotes:
    """A, D, S per group from R (labels: group per row, -1 = none)."""
    n, m = state.n_rows, state.n_cols
    vals = state.values[:n, :m]
    vot = state.voted[:n, :m]
    rows, cols = np.nonzero(vot)
    group = labels[rows]
    grouped = group >= 0
    key = group[grouped] * m + cols[grouped]
    values = vals[rows[grouped], cols[grouped]]
    size = n_groups * m
    seen = np.bincount(key, minlength=size).astype(np.float64).reshape(n_groups, m)
    agree = np.bincount(key, weights=values < 0, minlength=size).reshape(n_groups, m)
    disagree = np.bincount(key, weights=values > 0, minlength=size).reshape(n_groups, m)
    return _GroupVotes(agree.astype(np.float64), disagree.astype(np.float64), seen)


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
    in_proj = proj[in_rows]
    labels = np.full(n, -1, dtype=np.int64)
    silhouettes: dict[int, float] = {}
    best_k: int | None = None
    groups: Clusters | None = None
    group_ids: tuple[int, ...] = ()
    if len(in_rows):
        base = kmeans(
            in_proj,
            in_rows,
            params["base_k"],
            max_iters=100,
            previous=state.base,
        )
        state.base = base
    if len(in_rows) and group_clustering:
        assert state.base is not None
        base = state.base
        n_base = len(base)
        max_k = min(params["max_k"], 2 + n_base // 12)
        weights = base.counts().astype(np.float64)
        clusterings: dict[int, Clusters] = {}
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
        state.smoother = _smooth(
            state.smoother, best_k, params["group_k_buffer"], max_k
        )
        state.last_max_k = max_k
        groups = clusterings[state.smoother[2]]
        group_ids = tuple(groups.ids.tolist())
        base_group = _labels_of(base.ids, groups)  # position in groups list
        for j, members in enumerate(base.members):
            labels[members] = base_group[j]
    elif not group_clustering:
        state.group_clusterings = {}
        state.smoother = None
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


def _labels_of(base_ids: NDArray[np.int64], clustering: Clusters) -> NDArray[np.int64]:
    """Position (in clustering order, i.e. by id) of the cluster holding each base id."""
    lookup = {}
    for position, members in enumerate(clustering.members):
        for name in members.tolist():
            lookup[name] = position
    return np.asarray([lookup[b] for b in base_ids.tolist()], dtype=np.int64)


# ---------------------------------------------------------------------------
# Statistics (spec §4.3)
# ---------------------------------------------------------------------------


def _prop_test(
    success: NDArray[np.float64], n: NDArray[np.float64]
) -> NDArray[np.float64]:
    return np.asarray(
        2.0 * np.sqrt(n + 1.0) * ((success + 1.0) / (n + 1.0) - 0.5), dtype=np.float64
    )


def _two_prop_test(
    succ_in: NDArray[np.float64],
    succ_out: NDArray[np.float64],
    pop_in: NDArray[np.float64],
    pop_out: NDArray[np.float64],
) -> NDArray[np.float64]:
    s1, s2, n1, n2 = succ_in + 1.0, succ_out + 1.0, pop_in + 1.0, pop_out + 1.0
    p1 = s1 / n1
    p2 = s2 / n2
    p_hat = (s1 + s2) / (n1 + n2)
    variance = p_hat * (1.0 - p_hat) * (1.0 / n1 + 1.0 / n2)
    safe = np.where(variance > 0, variance, 1.0)
    return np.asarray(
        np.where(p_hat == 1.0, 0.0, (p1 - p2) / np.sqrt(safe)), dtype=np.float64
    )


@dataclass(slots=True)
class _RepStats:
    na: NDArray[np.float64]
    nd: NDArray[np.float64]
    ns: NDArray[np.float64]
    pa: NDArray[np.float64]
    pd: NDArray[np.float64]
    pat: NDArray[np.float64]
    pdt: NDArray[np.float64]
    ra: NDArray[np.float64]
    rd: NDArray[np.float64]
    rat: NDArray[np.float64]
    rdt: NDArray[np.float64]


def repness_stats(
    agree: NDArray[np.float64],
    disagree: NDArray[np.float64],
    seen: NDArray[np.float64],
) -> _RepStats:
    """Pol.is ``conv-repness`` numbers for every group (rows) and column."""
    rest_a = agree.sum(axis=0)[None, :] - agree
    rest_d = disagree.sum(axis=0)[None, :] - disagree
    rest_s = seen.sum(axis=0)[None, :] - seen
    pa = (agree + 1.0) / (seen + 2.0)
    pd = (disagree + 1.0) / (seen + 2.0)
    return _RepStats(
        na=agree,
        nd=disagree,
        ns=seen,
        pa=pa,
        pd=pd,
        pat=_prop_test(agree, seen),
        pdt=_prop_test(disagree, seen),
        ra=pa / ((rest_a + 1.0) / (rest_s + 2.0)),
        rd=pd / ((rest_d + 1.0) / (rest_s + 2.0)),
        rat=_two_prop_test(agree, rest_a, seen, rest_s),
        rdt=_two_prop_test(disagree, rest_d, seen, rest_s),
    )


def _finalise(
    statement: str, st: _RepStats, g: int, j: int, *, best_agree: bool = False
) -> RepresentativeStatement:
    if st.rat[g, j] > st.rdt[g, j]:
        values = ("agree", st.na, st.pa, st.pat, st.ra, st.rat)
    else:
        values = ("disagree", st.nd, st.pd, st.pdt, st.rd, st.rdt)
    direction, n_success, p_success, p_test, repness, repness_test = values
    return RepresentativeStatement(
        statement=statement,
        direction=direction,
        n_success=int(n_success[g, j]),
        n_trials=int(st.ns[g, j]),
        p_success=float(p_success[g, j]),
        p_test=float(p_test[g, j]),
        repness=float(repness[g, j]),
        repness_test=float(np.float32(repness_test[g, j])),
        best_agree=best_agree,
        q_value=None,
    )


def select_representative(
    st: _RepStats,
    g: int,
    statement_ids: list[str],
    column_order: NDArray[np.intp],
    mod_out: NDArray[np.bool_],
    limit: int = 5,
) -> tuple[RepresentativeStatement, ...]:
    """Pol.is ``select-rep-comments`` for group ``g`` (spec §4.3)."""
    sufficient: list[tuple[int, RepresentativeStatement]] = []
    best: RepresentativeStatement | None = None
    best_agree: int | None = None
    for j in column_order.tolist():
        if mod_out[j]:
            continue
        rat, rdt, pat, pdt = st.rat[g, j], st.rdt[g, j], st.pat[g, j], st.pdt[g, j]
        if (rat > Z_90 and pat > Z_90) or (rdt > Z_90 and pdt > Z_90):
            sufficient.append((j, _finalise(statement_ids[j], st, g, j)))
        if not sufficient and (best is None or max(rat, rdt) > best.repness_test):
            best = _finalise(statement_ids[j], st, g, j)
        if st.na[g, j] + st.nd[g, j] > 0:
            ra, pa = st.ra[g, j], st.pa[g, j]
            if best_agree is not None and st.ra[g, best_agree] > 1.0:
                b = best_agree
                beats = ra * rat * pa * pat > (
                    st.ra[g, b] * st.rat[g, b] * st.pa[g, b] * st.pat[g, b]
                )
            elif best_agree is not None:
                b = best_agree
                beats = pa * pat > st.pa[g, b] * st.pat[g, b]
            else:
                beats = bool(pat > Z_90 or (ra > 1.0 and pa > 0.5))
            if beats:
                best_agree = j
    head: list[RepresentativeStatement] = []
    if best_agree is not None:
        head = [
            _finalise(statement_ids[best_agree], st, g, best_agree, best_agree=True)
        ]
    if not sufficient:
        if head:
            return tuple(head)
        return (best,) if best is not None else ()
    rest = [r for j, r in sufficient if j != best_agree]
    rest.sort(key=lambda r: -(r.repness * r.repness_test * r.p_success * r.p_test))
    chosen = (head + rest)[:limit]
    agrees = [r for r in chosen if r.direction == "agree"]
    disagrees = [r for r in chosen if r.direction == "disagree"]
    return tuple(agrees + disagrees)


def majority_consensus(
    agree: NDArray[np.float64],
    disagree: NDArray[np.float64],
    seen: NDArray[np.float64],
    statement_ids: list[str],
    column_order: NDArray[np.intp],
    mod_out: NDArray[np.bool_],
) -> tuple[tuple[MajorityStatement, ...], tuple[MajorityStatement, ...]]:
    """Pol.is ``select-consensus-comments`` over all participants (spec §4.3)."""
    pa = (agree + 1.0) / (seen + 2.0)
    pd = (disagree + 1.0) / (seen + 2.0)
    pat = _prop_test(agree, seen)
    pdt = _prop_test(disagree, seen)
    lists = []
    for count, p, t in ((agree, pa, pat), (disagree, pd, pdt)):
        candidates = [
            j
            for j in column_order.tolist()
            if not mod_out[j] and p[j] > 0.5 and t[j] > Z_90
        ]
        candidates.sort(key=lambda j: -(p[j] * t[j]))
        lists.append(
            tuple(
                MajorityStatement(
                    statement=statement_ids[j],
                    n_success=int(count[j]),
                    n_trials=int(seen[j]),
                    p_success=float(p[j]),
                    p_test=float(t[j]),
                )
                for j in candidates[:5]
            )
        )
    return lists[0], lists[1]


def priorities(
    agree: NDArray[np.float64],
    disagree: NDArray[np.float64],
    seen: NDArray[np.float64],
    extremity: NDArray[np.float64],
    meta: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Pol.is ``priority-metric`` from votes summed over groups (spec §4.3)."""
    passes = seen - agree - disagree
    importance = (
        (1.0 - (passes + 1.0) / (seen + 2.0))
        * (extremity + 1.0)
        * (agree + 1.0)
        / (seen + 2.0)
    )
    value = (importance * (1.0 + 8.0 * 2.0 ** (-seen / 5.0))) ** 2
    return np.asarray(np.where(meta, 49.0, value), dtype=np.float64)


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------


def _result(
    state: PolisState,
    outcome: _TickOutcome | None,
    params: dict[str, Any],
    trace: tuple[TraceTick, ...],
    previous_votes: _GroupVotes | None,
    warnings: list[str],
) -> OpinionResult:
    n, m = state.n_rows, state.n_cols
    mod_out, meta = state.moderation()
    table = state.statements
    table_out: tuple[str, ...] = ()
    without_votes: tuple[str, ...] = ()
    if table is not None:
        known = set(state.statement_ids)
        out_ids = sorted(table.moderated_out_ids())
        table_out = tuple(out_ids[i] for i in canonical_order(out_ids))
        missing = [sid for sid in table.ids if sid not in known]
        without_votes = tuple(missing[i] for i in canonical_order(missing))
    summary = InputSummary(
        path=state.path,
        source=state.source,
        vote_rows=state.n_vote_rows,
        votes=state.n_votes,
        participants=n,
        statements=m,
        moderated_out=table_out,
        statements_without_votes=without_votes,
    )
    warn = list(warnings)
    if outcome is None or n == 0:
        if "no_votes" not in warn:
            warn.append("no_votes")
        return OpinionResult(
            mode="polis",
            replay=bool(params["replay"]),
            seed=int(params["seed"]),
            params=dict(params),
            input=summary,
            k=0,
            participants=(),
            groups=(),
            consensus=Consensus((), (), {}, ()),
            statements=(),
            diagnostics=Diagnostics(
                n_in_conv=0,
                ticks=len(trace) if params["replay"] else None,
                replay_window_ms=_window(params),
                reboot_before_final=bool(params["reboot_before_final"])
                if params["replay"]
                else None,
                warnings=tuple(warn),
            ),
            trace=trace,
        )
    comps = outcome.comps
    if len(comps) < 2:
        warn.append("single_component")
    signs = np.ones(2)
    if len(comps):
        signs[: len(comps)] = orientation_signs(comps)
    flip = -signs  # internal (agree = -1) to output, then orientation

    vals = state.values[:n, :m]
    vot = state.voted[:n, :m]
    labels = outcome.labels
    n_groups = len(outcome.group_cluster_ids)
    current = _group_votes(state, labels, n_groups)
    rep_st = repness_stats(current.agree, current.disagree, current.seen)
    # Column order for Pol.is iteration: our columns (encounter order).
    column_order = np.arange(m, dtype=np.intp)
    ids = state.statement_ids

    # statement projections (step 7)
    if len(comps) >= 2:
        stmt = ((-1.0 - outcome.mu)[:, None] * comps.T) * np.sqrt(m)
    else:
        stmt = np.zeros((m, 2))
    extremity = np.sqrt((stmt * stmt).sum(axis=1))
    prev = previous_votes if previous_votes is not None else current
    pa_sum = np.zeros(m)
    pd_sum = np.zeros(m)
    ps_sum = np.zeros(m)
    if len(prev.agree):
        width = min(prev.agree.shape[1], m)
        pa_sum[:width] = prev.agree.sum(axis=0)[:width]
        pd_sum[:width] = prev.disagree.sum(axis=0)[:width]
        ps_sum[:width] = prev.seen.sum(axis=0)[:width]
    priority = priorities(pa_sum, pd_sum, ps_sum, extremity, meta)

    all_agree = (vals < 0).sum(axis=0).astype(np.float64)
    all_disagree = (vals > 0).sum(axis=0).astype(np.float64)
    all_seen = vot.sum(axis=0)
    maj_agree, maj_disagree = majority_consensus(
        all_agree, all_disagree, all_seen, ids, column_order, mod_out
    )
    if n_groups:
        gac = np.prod((current.agree + 1.0) / (current.seen + 2.0), axis=0)
    else:
        gac = np.full(m, np.nan)
    col_canon = canonical_order(ids)
    group_aware = {
        ids[j]: GroupAwareScore(agree=float(gac[j]) if n_groups else None)
        for j in col_canon.tolist()
    }
    candidates = [j for j in col_canon.tolist() if not mod_out[j] and n_groups]
    candidates.sort(key=lambda j: -gac[j])
    common = tuple(ids[j] for j in candidates[:10])

    groups: list[Group] = []
    clustering = outcome.groups
    for g in range(n_groups):
        assert clustering is not None
        centre = clustering.centres[g] * flip
        groups.append(
            Group(
                id=g,
                members=int((labels == g).sum()),
                centre=(float(centre[0]), float(centre[1])),
                stability=None,
                representative=select_representative(
                    rep_st, g, ids, column_order, mod_out
                ),
            )
        )

    proj = outcome.projections * flip[None, :]
    row_canon = canonical_order(state.participant_ids)
    participants = tuple(
        ParticipantPoint(
            id=state.participant_ids[i],
            x=float(proj[i, 0]),
            y=float(proj[i, 1]),
            group=None if labels[i] < 0 else int(labels[i]),
            in_conv=bool(state.in_conv[i]),
            n_votes=int(state.row_count[i]),
            flags=(),
        )
        for i in row_canon.tolist()
    )
    stmt_out = stmt * flip[None, :]
    statements = tuple(
        StatementPoint(
            id=ids[j],
            x=float(stmt_out[j, 0]),
            y=float(stmt_out[j, 1]),
            extremity=float(extremity[j]),
            priority=float(priority[j]),
            n_votes=int(all_seen[j]),
            moderated_out=bool(mod_out[j]),
            is_meta=bool(meta[j]),
        )
        for j in col_canon.tolist()
    )
    total = float(np.trace(_centred_cov_trace(state, outcome.mu, mod_out)))
    explained: list[float | None] = [None, None]
    for i, lam in enumerate(state.pca_eigenvalues[:2]):
        explained[i] = lam / total if total > 0 else None
    base = state.base
    base_json: tuple[dict[str, Any], ...] | None = None
    if base is not None:
        centres = base.centres * flip[None, :]
        base_json = tuple(
            {
                "id": int(cid),
                "members": [state.participant_ids[r] for r in members.tolist()],
                "x": float(centres[i, 0]),
                "y": float(centres[i, 1]),
                "count": len(members),
            }
            for i, (cid, members) in enumerate(
                zip(base.ids.tolist(), base.members, strict=True)
            )
        )
    smoother = state.smoother
    best_k = outcome.trace.best_k
    if smoother is None:
        reason = "no participant in the conversation"
    elif smoother[2] == best_k:
        reason = f"k={best_k} has the best silhouette"
    elif smoother[2] == state.last_max_k and best_k is not None:
        reason = f"smoothed k clamped to max_k={state.last_max_k}"
    else:
        reason = (
            f"smoother kept k={smoother[2]}: best k={best_k} has not won "
            f"{params['group_k_buffer']} ticks in a row"
        )
    if n_groups and n_groups < (smoother[2] if smoother else 0):
        reason += f"; k-means collapsed to {n_groups} clusters"
    diagnostics = Diagnostics(
        n_in_conv=int(state.in_conv[:n].sum()),
        explained_variance=(explained[0], explained[1]),
        silhouette=dict(sorted(outcome.trace.silhouettes.items())),
        chosen_k_reason=reason,
        smoother=None
        if smoother is None
        else {"last_k": smoother[0], "count": smoother[1], "smoothed_k": smoother[2]},
        ticks=len(trace) if params["replay"] else None,
        replay_window_ms=_window(params),
        reboot_before_final=bool(params["reboot_before_final"])
        if params["replay"]
        else None,
        base_clusters=base_json,
        group_cluster_ids=outcome.group_cluster_ids,
        stability=None,
        uniform_voters=0,
        warnings=tuple(warn),
    )
    return OpinionResult(
        mode="polis",
        replay=bool(params["replay"]),
        seed=int(params["seed"]),
        params=dict(params),
        input=summary,
        k=n_groups,
        participants=participants,
        groups=tuple(groups),
        consensus=Consensus(maj_agree, maj_disagree, group_aware, common),
        statements=statements,
        diagnostics=diagnostics,
        trace=trace,
    )


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


def _window(params: dict[str, Any]) -> int | None:
    if not params["replay"] or params["replay_batch_votes"] is not None:
        return None
    return int(params["replay_window_ms"])


# ---------------------------------------------------------------------------
# Customs and drivers
# ---------------------------------------------------------------------------


class _Admission:
    """Maps a vote table's codes to state rows/columns, applying customs."""

    def __init__(self, state: PolisState, votes: VoteTable, params: dict[str, Any]):
        self.state = state
        self.votes = votes
        self.max_p = int(params["max_participants"])
        self.max_s = int(params["max_statements"])
        p_index = {pid: i for i, pid in enumerate(state.participant_ids)}
        s_index = {sid: j for j, sid in enumerate(state.statement_ids)}
        self.p_map = np.asarray(
            [p_index.get(pid, -1) for pid in votes.participant_ids], dtype=np.int64
        )
        self.s_map = np.asarray(
            [s_index.get(sid, -1) for sid in votes.statement_ids], dtype=np.int64
        )

    def admit(
        self, batch: NDArray[np.intp]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """State (rows, cols, internal values) of a batch of table rows in order."""
        state, votes = self.state, self.votes
        p_codes = votes.participant[batch]
        s_codes = votes.statement[batch]
        new_p = _new_in_order(p_codes, self.p_map)
        new_s = _new_in_order(s_codes, self.s_map)
        fits = (
            state.n_rows + len(new_p) <= self.max_p
            and state.n_cols + len(new_s) <= self.max_s
        )
        if fits:
            self._add(new_p, new_s)
            keep = np.ones(len(batch), dtype=bool)
        else:
            keep = self._admit_slowly(p_codes, s_codes)
        rows = self.p_map[p_codes[keep]]
        cols = self.s_map[s_codes[keep]]
        internal = -votes.vote[batch[keep]].astype(np.float64)
        return rows, cols, internal

    def _add(self, new_p: NDArray[np.int64], new_s: NDArray[np.int64]) -> None:
        state = self.state
        if len(new_p) == 0 and len(new_s) == 0:
            return
        n0, m0 = state.n_rows, state.n_cols
        self.p_map[new_p] = np.arange(n0, n0 + len(new_p))
        self.s_map[new_s] = np.arange(m0, m0 + len(new_s))
        state.participant_ids.extend(
            self.votes.participant_ids[c] for c in new_p.tolist()
        )
        state.statement_ids.extend(self.votes.statement_ids[c] for c in new_s.tolist())
        state._reserve(state.n_rows, state.n_cols)

    def _admit_slowly(
        self, p_codes: NDArray[np.int32], s_codes: NDArray[np.int32]
    ) -> NDArray[np.bool_]:
        keep = np.zeros(len(p_codes), dtype=bool)
        n_p, n_s = self.state.n_rows, self.state.n_cols
        pending_p: list[int] = []
        pending_s: list[int] = []
        known_p: set[int] = set()
        known_s: set[int] = set()
        for i, (p, s) in enumerate(
            zip(p_codes.tolist(), s_codes.tolist(), strict=True)
        ):
            p_ok = self.p_map[p] >= 0 or p in known_p or n_p < self.max_p
            s_ok = self.s_map[s] >= 0 or s in known_s or n_s < self.max_s
            if not (p_ok and s_ok):
                continue
            keep[i] = True
            if self.p_map[p] < 0 and p not in known_p:
                known_p.add(p)
                pending_p.append(p)
                n_p += 1
            if self.s_map[s] < 0 and s not in known_s:
                known_s.add(s)
                pending_s.append(s)
                n_s += 1
        self._add(
            np.asarray(pending_p, dtype=np.int64), np.asarray(pending_s, dtype=np.int64)
        )
        return keep


def _new_in_order(
    codes: NDArray[np.int32], mapping: NDArray[np.int64]
) -> NDArray[np.int64]:
    unknown = mapping[codes] < 0
    if not unknown.any():
        return np.zeros(0, dtype=np.int64)
    candidates = codes[unknown]
    uniq, first = np.unique(candidates, return_index=True)
    return uniq[np.argsort(first, kind="stable")].astype(np.int64)


def _batches(votes: VoteTable, params: dict[str, Any]) -> list[NDArray[np.intp]]:
    arrival = arrival_order(votes)
    n = len(arrival)
    if n == 0:
        return []
    size = params["replay_batch_votes"]
    if size is not None:
        return [arrival[i : i + size] for i in range(0, n, size)]
    assert votes.timestamp is not None
    times = votes.timestamp[arrival]
    window = int(params["replay_window_ms"])
    batches = []
    start = 0
    while start < n:
        stop = int(np.searchsorted(times, times[start] + window, side="left"))
        stop = max(stop, start + 1)
        batches.append(arrival[start:stop])
        start = stop
    return batches


def _new_state(votes: VoteTable, statements: StatementTable | None) -> PolisState:
    state = PolisState()
    state.source = votes.source
    state.path = votes.path
    state.statements = statements
    return state


def fit_polis(
    votes: VoteTable, statements: StatementTable | None, params: dict[str, Any]
) -> tuple[OpinionResult, PolisState]:
    """``fit`` in polis mode: one tick, or REPLAY of the log (spec §4.4).

    BLAS runs single-threaded here: a tick is thousands of small products, and
    thread pools make each of them several times slower on a busy machine.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_polis(votes, statements, params)


def _fit_polis(
    votes: VoteTable, statements: StatementTable | None, params: dict[str, Any]
) -> tuple[OpinionResult, PolisState]:
    state = _new_state(votes, statements)
    state.n_vote_rows = len(votes)
    warnings: list[str] = []
    if len(votes) == 0:
        return _result(state, None, params, (), None, warnings), state
    if not params["replay"]:
        order = "table" if votes.source == "polis-matrix" else "encounter"
        final = final_votes(votes, order)  # type: ignore[arg-type]
        rows, cols, internal = _admit_final(state, final, params)
        single = _tick(
            state, rows, cols, internal, params, t_end=None, need_group_votes=True
        )
        return _result(state, single, params, (), None, warnings), state
    if votes.timestamp is None and params["replay_batch_votes"] is None:
        raise OpinionInputError(
            votes.path or "<votes>",
            1,
            "timestamp",
            "replay needs timestamped votes (or replay_batch_votes)",
        )
    batches = _batches(votes, params)
    admission = _Admission(state, votes, params)
    trace: list[TraceTick] = []
    previous_votes: _GroupVotes | None = None
    outcome: _TickOutcome | None = None
    last = len(batches) - 1
    reboot = bool(params["reboot_before_final"])
    for index, batch in enumerate(batches):
        if index == last and index > 0 and reboot:
            state.group_clusterings = {}
            state.smoother = None
        rows, cols, internal = admission.admit(batch)
        t_end = None if votes.timestamp is None else int(votes.timestamp[batch[-1]])
        outcome = _tick(
            state,
            rows,
            cols,
            internal,
            params,
            t_end=t_end,
            need_group_votes=index >= last - 1,
            group_clustering=not reboot or index >= last - 1,
        )
        trace.append(outcome.trace)
        if index == last - 1:
            previous_votes = state.group_votes
    return _result(
        state, outcome, params, tuple(trace), previous_votes, warnings
    ), state


def _admit_final(
    state: PolisState, final: FinalVotes, params: dict[str, Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Customs for a single tick from an empty state: first ids in order win."""
    max_p = int(params["max_participants"])
    max_s = int(params["max_statements"])
    keep = (final.row < max_p) & (final.col < max_s)
    state.participant_ids = list(final.participant_ids[:max_p])
    state.statement_ids = list(final.statement_ids[:max_s])
    state._reserve(state.n_rows, state.n_cols)
    return (
        final.row[keep].astype(np.int64),
        final.col[keep].astype(np.int64),
        -final.vote[keep].astype(np.float64),
    )


def tick_polis(
    state: PolisState,
    votes: VoteTable,
    statements: StatementTable | None,
    params: dict[str, Any],
) -> tuple[OpinionResult, PolisState]:
    """``partial_fit`` in polis mode: one tick with a batch on the stored state.

    The state is updated in place and returned.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _tick_polis(state, votes, statements, params)


def _tick_polis(
    state: PolisState,
    votes: VoteTable,
    statements: StatementTable | None,
    params: dict[str, Any],
) -> tuple[OpinionResult, PolisState]:
    if statements is not None:
        state.statements = statements
    if not state.source:
        state.source = votes.source
        state.path = votes.path
    state.n_vote_rows += len(votes)
    previous_votes = state.group_votes
    admission = _Admission(state, votes, params)
    rows, cols, internal = admission.admit(arrival_order(votes))
    t_end = (
        int(votes.timestamp.max())
        if votes.timestamp is not None and len(votes)
        else None
    )
    if state.n_rows == 0:
        return _result(state, None, params, (), None, []), state
    outcome = _tick(
        state, rows, cols, internal, params, t_end=t_end, need_group_votes=True
    )
    return _result(state, outcome, params, (outcome.trace,), previous_votes, []), state
