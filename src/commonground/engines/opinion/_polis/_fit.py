"""``fit`` and ``partial_fit`` of ``polis`` mode: customs, batches and REPLAY (spec §4.4).

Votes are admitted under the participant and statement caps, cut into
REPLAY batches by time window (or count) and fed tick by tick.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from .._data import (
    FinalVotes,
    OpinionInputError,
    StatementTable,
    VoteTable,
    arrival_order,
    final_votes,
)
from .._result import OpinionResult, TraceTick
from ._assemble import _result
from ._state import PolisState, _GroupVotes
from ._tick import _tick, _TickOutcome


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
