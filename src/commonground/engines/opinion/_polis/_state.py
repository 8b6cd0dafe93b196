"""The state ``polis`` mode carries from tick to tick (spec §4.4), and its JSON form.

Storage: the raw matrix R is dense (``values`` with 0 for nil and ``voted``
0/1), grown by doubling; the Gram blocks S = RᵀR, B = RᵀV and N = VᵀV are
updated row by row, so one tick's PCA costs O(columns²) whatever the number
of participants: ZᵀZ = S − B·diag(μ) − diag(μ)·Bᵀ + N ∘ μμᵀ for the centred,
mean-imputed matrix Z (spec §4.1 step 5).  Internally every number uses
Pol.is's signs (agree = -1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .._data import StatementTable
from .._result import orientation_signs
from ._kmeans import Clusters

__all__ = ["PolisState"]

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
