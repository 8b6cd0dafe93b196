"""Seeded generator of hard sortition pools, as an organiser meets them.

A real pool is skewed against the population it should represent: volunteers are
older, more educated, more urban... while the quotas follow the census. So the
generator draws, for each of six features, a *population* share per value
(the quotas' target) and a *pool* share tilted away from it, with features
correlated with one another (a value of one feature leans towards a value of the
next). Quotas are then set around ``k * population share``:

* ``tight``: one seat either side of the rounded target (what organisers write when
  the commissioning body asks for "exactly representative"),
* ``loose``: 20% either side, at least one seat.

A quota never asks for more people of a value than the pool has. With six features
most people have a profile of their own, so a pool of 5,000 has well over a
thousand types: the solver cannot lean on large groups of interchangeable people.

    >>> people, quotas = hard_pool(400, 40, quotas="tight", seed=0)
    >>> len(people), len({q.feature for q in quotas})
    (400, 6)

``SHAPES`` lists the benchmark's shapes (name: pool size, panel size, quota style).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from commonground.engines.sortition import Person, Quota

#: gender, age band, region, education, ethnicity, urban/rural
FEATURES: tuple[tuple[str, int], ...] = (
    ("gender", 2),
    ("age", 5),
    ("region", 6),
    ("education", 4),
    ("ethnicity", 4),
    ("area", 3),
)

SHAPES: dict[str, tuple[int, int, str]] = {
    "hard_400_40_tight": (400, 40, "tight"),
    "hard_400_40_loose": (400, 40, "loose"),
    "hard_1000_80_tight": (1000, 80, "tight"),
    "hard_1000_80_loose": (1000, 80, "loose"),
    "hard_5000_100_tight": (5000, 100, "tight"),
    "hard_5000_100_loose": (5000, 100, "loose"),
}


def hard_pool(
    pool_size: int,
    panel_size: int,
    *,
    quotas: str = "tight",
    seed: int = 0,
    features: Sequence[tuple[str, int]] = FEATURES,
    skew: float = 0.7,
) -> tuple[list[Person], list[Quota]]:
    """A seeded pool and its quotas (see the module notes).

    ``skew`` is the standard deviation of the log-factor by which each value's
    pool share departs from its population share.
    """
    if quotas not in ("tight", "loose"):
        raise ValueError("quotas must be 'tight' or 'loose'")
    rng = np.random.default_rng(seed)
    columns: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for index, (_, size) in enumerate(features):
        population = rng.dirichlet(np.full(size, 4.0))
        tilted = population * np.exp(rng.normal(0.0, skew, size))
        pool_share = tilted / tilted.sum()
        independent = rng.choice(size, size=pool_size, p=pool_share)
        if index == 0:
            column = independent
        else:
            previous = columns[-1]
            lean = rng.integers(0, size, size=int(previous.max()) + 1)
            column = np.where(rng.random(pool_size) < 0.35, lean[previous], independent)
        columns.append(column)
        targets.append(population)
    people = [
        Person(
            id=f"p{row + 1}",
            features={
                name: f"{name}{int(columns[f][row]) + 1}"
                for f, (name, _) in enumerate(features)
            },
        )
        for row in range(pool_size)
    ]
    result: list[Quota] = []
    for f, (name, size) in enumerate(features):
        have = np.bincount(columns[f], minlength=size)
        for value in range(size):
            target = panel_size * float(targets[f][value])
            if quotas == "tight":
                low, high = round(target) - 1, round(target) + 1
            else:
                spread = max(1.0, 0.2 * target)
                low, high = math.floor(target - spread), math.ceil(target + spread)
            available = int(have[value])
            low = max(0, min(low, available))
            high = max(low, min(high, available))
            result.append(Quota(name, f"{name}{value + 1}", low, high))
    return people, result


def shape(name: str, seed: int = 0) -> tuple[list[Person], list[Quota], int]:
    """People, quotas and panel size of one of ``SHAPES``."""
    pool_size, panel_size, style = SHAPES[name]
    people, quotas = hard_pool(pool_size, panel_size, quotas=style, seed=seed)
    return people, quotas, panel_size
