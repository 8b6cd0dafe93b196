"""MAXIMIN and LEXIMIN distributions over panels.

After Flanigan, Gölz, Gupta, Hennig and Procaccia, "Fair algorithms for selecting
citizens' assemblies", Nature 596 (2021). Everything is computed per *type*
(see ``_instance``): ``share[t]`` is the selection probability of each person of
type ``t``, ``c_t`` the number of people of the type, and a panel is the number
``x_t`` of people it takes from each type.

The paper's method runs column generation stage by stage over panels: a linear
program over the panels found so far, an integer program priced by its duals
for the next panel, per LEXIMIN level. On hard pools (many types, tight quotas)
that needs an integer program per panel of the final distribution and per stage,
and it does not finish. This engine gets the same answer in another order:

1. ``_relaxed.RelaxedLeximin``: the LEXIMIN point of the *relaxed* polytope of
   expected seats per type (small linear programs, one variable per type).
   Every level it reports is an upper bound for the true one.
2. ``_decomposition.Decomposer``: write that point as a mixture of panels. If it
   succeeds, the relaxed point is achievable, so it is the LEXIMIN point of the
   panels too (the true optimum cannot beat the relaxed one): exact, and the
   mixture is the distribution. If it fails, it returns an inequality every
   mixture of panels meets and the point breaks (a cut, proved by HiGHS's integer
   program); step 1 runs again with the cut, and so on.

MAXIMIN uses the same route: the LEXIMIN distribution maximises the smallest
probability too.

Nothing here depends on the clock unless the caller sets a time limit: a
published draw must give the same lottery file on any machine. (An earlier
version first tried one integer program for a "uniform design" under a fixed
60-second limit; whether it finished depended on the machine's speed, and so did
the distribution, so it is gone. The route below is fast on those pools too.)

With a time limit, work that stops before step 2 succeeds falls back to the best
mixture of the panels found so far for the smallest probability, and reports the
certified gap to the bound of step 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from ._decomposition import Cut, Decomposer
from ._highs import PanelFinder, new_highs
from ._instance import FloatArray, Instance, IntArray
from ._model import SortitionError, SortitionTimeLimitError
from ._progress import Budget, OutOfTime
from ._relaxed import RelaxedLeximin, set_lp_tolerances

#: at most this many cuts before giving up
MAX_CUTS = 500
#: seconds for the fallback program once the time limit has passed
BEST_KNOWN_TIME_LIMIT = 30.0


@dataclass
class FairnessTrace:
    """What the solver did, for the result's trace."""

    stages: list[tuple[float, int]] = field(default_factory=list)
    linear_programs: int = 0
    pricing_problems: int = 0
    panels_generated: int = 0
    #: inequalities added to the relaxation (0: its LEXIMIN point was achievable)
    cuts: int = 0
    #: panels found by peeling, and restarts of the column generation behind it
    peeled: int = 0
    backtracks: int = 0
    #: "optimal", or "time_limit" when the work stopped at the time limit
    status: str = "optimal"
    #: wall-clock seconds by kind of work: "relaxation" (its linear programs),
    #: "linear", "integer" and "rounding" (while writing the point as panels);
    #: for profiling only, never in the published result (it would not repeat)
    seconds: dict[str, float] = field(default_factory=dict)
    #: proven upper bound on the smallest probability, and how far the result's
    #: smallest probability may be below the optimum (0 when optimal)
    bound: float | None = None
    gap: float = 0.0


@dataclass(frozen=True)
class TypeDistribution:
    """A distribution over panels given as people per type."""

    panels: IntArray  # (P, T)
    probabilities: FloatArray  # (P,)
    shares: FloatArray  # (T,) selection probability of each person of a type


def _distribution(
    instance: Instance, panels: list[IntArray], weights: FloatArray
) -> TypeDistribution:
    """Merge repeated panels, check every one, compute the shares."""
    merged: dict[bytes, tuple[IntArray, float]] = {}
    for panel, weight in zip(panels, weights, strict=True):
        if weight <= 0:
            continue
        if not instance.panel_is_valid(panel):
            raise SortitionError("internal error: a panel breaks the quotas")
        key = panel.tobytes()
        previous = merged.get(key)
        merged[key] = (panel, weight + (previous[1] if previous else 0.0))
    matrix = np.array([panel for panel, _ in merged.values()], dtype=np.int64)
    probabilities = np.array([weight for _, weight in merged.values()])
    probabilities = probabilities / probabilities.sum()
    shares = (probabilities @ matrix.astype(float)) / instance.counts
    return TypeDistribution(panels=matrix, probabilities=probabilities, shares=shares)


def _best_known(instance: Instance, panels: list[IntArray]) -> TypeDistribution | None:
    """The mixture of known panels with the largest smallest probability.

    Given at most ``BEST_KNOWN_TIME_LIMIT`` seconds: it runs after the time limit.
    """
    unique = list({panel.tobytes(): panel for panel in panels}.values())
    if not unique:
        return None
    type_count = instance.type_count
    inverse = 1.0 / instance.counts.astype(float)
    highs = new_highs()
    set_lp_tolerances(highs)
    highs.setOptionValue("time_limit", BEST_KNOWN_TIME_LIMIT)
    inf = highs.inf
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.addRow(1.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))
    highs.addRows(
        type_count,
        np.zeros(type_count),
        np.full(type_count, inf),
        0,
        np.zeros(type_count, dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([]),
    )
    highs.addCol(
        1.0,
        0.0,
        1.0,
        type_count,
        np.arange(1, type_count + 1, dtype=np.int32),
        -np.ones(type_count),
    )
    starts, indices, values, count = [], [], [], 0
    for panel in unique:
        taken = np.flatnonzero(panel)
        starts.append(count)
        indices.append(np.concatenate([[0], taken + 1]).astype(np.int32))
        values.append(np.concatenate([[1.0], panel[taken] * inverse[taken]]))
        count += len(taken) + 1
    highs.addCols(
        len(unique),
        np.zeros(len(unique)),
        np.zeros(len(unique)),
        np.full(len(unique), inf),
        count,
        np.array(starts, dtype=np.int32),
        np.concatenate(indices),
        np.concatenate(values),
    )
    highs.run()
    if highs.getInfo().primal_solution_status != 2:
        return None
    lambdas = np.maximum(np.asarray(highs.getSolution().col_value)[1:], 0.0)
    if lambdas.sum() <= 0:
        return None
    return _distribution(instance, unique, lambdas / lambdas.sum())


def leximin(
    instance: Instance,
    rng: np.random.Generator,
    trace: FairnessTrace | None = None,
    budget: Budget | None = None,
) -> TypeDistribution:
    """The distribution whose sorted probabilities are lexicographically largest."""
    trace = trace if trace is not None else FairnessTrace()
    budget = budget if budget is not None else Budget()
    relaxed = RelaxedLeximin(instance)
    finder = PanelFinder(instance)
    decomposer = Decomposer(instance, finder, rng, budget)
    try:
        shares, levels = relaxed.leximin(budget)
        trace.bound = levels[0][0]
        for _ in range(MAX_CUTS):
            found = decomposer.decompose(shares)
            if not isinstance(found, Cut):
                trace.stages = levels
                return _distribution(instance, found.panels, found.weights)
            relaxed.add_cut(found.weights, found.bound)
            trace.cuts += 1
            shares, levels = relaxed.leximin(budget)
            trace.bound = levels[0][0]
        raise SortitionError(
            f"the LEXIMIN distribution was not settled after {MAX_CUTS} cuts"
        )
    except OutOfTime:
        limit = budget.time_limit
        if trace.bound is None:
            raise SortitionTimeLimitError(
                f"stopped at the time limit ({limit:g} s) before any panel "
                "distribution was found; allow more time"
            ) from None
        best = _best_known(instance, decomposer.seen)
        if best is None:
            raise SortitionTimeLimitError(
                f"stopped at the time limit ({limit:g} s) before any panel "
                "distribution was found; allow more time"
            ) from None
        trace.status = "time_limit"
        trace.gap = max(trace.bound - float(best.shares.min()), 0.0)
        trace.stages = [(float(best.shares.min()), instance.type_count)]
        return best
    finally:
        trace.linear_programs += relaxed.linear_programs + (
            decomposer.stats.linear_programs
        )
        trace.pricing_problems += decomposer.stats.integer_programs
        trace.panels_generated += decomposer.stats.panels + decomposer.stats.peeled
        trace.peeled += decomposer.stats.peeled
        trace.backtracks += decomposer.stats.backtracks
        stats = decomposer.stats
        trace.seconds = {
            "relaxation": round(relaxed.seconds, 3),
            "linear": round(stats.linear_seconds, 3),
            "integer": round(stats.integer_seconds, 3),
            "rounding": round(stats.rounding_seconds, 3),
        }


def maximin(
    instance: Instance,
    rng: np.random.Generator,
    trace: FairnessTrace | None = None,
    budget: Budget | None = None,
) -> TypeDistribution:
    """A distribution maximising the smallest selection probability.

    The LEXIMIN distribution is one (and costs no more to find here).
    """
    return leximin(instance, rng, trace, budget)
