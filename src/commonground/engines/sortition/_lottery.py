"""From a distribution over panels to a uniform lottery and to people.

Fair sortition made transparent (Flanigan, Kehne and Procaccia, NeurIPS 2021): a
uniform lottery over ``m`` panels, each drawn with probability ``1/m``, is easy to
run in public. It is obtained here in two steps.

1. Dependent (pipage) rounding of ``m * p_j`` for the panels ``j`` of the
   type-level distribution: pairs of fractional values are moved in opposite
   directions until all are integers, so the total stays ``m``, every count is
   ``m * p_j`` rounded down or up, and its expectation is ``m * p_j``.
2. People within a type are given their type's seats in turn: each type's
   members stand in a circle (in an order fixed by the seed) and every lottery
   panel takes the next ``x_t`` of them. So members of a type are chosen by
   numbers of lottery panels that differ by at most one.

Bound (proven by the construction): a person of type ``t`` has lottery
probability within ``(1 + sum_j a_tj) / m`` of their probability, the sum over
the panels ``j`` whose ``m * p_j`` is not an integer, with ``a_tj = x_jt / c_t``
the probability that the panel picks a given member of the type; the ``1`` is
dropped for types of one person. Each rounded count moves by less than one, which
moves the type's average by at most ``a_tj / m``; the turn-taking puts each
member within ``1/m`` of the average.
"""

from __future__ import annotations

import numpy as np

from ._fairness import TypeDistribution
from ._instance import FloatArray, Instance, IntArray

INTEGER_TOLERANCE = 1e-9


def dependent_rounding(values: FloatArray, rng: np.random.Generator) -> IntArray:
    """Round non-negative values with an integer sum, keeping the sum.

    Each result is the value rounded down or up and equals the value in
    expectation.
    """
    remaining = np.asarray(values, dtype=float).copy()
    near = np.abs(remaining - np.rint(remaining)) < INTEGER_TOLERANCE
    remaining[near] = np.rint(remaining[near])
    fractional = [int(j) for j in np.flatnonzero(~near)]
    while len(fractional) >= 2:
        i, j = fractional[-1], fractional[-2]
        part_i = remaining[i] - np.floor(remaining[i])
        part_j = remaining[j] - np.floor(remaining[j])
        up_i = min(1.0 - part_i, part_j)  # i rises, j falls
        down_i = min(part_i, 1.0 - part_j)  # i falls, j rises
        if rng.random() * (up_i + down_i) < down_i:
            remaining[i] += up_i
            remaining[j] -= up_i
        else:
            remaining[i] -= down_i
            remaining[j] += down_i
        for index in (i, j):
            if abs(remaining[index] - round(remaining[index])) < INTEGER_TOLERANCE:
                remaining[index] = round(remaining[index])
                fractional.remove(index)
    if fractional:  # round-off left one value a hair away from an integer
        last = fractional[0]
        remaining[last] = round(remaining[last])
    return np.rint(remaining).astype(np.int64)


def member_orders(instance: Instance, rng: np.random.Generator) -> list[IntArray]:
    """For each type, its members (person indices) in a seeded random order."""
    return [
        np.asarray(rng.permutation(np.array(group, dtype=np.int64)))
        for group in instance.members
    ]


def lottery_panels(
    instance: Instance,
    distribution: TypeDistribution,
    size: int,
    orders: list[IntArray],
    rng: np.random.Generator,
) -> tuple[IntArray, FloatArray]:
    """``size`` panels of person indices (rows sorted) and each type's bound."""
    copies = dependent_rounding(size * distribution.probabilities, rng)
    slots = np.repeat(np.arange(len(copies)), copies)
    type_panels = distribution.panels[slots]  # (m, T)
    seats = np.zeros((size, instance.panel_size), dtype=np.int64)
    filled = np.zeros(size, dtype=np.int64)
    for t, order in enumerate(orders):
        takes = type_panels[:, t]
        if not takes.any():
            continue
        count = len(order)
        starts = np.concatenate(([0], np.cumsum(takes)[:-1])) % count
        width = int(takes.max())
        offsets = np.arange(width)
        chosen = order[(starts[:, None] + offsets[None, :]) % count]
        mask = offsets[None, :] < takes[:, None]
        rows, cols = np.nonzero(mask)
        seats[rows, filled[rows] + cols] = chosen[rows, cols]
        filled += takes
    seats.sort(axis=1)
    shares = distribution.panels / instance.counts[None, :]
    scaled = size * distribution.probabilities
    # any count not exactly an integer may have moved (by less than one)
    fractional = scaled != np.rint(scaled)
    bounds = (
        (instance.counts > 1).astype(float) + shares[fractional].sum(axis=0)
    ) / size
    return seats, bounds


def expand_to_people(
    instance: Instance, distribution: TypeDistribution, orders: list[IntArray]
) -> tuple[list[IntArray], list[float]]:
    """The type-level distribution as an exactly equivalent one over people.

    A panel taking ``x`` of a type's ``c`` members is split into sub-panels by a
    rotation ``u`` uniform on [0, 1): the type's members stand in a circle and the
    sub-panel takes the ``x`` consecutive members starting at position
    ``x * floor(u * c / g) mod c``, with ``g = gcd(x, c)``. These ``c / g``
    windows cover every member exactly ``x / g`` times, so each member is chosen
    with probability ``x / c``. All types share the same ``u``, so the sub-panels
    are the intervals between the union of the types' breakpoints.
    """
    people_panels: list[IntArray] = []
    probabilities: list[float] = []
    counts = instance.counts
    for panel, weight in zip(
        distribution.panels, distribution.probabilities, strict=True
    ):
        partial = np.flatnonzero((panel > 0) & (panel < counts))
        whole = np.flatnonzero(panel == counts)
        fixed_people = (
            np.concatenate([orders[t] for t in whole])
            if len(whole)
            else np.zeros(0, np.int64)
        )
        if not len(partial):
            people_panels.append(np.sort(fixed_people))
            probabilities.append(float(weight))
            continue
        periods = [int(counts[t] // np.gcd(panel[t], counts[t])) for t in partial]
        cuts = np.unique(
            np.round(np.concatenate([np.arange(p) / p for p in periods] + [[1.0]]), 13)
        )
        middles = (cuts[:-1] + cuts[1:]) / 2
        widths = np.diff(cuts)
        blocks = [np.broadcast_to(fixed_people, (len(middles), len(fixed_people)))]
        for t, period in zip(partial, periods, strict=True):
            count, take = int(counts[t]), int(panel[t])
            starts = (np.floor(middles * period).astype(np.int64) * take) % count
            blocks.append(
                orders[t][(starts[:, None] + np.arange(take)[None, :]) % count]
            )
        rows = np.sort(np.concatenate(blocks, axis=1), axis=1)
        people_panels.extend(rows)
        probabilities.extend((float(weight) * widths).tolist())
    return people_panels, probabilities
