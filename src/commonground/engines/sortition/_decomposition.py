"""Write a vector of shares as a mixture of panels, or prove it cannot be done.

The target is a point ``v`` (expected seats per type) of the relaxed polytope
``Q`` (see ``_relaxed``). It is a mixture of panels exactly when it lies in ``P``,
the convex hull of the panels. Two steps:

1. **Peeling** (Carathéodory's construction). Find a panel ``x`` on the smallest
   face of ``Q`` that holds ``v`` (every bound tight at ``v`` is tight at ``x``), take
   the largest ``a`` for which ``v' = (v - a x) / (1 - a)`` stays in ``Q``, record
   ``x`` with weight ``a`` and go on from ``v'``, which lies on a smaller face. A
   panel on a face is found without an integer program most of the time: a
   vertex of the face for a random objective (a warm-started linear program) has
   few fractional entries, which a short search rounds so that every row still
   holds; HiGHS's integer program is the fallback. Each step fixes at least one
   more bound, so there are at most about as many steps as types.
2. **Certifying the rest.** ``v'`` always lies in ``Q`` but may leave ``P``; then no
   panel lies on its face, the peeling stops. From the point ``v_b`` of an earlier
   step ``b`` the engine peels once more with other random choices, then writes
   ``v_b`` as a mixture by column generation restricted to the face of ``v_b``,
   starting from every panel met: a linear program ``max theta`` such that the
   mixture gives every free type at least ``theta`` times its target (kept alive,
   new panels are new columns, re-solved by the primal simplex method from the
   last basis), whose dual prices steer the search for new panels (rounded
   vertices first, the exact integer program when they find none). ``b`` moves
   back (4 times further each time) until it succeeds; at ``b = 0`` with no face
   restriction this is the textbook column generation, which either succeeds or
   proves, with the integer program's bound, an inequality
   ``sum(y * share) <= bound`` that every mixture meets and the target breaks: a
   cut for ``_relaxed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from ._highs import Face, PanelFinder, new_highs, whole_face
from ._instance import FloatArray, Instance, IntArray
from ._model import SortitionError
from ._progress import Budget
from ._relaxed import set_lp_tolerances

#: a bound within this (in seats) of the point counts as tight
FACE_TOLERANCE = 1e-7
#: a mixture giving every type at least (1 - this) times its target is accepted
CONTAIN_TOLERANCE = 1e-9
#: a panel improves the containment program by more than this
PRICING_TOLERANCE = 1e-10
#: peeling stops once less than this weight is left (it is dropped)
PEEL_REMAINDER = 1e-10
#: random vertices tried before the integer program, per panel
ROUNDING_TRIES = 20
#: search nodes per rounding, and the most fractional entries it tries to round
ROUNDING_BUDGET = 3000
ROUNDING_MAX_FRACTIONAL = 200
#: steps the first backtrack goes back, and new peelings tried from there
BACKTRACK = 16
REPEELS = 1
#: rounded vertices per pricing round (the first for the plain prices)
PRICING_SAMPLES = 4
#: relative size of the random perturbation of the prices in those samples
PRICING_NOISE = 1e-3


@dataclass(frozen=True)
class Mixture:
    panels: list[IntArray]
    weights: FloatArray


@dataclass(frozen=True)
class Cut:
    """Every mixture of panels has ``sum(weights * share) <= bound``."""

    weights: FloatArray
    bound: float


@dataclass
class DecompositionStats:
    peeled: int = 0
    linear_programs: int = 0
    integer_programs: int = 0
    panels: int = 0
    backtracks: int = 0
    #: seconds spent in HiGHS's linear programs, its integer programs, rounding
    linear_seconds: float = 0.0
    integer_seconds: float = 0.0
    rounding_seconds: float = 0.0


class Decomposer:
    def __init__(
        self,
        instance: Instance,
        finder: PanelFinder,
        rng: np.random.Generator,
        budget: Budget,
    ) -> None:
        self.instance = instance
        self.finder = finder
        self.rng = rng
        self.budget = budget
        self.stats = DecompositionStats()
        #: every panel met so far (the fallback when time runs out)
        self.seen: list[IntArray] = []
        self.counts = instance.counts.astype(float)
        self.inverse_counts = 1.0 / self.counts
        type_count = instance.type_count
        self.type_count = type_count
        whole = whole_face(instance)
        self.row_lower = whole.row_lower
        self.row_upper = whole.row_upper
        blocks = [sparse.csr_matrix(instance.membership)]
        for house in instance.households:
            row = np.zeros((1, type_count), dtype=np.int64)
            row[0, list(house)] = 1
            blocks.append(sparse.csr_matrix(row))
        self.rows = sparse.vstack(blocks).tocsr().astype(np.int64)
        self.rows_by_type = self.rows.tocsc()
        highs = new_highs()
        highs.setOptionValue("presolve", "off")
        set_lp_tolerances(highs)
        types = np.arange(type_count, dtype=np.int32)
        highs.addCols(
            type_count,
            np.zeros(type_count),
            np.zeros(type_count),
            self.counts,
            0,
            np.zeros(type_count, dtype=np.int32),
            np.array([], dtype=np.int32),
            np.array([]),
        )
        size = float(instance.panel_size)
        highs.addRow(size, size, type_count, types, np.ones(type_count))
        for index in range(self.rows.shape[0]):
            inside = self.rows[index].indices.astype(np.int32)
            highs.addRow(
                self.row_lower[index],
                self.row_upper[index],
                len(inside),
                inside,
                np.ones(len(inside)),
            )
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.vertex_lp = highs
        self.types = types

    # -- panels on a face ---------------------------------------------------

    def face_of(self, point: FloatArray) -> Face:
        """The smallest face of ``Q`` holding ``point`` (expected seats per type)."""
        counts = self.counts
        lower = np.where(point >= counts - FACE_TOLERANCE, counts, 0.0)
        upper = np.where(point <= FACE_TOLERANCE, 0.0, counts)
        per_row = self.rows @ point
        row_lower = np.where(
            per_row >= self.row_upper - FACE_TOLERANCE, self.row_upper, self.row_lower
        )
        row_upper = np.where(
            per_row <= self.row_lower + FACE_TOLERANCE, self.row_lower, self.row_upper
        )
        return Face(lower, upper, row_lower, row_upper)

    def _round(self, vertex: FloatArray, face: Face) -> IntArray | None:
        """Round a vertex's fractional entries so that every row still holds."""
        base = np.floor(vertex + 1e-9)
        fractional = np.flatnonzero(vertex - base > 1e-9)
        missing = int(round(self.instance.panel_size - base.sum()))
        counts = self.rows @ base.astype(np.int64)
        need_low = face.row_lower - counts
        need_high = face.row_upper - counts
        if len(fractional) > ROUNDING_MAX_FRACTIONAL:
            return None
        if missing == 0 or not len(fractional):
            if missing == 0 and (need_low <= 1e-9).all() and (need_high >= -1e-9).all():
                return base.astype(np.int64)
            return None
        order = fractional[self.rng.permutation(len(fractional))]
        columns = self.rows_by_type[:, order].toarray()
        size = len(order)
        suffix = np.zeros((size + 1, columns.shape[0]), dtype=np.int64)
        for i in range(size - 1, -1, -1):
            suffix[i] = suffix[i + 1] + columns[:, i]
        chosen: list[int] = []
        nodes = 0

        def search(i: int, current: IntArray, left: int) -> bool:
            nonlocal nodes
            nodes += 1
            if nodes > ROUNDING_BUDGET:
                return False
            if left == 0:
                return bool((current >= need_low - 1e-9).all())
            if size - i < left or ((current + suffix[i]) < need_low - 1e-9).any():
                return False
            taken = current + columns[:, i]
            if (taken <= need_high + 1e-9).all():
                chosen.append(i)
                if search(i + 1, taken, left - 1):
                    return True
                chosen.pop()
            return search(i + 1, current, left)

        if not search(0, np.zeros(columns.shape[0], dtype=np.int64), missing):
            return None
        panel = base.astype(np.int64)
        panel[order[chosen]] += 1
        return panel

    def _vertices(self, face: Face, objectives: list[FloatArray]) -> list[IntArray]:
        """Rounded vertices of ``face`` maximising each objective (some may fail)."""
        highs = self.vertex_lp
        face.apply(highs, 1)
        found: list[IntArray] = []
        for objective in objectives:
            highs.changeColsCost(self.type_count, self.types, objective)
            started = time.perf_counter()
            highs.run()
            self.stats.linear_programs += 1
            self.stats.linear_seconds += time.perf_counter() - started
            if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            started = time.perf_counter()
            panel = self._round(np.asarray(highs.getSolution().col_value), face)
            self.stats.rounding_seconds += time.perf_counter() - started
            if panel is not None:
                found.append(panel)
        return found

    def panel_on(self, face: Face) -> IntArray | None:
        """Some panel on ``face``, or ``None`` when there is none."""
        for _ in range(ROUNDING_TRIES):
            found = self._vertices(face, [self.rng.random(self.type_count) - 0.5])
            if found:
                return found[0]
        self.budget.check()
        started = time.perf_counter()
        panels = self.finder.best(
            np.zeros(self.type_count), face, time_limit=self.budget.remaining()
        )
        self.stats.integer_programs += 1
        self.stats.integer_seconds += time.perf_counter() - started
        return panels[0][0] if panels else None

    # -- peeling --------------------------------------------------------------

    def _step(self, point: FloatArray, panel: IntArray) -> float:
        """Largest ``a`` with ``(point - a panel) / (1 - a)`` in ``Q``."""
        per_point = self.rows @ point
        per_panel = self.rows @ panel
        counts = self.counts
        slack_point = np.concatenate(
            [
                counts - point,
                point,
                self.row_upper - per_point,
                per_point - self.row_lower,
            ]
        )
        slack_panel = np.concatenate(
            [
                counts - panel,
                panel,
                self.row_upper - per_panel,
                per_panel - self.row_lower,
            ]
        )
        moving = slack_panel > 1e-9
        if not moving.any():
            return 1.0
        ratio = np.maximum(slack_point[moving], 0.0) / slack_panel[moving]
        return min(float(ratio.min()), 1.0)

    def _peel(
        self, start: FloatArray, label: str = ""
    ) -> tuple[list[IntArray], list[float], bool]:
        """Peel panels off ``start``: (panels, weights, whether it got to the end).

        The weights are shares of ``start``; they add up to 1 when complete.
        """
        panels: list[IntArray] = []
        weights: list[float] = []
        used = np.zeros(self.type_count)
        left = 1.0
        while True:
            self.budget.check()
            point = (start - used) / left
            rounded = np.rint(point)
            if np.abs(point - rounded).max() < FACE_TOLERANCE:
                if self.instance.panel_is_valid(rounded.astype(np.int64)):
                    panels.append(rounded.astype(np.int64))
                    weights.append(left)
                    return panels, weights, True
                return panels, weights, False
            panel = self.panel_on(self.face_of(point))
            if panel is None:
                return panels, weights, False
            alpha = self._step(point, panel)
            if alpha <= 1e-12:
                return panels, weights, False
            panels.append(panel)
            self.seen.append(panel)
            weights.append(left * alpha)
            used += left * alpha * panel
            left *= 1.0 - alpha
            self.stats.peeled += 1
            self.budget.report(
                "panels",
                1.0 - left,
                f"{label}{len(panels)} panels carry {100 * (1 - left):.2f}% of "
                "the chances",
            )
            if left < PEEL_REMAINDER:
                return panels, weights, True

    def decompose(self, shares: FloatArray) -> Mixture | Cut:
        """``shares`` as a mixture of panels, or a cut that separates it from them."""
        target = shares * self.counts
        panels, weights, complete = self._peel(target)
        if complete:
            total = np.array(weights)
            return Mixture(panels, total / total.sum())
        return self._backtrack(target, panels, weights)

    def _backtrack(
        self, target: FloatArray, panels: list[IntArray], weights: list[float]
    ) -> Mixture | Cut:
        """Finish from an earlier point of a peeling that got stuck.

        From the point ``BACKTRACK`` steps back (then 4, 16... times further),
        peel again with other random choices (``REPEELS`` times), then run the
        column generation on that point's face with every panel met as a start.
        """
        stuck = len(panels)
        distance = BACKTRACK
        extra: list[IntArray] = []
        while True:
            back = max(stuck - distance, 0)
            self.stats.backtracks += 1
            head = np.array(weights[:back])
            left = 1.0 - float(head.sum())
            used = (
                head @ np.array(panels[:back], dtype=float)
                if back
                else np.zeros(self.type_count)
            )
            point = (target - used) / left
            for _ in range(REPEELS):
                more, shares, complete = self._peel(
                    point, f"retrying the last {100 * left:.2f}%: "
                )
                if complete:
                    total = np.array(shares)
                    return Mixture(
                        panels[:back] + more,
                        np.concatenate([head, left * total / total.sum()]),
                    )
                extra += more
            found = self.contain(point, panels[back:] + extra, self.face_of(point))
            if isinstance(found, Mixture):
                return Mixture(
                    panels[:back] + found.panels,
                    np.concatenate([head, left * found.weights]),
                )
            if back == 0:
                break
            distance *= 4
        return self.contain(target, panels + extra, None)

    # -- column generation ----------------------------------------------------

    def contain(
        self, point: FloatArray, columns: list[IntArray], face: Face | None
    ) -> Mixture | Cut:
        """Column generation for ``point`` on ``face`` (or anywhere when ``None``).

        A :class:`Cut` is returned only without a face (it must hold for every
        panel); on a face, failure is a :class:`Cut` too but only means "not
        here".
        """
        free = face.free_types if face is not None else np.ones(self.type_count, bool)
        free_types = np.flatnonzero(free)
        row_of = np.full(self.type_count, -1, dtype=np.int64)
        row_of[free_types] = np.arange(len(free_types)) + 1
        target = point * self.inverse_counts
        highs = new_highs()
        set_lp_tolerances(highs)
        # New panels are new columns: the last basis stays primal feasible, so
        # the primal simplex method goes on from it.
        highs.setOptionValue("simplex_strategy", 4)
        inf = highs.inf
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        highs.addRow(1.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))
        rows = len(free_types)
        highs.addRows(
            rows,
            np.zeros(rows),
            np.full(rows, inf),
            0,
            np.zeros(rows, dtype=np.int32),
            np.array([], dtype=np.int32),
            np.array([]),
        )
        highs.addCol(
            1.0,
            -inf,
            inf,
            rows,
            np.arange(1, rows + 1, dtype=np.int32),
            -target[free_types],
        )
        in_program: list[IntArray] = []
        known: set[bytes] = set()

        def add(candidates: list[IntArray]) -> int:
            starts: list[int] = []
            indices: list[IntArray] = []
            values: list[FloatArray] = []
            count = 0
            for panel in candidates:
                key = panel.tobytes()
                if key in known:
                    continue
                if face is not None and (
                    (panel < face.lower).any() or (panel > face.upper).any()
                ):
                    continue
                known.add(key)
                in_program.append(panel)
                self.seen.append(panel)
                taken = np.flatnonzero((panel > 0) & free)
                starts.append(count)
                indices.append(np.concatenate([[0], row_of[taken]]).astype(np.int32))
                values.append(
                    np.concatenate([[1.0], panel[taken] * self.inverse_counts[taken]])
                )
                count += len(taken) + 1
            if starts:
                added = len(starts)
                highs.addCols(
                    added,
                    np.zeros(added),
                    np.zeros(added),
                    np.full(added, inf),
                    count,
                    np.array(starts, dtype=np.int32),
                    np.concatenate(indices),
                    np.concatenate(values),
                )
                self.stats.panels += added
            return len(starts)

        add(columns)
        if not in_program:
            start = (
                self.panel_on(face)
                if face is not None
                else self.finder.best(self.inverse_counts)[0][0]
            )
            if start is None:
                return Cut(np.zeros(self.type_count), 0.0)
            add([start])
        search_face = face if face is not None else whole_face(self.instance)
        while True:
            self.budget.check()
            started = time.perf_counter()
            highs.run()
            self.stats.linear_programs += 1
            self.stats.linear_seconds += time.perf_counter() - started
            if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise SortitionError(
                    "the linear program over panels could not be solved "
                    f"({highs.modelStatusToString(highs.getModelStatus())})"
                )
            solution = highs.getSolution()
            theta = float(solution.col_value[0])
            if theta >= 1.0 - CONTAIN_TOLERANCE:
                lambdas = np.maximum(np.asarray(solution.col_value)[1:], 0.0)
                keep = np.flatnonzero(lambdas > 1e-13)
                return Mixture(
                    [in_program[i] for i in keep], lambdas[keep] / lambdas[keep].sum()
                )
            self.budget.report(
                "panels",
                theta,
                f"finishing with {len(in_program)} panels: they cover "
                f"{100 * theta:.4f}% of the target",
            )
            duals = np.zeros(self.type_count)
            duals[free_types] = np.abs(np.asarray(solution.row_dual)[1 : rows + 1])
            duals[duals < 1e-13] = 0.0
            norm = float(duals @ target)
            if norm <= 0:
                raise SortitionError("internal error: no prices in the panel program")
            prices = duals * self.inverse_counts / norm
            floor = theta + PRICING_TOLERANCE
            scale = float(prices.max())
            objectives = [prices] + [
                prices
                + PRICING_NOISE * scale * (self.rng.random(self.type_count) - 0.5)
                for _ in range(PRICING_SAMPLES - 1)
            ]
            improving = [
                panel
                for panel in self._vertices(search_face, objectives)
                if float(prices @ panel) > floor
            ]
            if not improving or not add(improving):
                started = time.perf_counter()
                found = self.finder.best(
                    prices,
                    face,
                    time_limit=self.budget.remaining(),
                )
                self.stats.integer_programs += 1
                self.stats.integer_seconds += time.perf_counter() - started
                if self.finder.bound < 1.0 - CONTAIN_TOLERANCE:
                    return Cut(duals / norm, self.finder.bound)
                if not add([panel for panel, value in found if value > floor]):
                    raise SortitionError(
                        "internal error: the panel program is stuck short of its "
                        f"target ({theta:.12f})"
                    )
