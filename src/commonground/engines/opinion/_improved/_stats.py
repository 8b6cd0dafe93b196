"""Statistics of the ``improved`` mode on group vote counts (spec §5.7–5.9).

Every function works on count arrays: ``agree``, ``disagree`` and ``seen``
(votes including passes) of shape ``(k, n_statements)`` per group, or of shape
``(n_statements,)`` for everyone.  Columns are in canonical statement order;
every sort below is stable, so ties keep column order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

__all__ = [
    "Z_90",
    "GroupAware",
    "Representative",
    "benjamini_hochberg",
    "group_aware",
    "majority",
    "priority",
    "representative",
]

Z_90 = 1.2816
Counts = NDArray[np.float64]


def benjamini_hochberg(p_values: NDArray[np.float64]) -> NDArray[np.float64]:
    """BH-adjusted p-values (step-up, monotone, capped at 1), same order as input."""
    m = len(p_values)
    if m == 0:
        return np.zeros(0)
    order = np.argsort(p_values, kind="stable")
    ranked = p_values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    return result


def _proportion_test(successes: Counts, trials: Counts) -> Counts:
    """Pol.is's one-proportion statistic pat/pdt (spec §4.3)."""
    return 2.0 * np.sqrt(trials + 1.0) * ((successes + 1.0) / (trials + 1.0) - 0.5)


@dataclass(frozen=True, slots=True)
class Representative:
    """One representative statement of a group (indices into the columns)."""

    column: int
    agree: bool
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    q_value: float


def representative(
    agree: Counts,
    disagree: Counts,
    seen: Counts,
    *,
    fdr: float,
    max_representative: int,
) -> list[list[Representative]]:
    """Representative statements per group (spec §5.7).

    One-sided two-proportion z test of the group against the other groups
    with Jeffreys pseudo-counts (+½ successes, +1 trials), for both
    directions; Benjamini–Hochberg over every test; kept when q ≤ ``fdr``,
    ``n_trials`` ≥ 3 and the group proportion > ½; ranked by the difference
    of proportions (ties: column order, agree first).
    """
    k, n = seen.shape
    if k < 2 or n == 0:
        return [[] for _ in range(k)]
    total_seen = seen.sum(axis=0)
    tests = []
    for successes in (agree, disagree):
        rest_success = successes.sum(axis=0)[None, :] - successes
        rest_seen = total_seen[None, :] - seen
        p_group = (successes + 0.5) / (seen + 1.0)
        p_rest = (rest_success + 0.5) / (rest_seen + 1.0)
        pooled = (successes + rest_success + 1.0) / (seen + rest_seen + 2.0)
        spread = np.sqrt(
            pooled * (1.0 - pooled) * (1.0 / (seen + 1.0) + 1.0 / (rest_seen + 1.0))
        )
        z = (p_group - p_rest) / spread
        tests.append((successes, p_group, p_rest, z))
    z_all = np.stack([t[3] for t in tests])  # (2, k, n)
    p_values = ndtr(-z_all)
    q_values = benjamini_hochberg(p_values.ravel()).reshape(p_values.shape)
    result: list[list[Representative]] = []
    for group in range(k):
        candidates: list[tuple[float, int, int]] = []
        for direction in range(2):
            successes, p_group, p_rest, _ = tests[direction]
            keep = (
                (q_values[direction, group] <= fdr)
                & (seen[group] >= 3)
                & (p_group[group] > 0.5)
            )
            for column in np.flatnonzero(keep).tolist():
                difference = float(p_group[group, column] - p_rest[group, column])
                candidates.append((-difference, column, direction))
        candidates.sort()
        chosen: list[Representative] = []
        for _, column, direction in candidates[:max_representative]:
            successes, p_group, p_rest, z = tests[direction]
            n_success = float(successes[group, column])
            n_trials = float(seen[group, column])
            chosen.append(
                Representative(
                    column=column,
                    agree=direction == 0,
                    n_success=int(n_success),
                    n_trials=int(n_trials),
                    p_success=float(p_group[group, column]),
                    p_test=float(
                        _proportion_test(np.array(n_success), np.array(n_trials))
                    ),
                    repness=float(p_group[group, column] / p_rest[group, column]),
                    repness_test=float(z[group, column]),
                    q_value=float(q_values[direction, group, column]),
                )
            )
        result.append(chosen)
    return result


def majority(
    agree: Counts, disagree: Counts, seen: Counts, *, limit: int = 5
) -> tuple[list[tuple[int, int, int, float, float]], ...]:
    """Majority consensus lists (spec §4.3) over everyone.

    Entries are ``(column, n_success, n_trials, p_success, p_test)``.
    """
    lists = []
    for successes in (agree, disagree):
        p = (successes + 1.0) / (seen + 2.0)
        test = _proportion_test(successes, seen)
        keep = np.flatnonzero((p > 0.5) & (test > Z_90))
        order = keep[np.argsort(-(p[keep] * test[keep]), kind="stable")][:limit]
        lists.append(
            [
                (
                    int(c),
                    int(successes[c]),
                    int(seen[c]),
                    float(p[c]),
                    float(test[c]),
                )
                for c in order.tolist()
            ]
        )
    return lists[0], lists[1]


@dataclass(frozen=True, slots=True)
class GroupAware:
    """Group-aware consensus per column and the common-ground columns."""

    agree: NDArray[np.float64]
    disagree: NDArray[np.float64]
    net_min: NDArray[np.float64]
    common_ground: list[int]


def group_aware(
    agree: Counts, disagree: Counts, seen: Counts, *, limit: int = 10
) -> GroupAware:
    """Geometric means of per-group agree/disagree rates and min net agreement.

    With a_g = (A_g + ½)/(S_g + 1) and d_g likewise: ``agree`` = geometric
    mean of a_g, ``disagree`` of d_g, ``net_min`` = min_g (a_g − d_g).  Common
    ground: every S_g ≥ 3 and net_min ≥ 0.3, by net_min then agree, descending.
    """
    k, n = seen.shape
    if k == 0:
        empty = np.zeros(n)
        return GroupAware(empty, empty.copy(), empty.copy(), [])
    rate_agree = (agree + 0.5) / (seen + 1.0)
    rate_disagree = (disagree + 0.5) / (seen + 1.0)
    mean_agree = np.exp(np.log(rate_agree).mean(axis=0))
    mean_disagree = np.exp(np.log(rate_disagree).mean(axis=0))
    net_min = (rate_agree - rate_disagree).min(axis=0)
    eligible = np.flatnonzero((seen >= 3).all(axis=0) & (net_min >= 0.3))
    order = np.lexsort((-mean_agree[eligible], -net_min[eligible]))
    common = eligible[order][:limit].tolist()
    return GroupAware(mean_agree, mean_disagree, net_min, common)


def priority(
    agree: Counts, disagree: Counts, seen: Counts, extremity: Counts
) -> Counts:
    """Comment priority (spec §4.3) from counts summed over groups."""
    passes = seen - agree - disagree
    importance = (
        (1.0 - (passes + 1.0) / (seen + 2.0))
        * (extremity + 1.0)
        * (agree + 1.0)
        / (seen + 2.0)
    )
    boosted = importance * (1.0 + 8.0 * np.power(2.0, -seen / 5.0))
    result: Counts = boosted * boosted
    return result
