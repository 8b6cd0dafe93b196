"""Assembling the :class:`OpinionResult` of ``polis`` mode from a tick's outcome.

Numbers are converted at this boundary from Pol.is's signs (agree = -1) to the
output convention (agree = +1, then the orientation rule of spec §3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._data import canonical_order
from .._result import (
    Consensus,
    Diagnostics,
    Group,
    GroupAwareScore,
    InputSummary,
    OpinionResult,
    ParticipantPoint,
    StatementPoint,
    TraceTick,
    orientation_signs,
)
from ._pca import _centred_cov_trace
from ._state import PolisState, _group_votes, _GroupVotes
from ._stats import majority_consensus, priorities, repness_stats, select_representative
from ._tick import _TickOutcome


def _result(
    state: PolisState,
    outcome: _TickOutcome | None,
    params: dict[str, Any],
    trace: tuple[TraceTick, ...],
    previous_votes: _GroupVotes | None,
    warnings: list[str],
) -> OpinionResult:
    """The result of the state after ``outcome`` (None: nothing was counted)."""
    summary = _input_summary(state)
    warn = list(warnings)
    if outcome is None or state.n_rows == 0:
        if "no_votes" not in warn:
            warn.append("no_votes")
        return _empty_result(params, trace, summary, warn)
    if len(outcome.comps) < 2:
        warn.append("single_component")
    flip = _output_flip(outcome.comps)
    n_groups = len(outcome.group_cluster_ids)
    current = _group_votes(state, outcome.labels, n_groups)
    totals = _vote_totals(state)
    return OpinionResult(
        mode="polis",
        replay=bool(params["replay"]),
        seed=int(params["seed"]),
        params=dict(params),
        input=summary,
        k=n_groups,
        participants=_participants(state, outcome, flip),
        groups=_groups(state, outcome, current, flip),
        consensus=_consensus(state, current, n_groups, totals),
        statements=_statements(state, outcome, previous_votes, current, flip, totals),
        diagnostics=_diagnostics(state, outcome, params, trace, flip, warn),
        trace=trace,
    )


def _input_summary(state: PolisState) -> InputSummary:
    """What was read: counts, moderated-out statements and those without votes."""
    table = state.statements
    table_out: tuple[str, ...] = ()
    without_votes: tuple[str, ...] = ()
    if table is not None:
        known = set(state.statement_ids)
        out_ids = sorted(table.moderated_out_ids())
        table_out = tuple(out_ids[i] for i in canonical_order(out_ids))
        missing = [sid for sid in table.ids if sid not in known]
        without_votes = tuple(missing[i] for i in canonical_order(missing))
    return InputSummary(
        path=state.path,
        source=state.source,
        vote_rows=state.n_vote_rows,
        votes=state.n_votes,
        participants=state.n_rows,
        statements=state.n_cols,
        moderated_out=table_out,
        statements_without_votes=without_votes,
    )


def _empty_result(
    params: dict[str, Any],
    trace: tuple[TraceTick, ...],
    summary: InputSummary,
    warn: list[str],
) -> OpinionResult:
    """The result when no participant has been counted yet."""
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


def _output_flip(comps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per axis: internal signs (agree = -1) to output, then orientation."""
    signs = np.ones(2)
    if len(comps):
        signs[: len(comps)] = orientation_signs(comps)
    return -signs


def _vote_totals(
    state: PolisState,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Agree, disagree and seen counts per column over all participants."""
    n, m = state.n_rows, state.n_cols
    vals = state.values[:n, :m]
    all_agree = (vals < 0).sum(axis=0).astype(np.float64)
    all_disagree = (vals > 0).sum(axis=0).astype(np.float64)
    all_seen = state.voted[:n, :m].sum(axis=0)
    return all_agree, all_disagree, all_seen


def _participants(
    state: PolisState, outcome: _TickOutcome, flip: NDArray[np.float64]
) -> tuple[ParticipantPoint, ...]:
    """Every participant (canonical order) with projection, group and flags."""
    labels = outcome.labels
    proj = outcome.projections * flip[None, :]
    row_canon = canonical_order(state.participant_ids)
    return tuple(
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


def _groups(
    state: PolisState,
    outcome: _TickOutcome,
    current: _GroupVotes,
    flip: NDArray[np.float64],
) -> tuple[Group, ...]:
    """The groups with their centres and representative statements."""
    mod_out, _meta = state.moderation()
    rep_st = repness_stats(current.agree, current.disagree, current.seen)
    # Column order for Pol.is iteration: our columns (encounter order).
    column_order = np.arange(state.n_cols, dtype=np.intp)
    groups: list[Group] = []
    clustering = outcome.groups
    for g in range(len(outcome.group_cluster_ids)):
        assert clustering is not None
        centre = clustering.centres[g] * flip
        groups.append(
            Group(
                id=g,
                members=int((outcome.labels == g).sum()),
                centre=(float(centre[0]), float(centre[1])),
                stability=None,
                representative=select_representative(
                    rep_st, g, state.statement_ids, column_order, mod_out
                ),
            )
        )
    return tuple(groups)


def _consensus(
    state: PolisState,
    current: _GroupVotes,
    n_groups: int,
    totals: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
) -> Consensus:
    """Majority lists over everyone, group-aware agreement and common ground."""
    m = state.n_cols
    ids = state.statement_ids
    mod_out, _meta = state.moderation()
    column_order = np.arange(m, dtype=np.intp)
    all_agree, all_disagree, all_seen = totals
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
    return Consensus(maj_agree, maj_disagree, group_aware, common)


def _statements(
    state: PolisState,
    outcome: _TickOutcome,
    previous_votes: _GroupVotes | None,
    current: _GroupVotes,
    flip: NDArray[np.float64],
    totals: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
) -> tuple[StatementPoint, ...]:
    """Every statement (canonical order): projection (step 7) and priority."""
    m = state.n_cols
    ids = state.statement_ids
    mod_out, meta = state.moderation()
    comps = outcome.comps
    if len(comps) >= 2:
        stmt = ((-1.0 - outcome.mu)[:, None] * comps.T) * np.sqrt(m)
    else:
        stmt = np.zeros((m, 2))
    extremity = np.sqrt((stmt * stmt).sum(axis=1))
    prev = previous_votes if previous_votes is not None else current
    priority = _priorities(prev, m, extremity, meta)
    all_seen = totals[2]
    stmt_out = stmt * flip[None, :]
    return tuple(
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
        for j in canonical_order(ids).tolist()
    )


def _priorities(
    prev: _GroupVotes,
    m: int,
    extremity: NDArray[np.float64],
    meta: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Priorities from the group votes of the previous tick (as Pol.is does)."""
    pa_sum = np.zeros(m)
    pd_sum = np.zeros(m)
    ps_sum = np.zeros(m)
    if len(prev.agree):
        width = min(prev.agree.shape[1], m)
        pa_sum[:width] = prev.agree.sum(axis=0)[:width]
        pd_sum[:width] = prev.disagree.sum(axis=0)[:width]
        ps_sum[:width] = prev.seen.sum(axis=0)[:width]
    return priorities(pa_sum, pd_sum, ps_sum, extremity, meta)


def _diagnostics(
    state: PolisState,
    outcome: _TickOutcome,
    params: dict[str, Any],
    trace: tuple[TraceTick, ...],
    flip: NDArray[np.float64],
    warn: list[str],
) -> Diagnostics:
    """How the map was made: variance, silhouettes, smoother, base clusters."""
    mod_out, _meta = state.moderation()
    total = float(np.trace(_centred_cov_trace(state, outcome.mu, mod_out)))
    explained: list[float | None] = [None, None]
    for i, lam in enumerate(state.pca_eigenvalues[:2]):
        explained[i] = lam / total if total > 0 else None
    smoother = state.smoother
    return Diagnostics(
        n_in_conv=int(state.in_conv[: state.n_rows].sum()),
        explained_variance=(explained[0], explained[1]),
        silhouette=dict(sorted(outcome.trace.silhouettes.items())),
        chosen_k_reason=_chosen_k_reason(state, outcome, params),
        smoother=None
        if smoother is None
        else {"last_k": smoother[0], "count": smoother[1], "smoothed_k": smoother[2]},
        ticks=len(trace) if params["replay"] else None,
        replay_window_ms=_window(params),
        reboot_before_final=bool(params["reboot_before_final"])
        if params["replay"]
        else None,
        base_clusters=_base_clusters(state, flip),
        group_cluster_ids=outcome.group_cluster_ids,
        stability=None,
        uniform_voters=0,
        warnings=tuple(warn),
    )


def _base_clusters(
    state: PolisState, flip: NDArray[np.float64]
) -> tuple[dict[str, Any], ...] | None:
    """The base clusters (members by participant id, output coordinates)."""
    base = state.base
    if base is None:
        return None
    centres = base.centres * flip[None, :]
    return tuple(
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


def _chosen_k_reason(
    state: PolisState, outcome: _TickOutcome, params: dict[str, Any]
) -> str:
    """Why the result has its number of groups, in words."""
    smoother = state.smoother
    best_k = outcome.trace.best_k
    n_groups = len(outcome.group_cluster_ids)
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
    return reason


def _window(params: dict[str, Any]) -> int | None:
    if not params["replay"] or params["replay_batch_votes"] is not None:
        return None
    return int(params["replay_window_ms"])
