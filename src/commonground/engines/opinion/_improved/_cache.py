"""What the ``improved`` mode hands back for ``partial_fit``, and its parameters.

:class:`ImprovedCache` holds the learned arrays read by the estimator plus
reusable work (hash ranks, the canonical vote matrix); it only speeds a later
fit up, the result is the one a fresh fit gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._matrix import MatrixMemo

__all__ = ["DEFAULTS", "ImprovedCache", "param"]

DEFAULTS: dict[str, Any] = {
    "min_votes": 7,
    "max_groups": 8,
    "min_group_share": 0.03,
    "n_init": 4,
    "bootstrap": 10,
    "fdr": 0.10,
    "max_representative": 5,
}


@dataclass(eq=False)
class ImprovedCache:
    """What ``partial_fit`` hands back: learned arrays plus reusable work.

    ``column_ids``, ``center`` and ``components`` (output orientation) are
    read by the estimator, and so may ``participant_ids``, ``embedding``,
    ``labels`` (-1 = no group) and ``in_conv`` (canonical participant order,
    equal to the result's participants); ``hash_ranks`` maps participant id to its
    ``blake2b`` rank key for ``hash_seed``.
    """

    column_ids: tuple[str, ...] = ()
    center: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    components: NDArray[np.float64] = field(default_factory=lambda: np.zeros((2, 0)))
    n_ticks: int = 1
    hash_seed: int | None = None
    hash_ranks: dict[str, int] = field(default_factory=dict)
    matrix: MatrixMemo | None = None
    participant_ids: tuple[str, ...] = ()
    embedding: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 2)))
    labels: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )
    in_conv: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))


def param(params: Mapping[str, Any], name: str) -> Any:
    """``params[name]``, or its default when absent or None."""
    value = params.get(name)
    return DEFAULTS[name] if value is None else value
