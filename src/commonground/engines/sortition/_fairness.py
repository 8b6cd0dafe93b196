"""MAXIMIN and LEXIMIN distributions over panels by column generation.

After Flanigan, Gölz, Gupta, Hennig and Procaccia, "Fair algorithms for selecting
citizens' assemblies", Nature 596 (2021). Everything is computed per *type*
(see ``_instance``): ``share[t]`` is the selection probability of each person of
type ``t``, ``c_t`` the number of people of the type, and a panel is the number
``x_t`` of people it takes from each type.

First, ``uniform_design`` tries one integer program that gives everyone exactly
``k / n`` (the best possible smallest probability, so the LEXIMIN answer when it
exists). Otherwise the linear program over the panels found so far is

    maximise   z                     (MAXIMIN stage)  or  sum(s_t)  (raise test)
    subject to sum_P lambda_P = 1,  lambda >= 0
               sum_P lambda_P x_Pt / c_t  >=  z   (types not yet fixed)
               sum_P lambda_P x_Pt / c_t  >=  f_t (types fixed at f_t)

solved through its dual, one row per panel:

    minimise   yhat - sum_t f_t y_t
    subject to sum_t y_t x_Pt / c_t <= yhat   for every known panel P
               y >= 0, and sum of y over unfixed types >= 1 (or y_t >= 1 on the
               types of the raise test)

A panel whose weight ``sum_t y_t x_t / c_t`` exceeds ``yhat`` improves the
program; the heaviest one is found by the integer program of ``PanelFinder``
(pricing). When none exceeds it, the optimum over the known panels is the
optimum over all panels. The probabilities ``lambda`` are the duals of the panel
rows. Pricing is done at a point between the current ``y`` and the best ``y``
seen so far (Wentges smoothing), falling back to the current ``y`` when that
panel does not help, and every round also adds panels met on a random walk of
swaps from the priced panel (``_neighbours``).

LEXIMIN repeats stages. A stage maximises the smallest probability ``z`` of the
types not yet fixed. Types with a positive weight ``y_t`` cannot rise above ``z``
in any optimal distribution (complementary slackness), so they are fixed at
``z``. The other types are tested with the raise test, which maximises the total
amount by which they rise above ``z``: a type that rises stays free for the next
stage, and when the test's optimum over the remaining ones is zero they are
fixed too. (When the fixed and minimal probabilities already account for all
``k`` seats, no one can rise and the test is skipped.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import highspy
import numpy as np

from ._highs import PanelFinder, new_highs
from ._instance import FloatArray, Instance, IntArray
from ._model import SortitionError
from ._neighbours import SwapWalker

#: tolerance on reduced costs: a panel must improve the program by more than this
PRICING_TOLERANCE = 1e-10
#: fixed probabilities are kept up to this slack, so round-off cannot make a stage
#: infeasible
FIX_SLACK = 1e-10
#: a dual above this marks a type as tight
DUAL_TOLERANCE = 1e-9
#: a type that can rise by more than this above the stage minimum stays free
RAISE_TOLERANCE = 1e-8
MAX_ITERATIONS = 100_000
#: seats left unexplained below this share of the panel mean every free type is
#: at the minimum
FULL_PANEL_TOLERANCE = 1e-8
#: extra panels per pricing round, and swaps between them (see ``_neighbours``)
WALK_PANELS = 150
WALK_SPACING = 3
#: after this many linear programs, fewer walk panels per round (most go unused)
WALK_ROUNDS = 40
LATE_WALK_PANELS = 30
#: random panels to start from
INITIAL_PANELS = 1000
INITIAL_SPACING = 10
#: the dual program drops panels idle for PRUNE_AFTER rounds once it has more
#: than PRUNE_ABOVE panels per type
PRUNE_ABOVE = 6.0
PRUNE_AFTER = 3
#: the uniform design is tried when it has at most this many variables, and for
#: at most this many seconds
DESIGN_MAX_VARIABLES = 200_000
DESIGN_TIME_LIMIT = 60.0
DESIGN_MAX_NODES = 1000
#: weight of the best dual so far in the pricing point (0: plain pricing)
SMOOTHING = 0.5


@dataclass
class FairnessTrace:
    """What the column generation did, for the result's trace."""

    stages: list[tuple[float, int]] = field(default_factory=list)
    linear_programs: int = 0
    pricing_problems: int = 0
    panels_generated: int = 0
    #: panels of the uniform design, when one settled the question (else 0)
    design_panels: int = 0


@dataclass(frozen=True)
class TypeDistribution:
    """A distribution over panels given as people per type."""

    panels: IntArray  # (P, T)
    probabilities: FloatArray  # (P,)
    shares: FloatArray  # (T,) selection probability of each person of a type


class _ColumnGeneration:
    def __init__(
        self, instance: Instance, trace: FairnessTrace, rng: np.random.Generator
    ) -> None:
        self.instance = instance
        self.finder = PanelFinder(instance)
        self.walker = SwapWalker(instance)
        self.rng = rng
        self.trace = trace
        self.panels: list[IntArray] = []
        self._known: dict[bytes, int] = {}
        #: panels in the last master program (``None``: all)
        self.active: list[int] | None = None
        self.inverse_counts = 1.0 / instance.counts.astype(float)

    def add_panel(self, x: IntArray) -> bool:
        return self.panel_index(x)[1]

    def panel_index(self, x: IntArray) -> tuple[int, bool]:
        """Index of panel ``x`` in ``self.panels`` and whether it is new."""
        key = x.tobytes()
        known = self._known.get(key)
        if known is not None:
            return known, False
        index = len(self.panels)
        self._known[key] = index
        self.panels.append(x)
        self.trace.panels_generated += 1
        return index, True

    def solve_dual(
        self,
        lower: FloatArray,
        with_z: np.ndarray,
        with_slack: np.ndarray,
    ) -> tuple[float, FloatArray, FloatArray, float]:
        """The same program solved through its dual, one row per panel.

        ``minimise  yhat - sum_t lower_t y_t`` subject to
        ``sum_t y_t x_Pt / c_t <= yhat`` for every panel P, ``y >= 0``, and
        ``sum of y over the z rows >= 1`` (MAXIMIN stage) or ``y_t >= 1`` on the
        slack rows (raise test). New panels are new rows, which the dual simplex
        method takes from the previous basis. The panel rows' duals are the
        probabilities ``lambda``.
        """
        type_count = self.instance.type_count
        highs = new_highs()
        highs.setOptionValue("presolve", "off")
        highs.setOptionValue("simplex_strategy", 1)
        inf = highs.inf
        low = np.where(with_slack, 1.0, 0.0)
        highs.addCols(
            type_count,
            -np.asarray(lower, dtype=float),
            low,
            np.full(type_count, inf),
            0,
            np.zeros(type_count, dtype=np.int32),
            np.array([], dtype=np.int32),
            np.array([]),
        )
        yhat = type_count
        highs.addCol(1.0, -inf, inf, 0, np.array([], dtype=np.int32), np.array([]))
        first_panel_row = 0
        z_rows = np.flatnonzero(with_z).astype(np.int32)
        if len(z_rows):
            highs.addRow(1.0, inf, len(z_rows), z_rows, np.ones(len(z_rows)))
            first_panel_row = 1

        active: list[int] = (
            list(range(len(self.panels))) if self.active is None else list(self.active)
        )
        idle = [0] * len(active)

        def add_rows(indices: list[int]) -> None:
            starts, columns, values = [], [], []
            count = 0
            for index in indices:
                x = self.panels[index]
                rows = np.flatnonzero(x)
                starts.append(count)
                columns.append(rows.astype(np.int32))
                columns.append(np.array([yhat], dtype=np.int32))
                values.append(x[rows] * self.inverse_counts[rows])
                values.append(np.array([-1.0]))
                count += len(rows) + 1
            highs.addRows(
                len(indices),
                np.full(len(indices), -inf),
                np.zeros(len(indices)),
                count,
                np.array(starts, dtype=np.int32),
                np.concatenate(columns),
                np.concatenate(values),
            )

        add_rows(active)
        center: FloatArray | None = None
        center_bound = np.inf
        for _ in range(MAX_ITERATIONS):
            highs.run()
            self.trace.linear_programs += 1
            if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise SortitionError(
                    "the linear program over panels could not be solved "
                    f"({highs.modelStatusToString(highs.getModelStatus())})"
                )
            solution = highs.getSolution()
            values = np.asarray(solution.col_value)
            y = np.maximum(values[:type_count], 0.0)
            ceiling = float(values[yhat])
            threshold = ceiling + PRICING_TOLERANCE
            # Price at a point between the best dual seen so far (the one with
            # the lowest Lagrangian bound) and the current one (Wentges
            # smoothing): it damps the oscillation of degenerate duals. If that
            # panel does not improve the current program, price exactly.
            if center is None:
                center = y
            improving: list[IntArray] = []
            for alpha in (SMOOTHING, 0.0) if SMOOTHING > 0 else (0.0,):
                point = alpha * center + (1.0 - alpha) * y
                found = self.finder.best(point * self.inverse_counts)
                self.trace.pricing_problems += 1
                if not found:
                    raise SortitionError("no panel satisfies the quotas")
                bound = found[0][1] - float(np.dot(lower, point))
                if bound < center_bound:
                    center, center_bound = point, bound
                improving = [
                    x
                    for x, _ in found
                    if float(np.dot(x * self.inverse_counts, y)) > threshold
                ]
                if improving:
                    break
            if not improving:
                break
            weights = y * self.inverse_counts
            best_value = float(np.dot(weights, improving[0]))
            improving += self.walker.walk(
                improving[0],
                weights,
                self.rng,
                panels=WALK_PANELS
                if self.trace.linear_programs <= WALK_ROUNDS
                else LATE_WALK_PANELS,
                spacing=WALK_SPACING,
                floor=threshold + 0.5 * (best_value - threshold),
            )
            in_program = set(active)
            fresh: list[int] = []
            for x in improving:
                index, _ = self.panel_index(x)
                if index not in in_program:
                    in_program.add(index)
                    fresh.append(index)
            if not fresh:
                break
            # Drop panels that have been slack and unused for a while, so the
            # program stays small; they come back if pricing finds them again.
            if len(active) > PRUNE_ABOVE * type_count:
                duals = np.asarray(solution.row_dual)[first_panel_row:]
                activity = np.asarray(solution.row_value)[first_panel_row:]
                unused = (np.abs(duals) <= 1e-12) & (activity < -1e-9)
                idle = [
                    count + 1 if flag else 0
                    for count, flag in zip(idle, unused, strict=True)
                ]
                drop = [row for row, count in enumerate(idle) if count >= PRUNE_AFTER]
                if drop:
                    highs.deleteRows(
                        len(drop), np.array(drop, dtype=np.int32) + first_panel_row
                    )
                    keep = sorted(set(range(len(active))) - set(drop))
                    active = [active[row] for row in keep]
                    idle = [idle[row] for row in keep]
            add_rows(fresh)
            active += fresh
            idle += [0] * len(fresh)
        solution = highs.getSolution()
        row_duals = np.asarray(solution.row_dual)
        lambdas = np.zeros(len(self.panels))
        lambdas[active] = np.abs(row_duals[first_panel_row:])
        self.active = active
        z = float(abs(row_duals[0])) if len(z_rows) else 0.0
        values = np.asarray(solution.col_value)
        objective = float(highs.getInfo().objective_function_value)
        return objective, lambdas, np.maximum(values[:type_count], 0.0), z

    def master(
        self, lower: FloatArray, with_z: np.ndarray, with_slack: np.ndarray
    ) -> tuple[float, FloatArray, FloatArray, float]:
        """Optimise the master program over all panels (see the module notes).

        ``lower[t]`` bounds type ``t``'s probability from below; ``with_z``
        marks the types whose probability must also reach ``z`` (objective:
        maximise ``z``), ``with_slack`` the types whose rise above ``lower`` is
        maximised in total. Returns (objective, lambda per known panel, the
        weight ``y_t`` of each type, z).
        """
        return self.solve_dual(lower, with_z, with_slack)

    def shares_of(self, lambdas: FloatArray) -> FloatArray:
        support = np.flatnonzero(lambdas > 0)
        matrix = np.array([self.panels[i] for i in support], dtype=float)
        return (lambdas[support] @ matrix) * self.inverse_counts


def _initial_panels(generation: _ColumnGeneration) -> None:
    weights = generation.inverse_counts.copy()
    found = generation.finder.best(weights)
    generation.trace.pricing_problems += 1
    if not found:
        raise SortitionError("no panel satisfies the quotas")
    for x, _ in found:
        generation.add_panel(x)
    spread = generation.walker.walk(
        found[0][0],
        np.zeros_like(weights),
        generation.rng,
        panels=INITIAL_PANELS,
        spacing=INITIAL_SPACING,
    )
    for x in spread:
        generation.add_panel(x)


def _finish(generation: _ColumnGeneration, lambdas: FloatArray) -> TypeDistribution:
    weights = np.where(lambdas > 1e-12, lambdas, 0.0)
    keep = np.flatnonzero(weights)
    weights = weights[keep] / weights[keep].sum()
    panels = np.array([generation.panels[i] for i in keep], dtype=np.int64)
    instance = generation.instance
    for panel in panels:
        if not instance.panel_is_valid(panel):
            raise SortitionError("internal error: a panel breaks the quotas")
    shares = (weights @ panels.astype(float)) * generation.inverse_counts
    return TypeDistribution(panels=panels, probabilities=weights, shares=shares)


def uniform_design(instance: Instance, trace: FairnessTrace) -> TypeDistribution | None:
    """Everyone at exactly k/n, if a small design achieves it; else ``None``.

    With ``g = gcd(n, k)``, look for ``m = n / g`` panels in which every person
    appears exactly ``k / g`` times (for ``k`` dividing ``n``: a partition of the
    pool into quota-satisfying panels). The uniform lottery over them gives
    everyone ``k / n``, which is the best any distribution can do for its
    smallest probability (probabilities add up to ``k``), and the only vector
    with that minimum; so it *is* the LEXIMIN (and a MAXIMIN) solution. It is
    one integer program, with people per type and panel as variables; each
    type's members are then spread over its panels in turn.
    """
    n = int(instance.counts.sum())
    k = instance.panel_size
    g = math.gcd(n, k)
    panels, repeats = n // g, k // g
    type_count = instance.type_count
    size = type_count * panels
    if size > DESIGN_MAX_VARIABLES:
        return None
    highs = new_highs()
    highs.setOptionValue("time_limit", DESIGN_TIME_LIMIT)
    highs.setOptionValue("mip_max_nodes", DESIGN_MAX_NODES)
    highs.addVars(
        size, np.zeros(size), np.repeat(instance.counts.astype(float), panels)
    )
    highs.changeColsIntegrality(
        size,
        np.arange(size, dtype=np.int32),
        np.array([highspy.HighsVarType.kInteger] * size),
    )
    offsets = np.arange(panels, dtype=np.int32)
    for t in range(type_count):
        total = float(instance.counts[t] * repeats)
        highs.addRow(total, total, panels, t * panels + offsets, np.ones(panels))
    all_types = np.arange(type_count, dtype=np.int32) * panels
    for j in range(panels):
        highs.addRow(float(k), float(k), type_count, all_types + j, np.ones(type_count))
        for row, quota in enumerate(instance.quotas):
            inside = np.flatnonzero(instance.membership[row]).astype(np.int32) * panels
            highs.addRow(
                float(quota.minimum),
                float(quota.maximum),
                len(inside),
                inside + j,
                np.ones(len(inside)),
            )
        for house in instance.households:
            idx = np.array(house, dtype=np.int32) * panels + j
            highs.addRow(-highs.inf, 1.0, len(idx), idx, np.ones(len(idx)))
    highs.run()
    trace.pricing_problems += 1
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    values = np.asarray(highs.getSolution().col_value)
    matrix = np.rint(values).astype(np.int64).reshape(type_count, panels).T  # (m, T)
    if not all(instance.panel_is_valid(row) for row in matrix):
        return None
    if not (matrix.sum(axis=0) == instance.counts * repeats).all():
        return None
    unique, copies = np.unique(matrix, axis=0, return_counts=True)
    probabilities = copies / panels
    shares = (probabilities @ unique.astype(float)) / instance.counts
    trace.stages.append((k / n, type_count))
    trace.panels_generated += len(unique)
    trace.design_panels = panels
    return TypeDistribution(panels=unique, probabilities=probabilities, shares=shares)


def maximin(
    instance: Instance, rng: np.random.Generator, trace: FairnessTrace | None = None
) -> TypeDistribution:
    """A distribution maximising the smallest selection probability."""
    trace = trace if trace is not None else FairnessTrace()
    uniform = uniform_design(instance, trace)
    if uniform is not None:
        return uniform
    generation = _ColumnGeneration(instance, trace, rng)
    _initial_panels(generation)
    type_count = instance.type_count
    z, lambdas, _, _ = generation.master(
        np.zeros(type_count),
        np.ones(type_count, dtype=bool),
        np.zeros(type_count, dtype=bool),
    )
    trace.stages.append((z, type_count))
    return _finish(generation, lambdas)


def leximin(
    instance: Instance, rng: np.random.Generator, trace: FairnessTrace | None = None
) -> TypeDistribution:
    """The distribution whose sorted probabilities are lexicographically largest."""
    trace = trace if trace is not None else FairnessTrace()
    uniform = uniform_design(instance, trace)
    if uniform is not None:
        return uniform
    generation = _ColumnGeneration(instance, trace, rng)
    _initial_panels(generation)
    type_count = instance.type_count
    fixed = np.full(type_count, np.nan)
    free = np.ones(type_count, dtype=bool)
    no_rows = np.zeros(type_count, dtype=bool)
    lambdas = np.array([1.0])
    while free.any():
        lower = np.where(free, 0.0, fixed - FIX_SLACK)
        z, lambdas, duals, _ = generation.master(lower, free.copy(), no_rows)
        tight = free & (duals > DUAL_TOLERANCE)
        fixed[tight] = z
        free &= ~tight
        newly_fixed = int(tight.sum())
        # Which of the remaining free types can rise above z at all? None can
        # when the fixed and minimal shares already fill every seat.
        undecided = free.copy()
        seats = float(np.dot(np.where(free, z, np.nan_to_num(fixed)), instance.counts))
        if seats >= instance.panel_size * (1 - FULL_PANEL_TOLERANCE):
            fixed[free] = z
            newly_fixed += int(free.sum())
            free[:] = False
            undecided[:] = False
        while undecided.any():
            lower = np.where(free, z - FIX_SLACK, fixed - FIX_SLACK)
            _, lambdas, _, _ = generation.master(lower, no_rows, undecided)
            shares = generation.shares_of(lambdas)
            rises = undecided & (shares > z + RAISE_TOLERANCE)
            if not rises.any():
                fixed[undecided] = z
                free &= ~undecided
                newly_fixed += int(undecided.sum())
                break
            undecided &= ~rises
        trace.stages.append((z, newly_fixed))
        if newly_fixed == 0:
            raise SortitionError("internal error: a LEXIMIN stage fixed no one")
    return _finish(generation, lambdas)
