"""``OpinionMap``: the estimator-shaped entry point of both modes (spec §6).

Mode dispatch contract (also in /work/coord/opinion.md):

* ``improved``: ``_improved.fit_improved(votes, statements, params, seed, cache)
  -> (OpinionResult, cache)``.  ``votes`` is every vote seen so far (a
  :class:`VoteTable`), ``statements`` the latest statement table or None,
  ``params`` the dict of :meth:`OpinionMap.get_params`, ``cache`` the object
  returned by the previous call (None on ``fit``).  The returned cache must
  expose ``column_ids`` (tuple of statement ids, the PCA columns), ``center``
  (float64[columns]) and ``components`` (float64[2, columns], output
  orientation); anything else in it is private to the improved mode.
* ``polis``: ``_polis.fit_polis(votes, statements, params)`` and
  ``_polis.tick_polis(state, votes, statements, params)``, both
  ``-> (OpinionResult, PolisState)``; the state exposes the same three
  attributes.
"""

from __future__ import annotations

import numbers
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._data import StatementTable, VoteTable, concat_votes
from ._result import OpinionResult

__all__ = ["OpinionMap"]

MODES = ("polis", "improved")


class FittedArrays(Protocol):
    """What a mode's cache or state exposes for the learned attributes."""

    @property
    def column_ids(self) -> tuple[str, ...]: ...

    @property
    def center(self) -> NDArray[np.float64]: ...

    @property
    def components(self) -> NDArray[np.float64]: ...


class OpinionMap:
    """Opinion groups, representative statements and consensus of a conversation.

    Parameters are stored unchanged and validated in :meth:`fit`.  ``mode`` is
    ``"improved"`` (deterministic, stateless; default) or ``"polis"`` (faithful
    to Pol.is math; with ``replay=True`` the timestamped log is replayed in
    ``replay_window_ms`` windows).

    >>> from commonground.engines.opinion import OpinionMap, VoteTable
    >>> votes = VoteTable.from_records(
    ...     [(p, s, 1 if (p < 4) == (s < 3) else -1, None)
    ...      for p in range(8) for s in range(6)])
    >>> m = OpinionMap(mode="polis").fit(votes)
    >>> m.k_, sorted(set(m.labels_.tolist()))
    (2, [0, 1])

    Learned attributes: ``result_`` (:class:`OpinionResult`),
    ``participant_ids_`` and ``embedding_`` (participants × 2), ``labels_``
    (-1 = no group), ``in_conv_`` in the result's participant order (canonical);
    ``statement_ids_``, ``center_`` and ``components_`` (2 × columns) in the
    mode's column order; ``k_``; ``n_ticks_``; ``state_`` (polis only).
    """

    def __init__(
        self,
        mode: str = "improved",
        seed: int = 0,
        *,
        replay: bool = False,
        replay_window_ms: int = 1000,
        replay_batch_votes: int | None = None,
        reboot_before_final: bool = True,
        min_votes: int = 7,
        base_k: int = 100,
        max_k: int = 5,
        group_k_buffer: int = 4,
        max_groups: int = 8,
        min_group_share: float = 0.03,
        n_init: int = 4,
        bootstrap: int = 10,
        fdr: float = 0.10,
        max_representative: int = 5,
        pca_iters: int = 100,
        max_participants: int = 100_000,
        max_statements: int = 10_000,
    ) -> None:
        self.mode = mode
        self.seed = seed
        self.replay = replay
        self.replay_window_ms = replay_window_ms
        self.replay_batch_votes = replay_batch_votes
        self.reboot_before_final = reboot_before_final
        self.min_votes = min_votes
        self.base_k = base_k
        self.max_k = max_k
        self.group_k_buffer = group_k_buffer
        self.max_groups = max_groups
        self.min_group_share = min_group_share
        self.n_init = n_init
        self.bootstrap = bootstrap
        self.fdr = fdr
        self.max_representative = max_representative
        self.pca_iters = pca_iters
        self.max_participants = max_participants
        self.max_statements = max_statements
        self._votes: VoteTable | None = None
        self._statements: StatementTable | None = None
        self._cache: Any = None

    _PARAM_NAMES = (
        "mode",
        "seed",
        "replay",
        "replay_window_ms",
        "replay_batch_votes",
        "reboot_before_final",
        "min_votes",
        "base_k",
        "max_k",
        "group_k_buffer",
        "max_groups",
        "min_group_share",
        "n_init",
        "bootstrap",
        "fdr",
        "max_representative",
        "pca_iters",
        "max_participants",
        "max_statements",
    )

    def get_params(self) -> dict[str, Any]:
        """Every parameter by name (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._PARAM_NAMES}

    def __repr__(self) -> str:
        return f"OpinionMap(mode={self.mode!r}, seed={self.seed!r})"

    def _validated_params(self) -> dict[str, Any]:
        params = self.get_params()
        if params["mode"] not in MODES:
            raise ValueError(f"mode must be 'polis' or 'improved', not {self.mode!r}")

        def integer(name: str, low: int) -> None:
            value = params[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < low
            ):
                raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
            params[name] = int(value)

        def fraction(name: str, low: float, high: float) -> None:
            value = params[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{name} must be a number, not {value!r}")
            if not (low < float(value) < high):
                raise ValueError(f"{name} must be in ({low}, {high}), not {value!r}")
            params[name] = float(value)

        integer("seed", 0)
        integer("replay_window_ms", 1)
        if params["replay_batch_votes"] is not None:
            integer("replay_batch_votes", 1)
        integer("min_votes", 1)
        integer("base_k", 1)
        integer("max_k", 2)
        integer("group_k_buffer", 1)
        integer("max_groups", 2)
        integer("n_init", 1)
        integer("bootstrap", 1)
        integer("max_representative", 0)
        integer("pca_iters", 1)
        integer("max_participants", 1)
        integer("max_statements", 1)
        fraction("min_group_share", 0.0, 1.0)
        fraction("fdr", 0.0, 1.0)
        for name in ("replay", "reboot_before_final"):
            if not isinstance(params[name], bool):
                raise ValueError(f"{name} must be True or False")
        return params

    def fit(
        self, votes: VoteTable, statements: StatementTable | None = None
    ) -> OpinionMap:
        """Compute the map from all ``votes`` (and moderation in ``statements``)."""
        params = self._validated_params()
        if params["mode"] == "improved":
            from ._improved import fit_improved

            result, cache_improved = fit_improved(
                votes, statements, params, params["seed"], None
            )
            cache: Any = cache_improved
        else:
            from ._polis import fit_polis

            result, cache = fit_polis(votes, statements, params)
        self._votes = votes
        self._statements = statements
        self._cache = cache
        self._learn(result, cache)
        return self

    def partial_fit(
        self,
        votes: VoteTable | None = None,
        statements: StatementTable | None = None,
    ) -> OpinionMap:
        """Add a batch of votes (and/or a new statement table) to a fitted map.

        ``polis``: one more tick on the stored state.  ``improved``: the result
        of :meth:`fit` on every vote so far (the mode may reuse its cache).
        Without a previous fit this is :meth:`fit` on the batch.
        """
        batch = votes if votes is not None else VoteTable.empty()
        if self._votes is None:
            return self.fit(batch, statements)
        params = self._validated_params()
        if statements is None:
            statements = self._statements
        polis = params["mode"] == "polis"
        all_votes = self._votes if polis else concat_votes(self._votes, batch)
        if not polis:
            from ._improved import fit_improved

            result, cache_improved = fit_improved(
                all_votes, statements, params, params["seed"], self._cache
            )
            cache: Any = cache_improved
        else:
            from ._polis import PolisState, tick_polis

            state = self._cache
            if not isinstance(state, PolisState):
                raise ValueError("partial_fit in polis mode needs a polis-mode fit")
            result, cache = tick_polis(state, batch, statements, params)
        self._votes = all_votes
        self._statements = statements
        self._cache = cache
        self._learn(result, cache)
        return self

    @classmethod
    def from_state(cls, state: Any, **params: Any) -> OpinionMap:
        """A polis-mode map that continues from a stored ``PolisState``.

        ``OpinionMap.from_state(PolisState.from_json(text)).partial_fit(batch)``
        gives the same result as calling ``partial_fit(batch)`` on the map that
        produced the state, even after a restart (spec §4.4).
        """
        from ._polis import PolisState

        if not isinstance(state, PolisState):
            raise TypeError("from_state needs a PolisState")
        model = cls(mode="polis", **params)
        model._votes = VoteTable.empty()
        model._statements = state.statements
        model._cache = state
        return model

    def _learn(self, result: OpinionResult, arrays: FittedArrays) -> None:
        self.result_ = result
        self.participant_ids_ = tuple(p.id for p in result.participants)
        self.embedding_ = np.asarray(
            [(p.x, p.y) for p in result.participants], dtype=np.float64
        ).reshape(-1, 2)
        self.labels_ = np.asarray(
            [-1 if p.group is None else p.group for p in result.participants],
            dtype=np.int64,
        )
        self.in_conv_ = np.asarray(
            [p.in_conv for p in result.participants], dtype=np.bool_
        )
        self.statement_ids_ = tuple(arrays.column_ids)
        self.center_ = np.asarray(arrays.center, dtype=np.float64)
        self.components_ = np.asarray(arrays.components, dtype=np.float64)
        self.k_ = result.k
        self.n_ticks_ = int(getattr(arrays, "n_ticks", 1))
        if result.mode == "polis":
            self.state_ = arrays
