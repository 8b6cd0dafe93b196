"""Statistics of ``polis`` mode (spec §4.3): repness, consensus and priorities.

Pol.is's ``conv-repness``, ``select-rep-comments``,
``select-consensus-comments`` and ``priority-metric``, on vote counts in
Pol.is's internal signs (agree = -1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._result import MajorityStatement, RepresentativeStatement

Z_90 = 1.2816


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
