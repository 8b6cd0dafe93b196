"""Infeasible quotas: name the conflict and propose the smallest relaxation."""

from __future__ import annotations

import highspy
import numpy as np

from ._highs import new_highs
from ._instance import Instance
from ._model import InfeasibleQuotasError, QuotaChange


def _household_count(instance: Instance) -> int:
    in_houses = {t for house in instance.households for t in house}
    singles = sum(
        int(instance.counts[t])
        for t in range(instance.type_count)
        if t not in in_houses
    )
    return singles + len(instance.households)


def explain_infeasibility(
    instance: Instance, *, time_limit: float = float("inf")
) -> InfeasibleQuotasError:
    """Build the error for quotas no panel satisfies.

    Solves the integer program: choose a panel and non-negative amounts by which
    each minimum is lowered and each maximum raised, minimising the total
    change. Its solution is the smallest relaxation (in seats) that makes the
    quotas satisfiable; the features it touches are the conflicting ones.
    """
    k = instance.panel_size
    capacity = _household_count(instance)
    if k > capacity:
        what = "households" if instance.households else "people"
        return InfeasibleQuotasError(
            f"the panel needs {k} people but the pool has only {capacity} {what}; "
            "no change to the quotas can fix this"
        )
    type_count = instance.type_count
    quota_count = len(instance.quotas)
    highs = new_highs()
    highs.setOptionValue("time_limit", max(min(time_limit, 1e6), 1.0))
    for t in range(type_count):
        highs.addVar(0.0, float(instance.counts[t]))
    for quota in instance.quotas:  # lowering of the minimum
        highs.addVar(0.0, float(quota.minimum))
    for _ in instance.quotas:  # raising of the maximum
        highs.addVar(0.0, highs.inf)
    total = type_count + 2 * quota_count
    highs.changeColsIntegrality(
        total,
        np.arange(total, dtype=np.int32),
        np.array([highspy.HighsVarType.kInteger] * total),
    )
    costs = np.concatenate([np.zeros(type_count), np.ones(2 * quota_count)])
    highs.changeColsCost(total, np.arange(total, dtype=np.int32), costs)
    types = np.arange(type_count, dtype=np.int32)
    highs.addRow(float(k), float(k), type_count, types, np.ones(type_count))
    for row, quota in enumerate(instance.quotas):
        inside = np.flatnonzero(instance.membership[row]).astype(np.int32)
        lower_col = np.int32(type_count + row)
        upper_col = np.int32(type_count + quota_count + row)
        highs.addRow(
            float(quota.minimum),
            highs.inf,
            len(inside) + 1,
            np.append(inside, lower_col),
            np.ones(len(inside) + 1),
        )
        highs.addRow(
            -highs.inf,
            float(quota.maximum),
            len(inside) + 1,
            np.append(inside, upper_col),
            np.append(np.ones(len(inside)), -1.0),
        )
    for house in instance.households:
        idx = np.array(house, dtype=np.int32)
        highs.addRow(-highs.inf, 1.0, len(idx), idx, np.ones(len(idx)))
    highs.run()
    status = highs.getModelStatus()
    proven = status == highspy.HighsModelStatus.kOptimal
    if not proven and highs.getInfo().primal_solution_status != 2:
        return InfeasibleQuotasError(
            f"no panel of {k} from this pool meets every quota, and no relaxation "
            "of the quotas was found"
            + (
                " within the time limit"
                if status == highspy.HighsModelStatus.kTimeLimit
                else ""
            )
        )
    values = np.rint(np.asarray(highs.getSolution().col_value)).astype(np.int64)
    changes: list[QuotaChange] = []
    for row, quota in enumerate(instance.quotas):
        lower = int(values[type_count + row])
        upper = int(values[type_count + quota_count + row])
        if lower:
            changes.append(
                QuotaChange(
                    quota.feature,
                    quota.value,
                    "min",
                    quota.minimum,
                    quota.minimum - lower,
                )
            )
        if upper:
            changes.append(
                QuotaChange(
                    quota.feature,
                    quota.value,
                    "max",
                    quota.maximum,
                    quota.maximum + upper,
                )
            )
    features = tuple(dict.fromkeys(change.feature for change in changes))
    steps = "; ".join(
        f"{c.feature}={c.value}: "
        + ("lower min" if c.bound == "min" else "raise max")
        + f" from {c.old} to {c.new}"
        for c in changes
    )
    seats = sum(abs(c.new - c.old) for c in changes)
    message = (
        f"no panel of {k} from this pool meets every quota. "
        f"Conflicting features: {', '.join(features)}. "
        + (
            f"Smallest relaxation (total change {seats}): {steps}."
            if proven
            else f"A relaxation (total change {seats}, the smallest one was not "
            f"proven within the time limit): {steps}."
        )
    )
    return InfeasibleQuotasError(
        message, conflicting_features=features, relaxation=tuple(changes)
    )
