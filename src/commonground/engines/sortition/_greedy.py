"""The greedy stratified draw ("legacy" method), simulated to estimate its probabilities.

Kept for comparison: it is how many organisers selected panels before
LEXIMIN. One draw fills the panel seat by seat. While some quota value is still
below its minimum, the value whose remaining need is largest relative to the
people still available with it is served next, by a uniformly random available
person with that value; once every minimum is met, a uniformly random available
person is taken. A person becomes unavailable when taken, when any of their
values reaches its maximum, or when someone from their household is taken. A
draw that runs out of people, or ends with a minimum unmet, is discarded and
drawn again.

Its selection probabilities have no formula, so they are estimated from many
simulated draws (many at once, with numpy, counting people per type).
"""

from __future__ import annotations

import numpy as np

from ._fairness import TypeDistribution
from ._instance import Instance, IntArray
from ._model import SortitionError

BATCH = 2_000


def _simulate_batch(
    instance: Instance, draws: int, rng: np.random.Generator
) -> IntArray:
    """``draws`` attempted panels (people per type); failed draws are removed."""
    membership = instance.membership.astype(float)  # (Q, T)
    minimums = instance.minimums.astype(float)
    maximums = instance.maximums.astype(float)
    counts = instance.counts
    household_of = np.full(instance.type_count, -1, dtype=np.int64)
    for number, house in enumerate(instance.households):
        household_of[list(house)] = number
    available = np.tile(counts.astype(float), (draws, 1))  # (N, T)
    taken = np.zeros((draws, instance.type_count), dtype=np.int64)
    per_value = np.zeros((draws, len(minimums)))
    failed = np.zeros(draws, dtype=bool)
    rows = np.arange(draws)
    for _ in range(instance.panel_size):
        available_per_value = available @ membership.T  # (N, Q)
        need = np.maximum(minimums[None, :] - per_value, 0.0)
        failed |= ((need > 0) & (available_per_value == 0)).any(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            urgency = np.where(available_per_value > 0, need / available_per_value, 0.0)
        needy = need.max(axis=1) > 0
        target = urgency.argmax(axis=1)
        weights = np.where(
            needy[:, None], available * membership[target], available
        )  # (N, T)
        totals = weights.sum(axis=1)
        failed |= totals <= 0
        cumulative = np.cumsum(weights, axis=1)
        pick = rng.random(draws) * np.where(totals > 0, totals, 1.0)
        chosen = (cumulative <= pick[:, None]).sum(axis=1)
        chosen = np.minimum(chosen, instance.type_count - 1)
        chosen = np.where(failed, 0, chosen)
        live = ~failed
        taken[rows[live], chosen[live]] += 1
        available[rows[live], chosen[live]] -= 1
        per_value[live] += membership.T[chosen[live]]
        full = per_value >= maximums[None, :]  # (N, Q)
        blocked = (full.astype(float) @ membership) > 0  # (N, T)
        available[blocked] = 0
        if len(instance.households):
            houses = household_of[chosen]
            for draw in np.flatnonzero(live & (houses >= 0)):
                house = instance.households[houses[draw]]
                available[draw, list(house)] = 0
    per_value_final = taken @ instance.membership.T
    ok = ~failed
    ok &= (per_value_final >= instance.minimums).all(axis=1)
    ok &= (per_value_final <= instance.maximums).all(axis=1)
    ok &= taken.sum(axis=1) == instance.panel_size
    return taken[ok]


def legacy(
    instance: Instance, rng: np.random.Generator, draws: int = 10_000
) -> TypeDistribution:
    """The empirical distribution of ``draws`` successful greedy draws."""
    if draws < 1:
        raise SortitionError("the legacy simulation needs at least one draw")
    collected: list[IntArray] = []
    have = 0
    attempts = 0
    while have < draws:
        batch = min(BATCH, max(draws - have, 1))
        attempts += batch
        panels = _simulate_batch(instance, batch, rng)
        if len(panels):
            collected.append(panels[: draws - have])
            have += len(collected[-1])
        if attempts >= 20 * draws and have < draws // 2:
            raise SortitionError(
                "the greedy (legacy) draw fails too often on these quotas to be "
                "simulated; use leximin or maximin"
            )
    all_panels = np.concatenate(collected)
    unique, frequency = np.unique(all_panels, axis=0, return_counts=True)
    probabilities = frequency / frequency.sum()
    shares = (probabilities @ unique.astype(float)) / instance.counts
    return TypeDistribution(
        panels=unique.astype(np.int64), probabilities=probabilities, shares=shares
    )
