"""Cheap extra columns: random walks of one-for-one swaps from a good panel.

Pricing returns one optimal panel, but when many types carry no dual weight
there are countless panels just as good that differ in who fills the remaining
seats. Adding a spread of them in one round lets the linear program share
probability among those people without a round (and an integer program) per
panel. A swap takes one person of type ``a`` out and one of type ``b`` in; it is
allowed when every quota and household rule still holds and the panel's value
(total weight) stays above ``floor``, so every panel met still improves the
linear program.
"""

from __future__ import annotations

import numpy as np

from ._instance import FloatArray, Instance, IntArray


class SwapWalker:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.membership = instance.membership
        self.minimums = instance.minimums
        self.maximums = instance.maximums
        self.household_of = np.full(instance.type_count, -1, dtype=np.int64)
        for number, house in enumerate(instance.households):
            self.household_of[list(house)] = number

    def walk(
        self,
        start: IntArray,
        weights: FloatArray,
        rng: np.random.Generator,
        *,
        panels: int,
        spacing: int,
        floor: float = -np.inf,
    ) -> list[IntArray]:
        """Up to ``panels`` panels met every ``spacing`` swaps along a random walk."""
        instance = self.instance
        x = start.copy()
        per_value = self.membership @ x
        found: list[IntArray] = []
        house_load = np.zeros(len(instance.households), dtype=np.int64)
        if len(instance.households):
            members = self.household_of >= 0
            np.add.at(house_load, self.household_of[members], x[members])
        value = float(np.dot(weights, x))
        steps = 0
        attempts = 0
        while len(found) < panels and attempts < panels * spacing * 4:
            attempts += 1
            chosen = np.flatnonzero(x)
            a = int(chosen[rng.integers(len(chosen))])
            without = per_value - self.membership[:, a]
            after = without[:, None] + self.membership  # (Q, T)
            ok = (
                (after >= self.minimums[:, None]) & (after <= self.maximums[:, None])
            ).all(axis=0)
            ok &= x < instance.counts
            ok &= value + weights - weights[a] > floor
            ok[a] = False
            if len(instance.households):
                house_a = self.household_of[a]
                load = house_load[self.household_of]
                if house_a >= 0:
                    load = load - (self.household_of == house_a)
                ok &= (self.household_of < 0) | (load == 0)
            options = np.flatnonzero(ok)
            if not len(options):
                continue
            b = int(options[rng.integers(len(options))])
            x[a] -= 1
            x[b] += 1
            value += float(weights[b] - weights[a])
            per_value = without + self.membership[:, b]
            if self.household_of[a] >= 0:
                house_load[self.household_of[a]] -= 1
            if self.household_of[b] >= 0:
                house_load[self.household_of[b]] += 1
            steps += 1
            if steps % spacing == 0:
                found.append(x.copy())
        return found
