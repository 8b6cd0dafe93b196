"""Synthetic pools for benchmarks and tests (not used by the selection itself)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._model import Person, Quota


def synthetic_pool(
    pool_size: int,
    panel_size: int,
    values_per_feature: Sequence[int],
    *,
    slack: float = 0.1,
    seed: int = 0,
    household_share: float = 0.0,
) -> tuple[list[Person], list[Quota]]:
    """A random pool and quotas within ``slack`` of proportional representation.

    Feature values have uneven shares, and each feature after the first leans on
    the previous one (people are not independent draws), as in real pools. The
    quota of a value with pool share ``s`` is ``floor((1 - slack) * k * s)`` to
    ``ceil((1 + slack) * k * s)``. With ``household_share > 0`` that share of the
    people is paired into two-person households.
    """
    rng = np.random.default_rng(seed)
    columns: list[np.ndarray] = []
    for f_index, size in enumerate(values_per_feature):
        shares = rng.dirichlet(np.full(size, 2.0))
        if f_index == 0:
            column = rng.choice(size, size=pool_size, p=shares)
        else:
            previous = columns[-1]
            lean = rng.integers(0, size, size=int(previous.max()) + 1)
            independent = rng.choice(size, size=pool_size, p=shares)
            column = np.where(rng.random(pool_size) < 0.3, lean[previous], independent)
        columns.append(column)
    names = [f"f{i + 1}" for i in range(len(values_per_feature))]
    people: list[Person] = []
    paired = int(pool_size * household_share) // 2 * 2
    for index in range(pool_size):
        features = {
            names[f]: f"v{int(columns[f][index]) + 1}" for f in range(len(names))
        }
        household = f"h{index // 2}" if index < paired else None
        people.append(
            Person(id=f"p{index + 1}", features=features, household=household)
        )
    quotas: list[Quota] = []
    for f_index, name in enumerate(names):
        counts = np.bincount(columns[f_index], minlength=values_per_feature[f_index])
        for value in range(values_per_feature[f_index]):
            proportional = panel_size * counts[value] / pool_size
            low = math.floor((1 - slack) * proportional)
            high = min(math.ceil((1 + slack) * proportional), int(counts[value]))
            quotas.append(Quota(name, f"v{value + 1}", min(low, high), high))
    return people, quotas
