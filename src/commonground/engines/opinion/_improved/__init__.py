"""The ``improved`` mode: deterministic, stateless opinion maps (spec §5).

The result depends only on the final votes, the statement table, the
parameters and the seed: rows and columns are put in canonical id order,
every random draw comes from ``Generator(PCG64(SeedSequence([seed, purpose,
k, run])))`` and every sort is stable.  ``partial_fit`` passes back the cache
returned here; it only speeds things up (warm-started eigensolver, cached
hash ranks), the result is the one a fresh :func:`fit_improved` gives.
Modules: ``_matrix`` (votes), ``_pca`` and ``_projection`` (components and
coordinates), ``_kmeans`` and ``_choice`` (groups), ``_stats``, ``_fit`` (the
steps), ``_assemble`` (the result) and ``_cache``.
"""

from ._cache import ImprovedCache
from ._fit import fit_improved

__all__ = ["ImprovedCache", "fit_improved"]
