"""``polis`` mode: Pol.is math, tick by tick, with REPLAY (spec §4).

Internally every number uses Pol.is's signs (agree = -1); the result is
converted at the boundary (agree = +1, then the output orientation rule).
Modules: ``_state`` (what a tick carries over, JSON), ``_tick`` (one tick),
``_pca`` (projection), ``_kmeans`` (clustering), ``_stats`` (repness,
consensus, priorities), ``_assemble`` (the result) and ``_fit`` (the drivers).
"""

from ._fit import fit_polis, tick_polis
from ._state import PolisState

__all__ = ["PolisState", "fit_polis", "tick_polis"]
