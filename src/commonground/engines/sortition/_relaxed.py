"""LEXIMIN over the relaxed polytope of expected panels.

A distribution over panels gives each type ``t`` an expected number of seats
``v_t = c_t * share_t``. Every such vector lies in the polytope ``Q`` of the linear
relaxation: ``sum(v) = k``, each quota's count between its bounds, ``0 <= v_t <=
c_t``, at most one seat per shared household. The vectors a distribution can
actually reach form the smaller polytope ``P``, the convex hull of the integer
points of ``Q`` (the panels). This module computes the LEXIMIN point of ``Q``,
plus any cuts (inequalities valid for ``P``) added when that point was not in
``P``: a sequence of small linear programs with one variable per type, no
panels involved.

Because ``P`` lies inside ``Q``, the LEXIMIN point of ``Q`` is the LEXIMIN point of
``P`` as soon as it lies in ``P`` (``_decomposition`` checks that by writing it as a
mixture of panels), and its levels bound those of ``P`` from above meanwhile.

Each stage maximises the smallest share ``z`` of the types not yet fixed. Types
whose row has a positive dual cannot rise above ``z`` in any optimum; the others
are tested together: each may rise by up to ``RAISE_CAP`` above ``z`` and the total
rise is maximised; those that rise stay free, and the test is repeated on the rest
until none rises, when the rest are fixed at ``z`` too.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from ._highs import new_highs
from ._instance import FloatArray, Instance
from ._model import SortitionError
from ._progress import Budget

#: fixed shares keep this much slack, so round-off cannot make a stage infeasible
FIX_SLACK = 1e-10
#: a row dual above this marks a type as unable to rise
DUAL_TOLERANCE = 1e-9
#: a type that rises above the stage minimum by more than this stays free
RAISE_TOLERANCE = 1e-6
#: the most a type may rise in the raise test (keeps the rises spread out)
RAISE_CAP = 1e-3


def set_lp_tolerances(highs: highspy.Highs) -> None:
    highs.setOptionValue("primal_feasibility_tolerance", 1e-9)
    highs.setOptionValue("dual_feasibility_tolerance", 1e-9)


class RelaxedLeximin:
    """The relaxed polytope ``Q`` (in shares), its cuts and its LEXIMIN point.

    Columns: ``share_t`` (T), the stage minimum ``z``, the rises ``r_t`` (T).
    Rows: panel size, quotas, households, cuts, and one row
    ``share_t - z - r_t >= 0`` per type.
    """

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        type_count = instance.type_count
        self.type_count = type_count
        counts = instance.counts.astype(float)
        highs = new_highs()
        highs.setOptionValue("presolve", "off")
        set_lp_tolerances(highs)
        inf = highs.inf
        no_int = np.array([], dtype=np.int32)
        no_float = np.array([])
        highs.addCols(
            type_count,
            np.zeros(type_count),
            np.zeros(type_count),
            np.ones(type_count),
            0,
            np.zeros(type_count, dtype=np.int32),
            no_int,
            no_float,
        )
        self.z_column = type_count
        highs.addCol(1.0, 0.0, 1.0, 0, no_int, no_float)
        self.rise_offset = type_count + 1
        highs.addCols(
            type_count,
            np.zeros(type_count),
            np.zeros(type_count),
            np.zeros(type_count),
            0,
            np.zeros(type_count, dtype=np.int32),
            no_int,
            no_float,
        )
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        types = np.arange(type_count, dtype=np.int32)
        size = float(instance.panel_size)
        highs.addRow(size, size, type_count, types, counts)
        for row, quota in enumerate(instance.quotas):
            inside = np.flatnonzero(instance.membership[row]).astype(np.int32)
            highs.addRow(
                float(quota.minimum),
                float(quota.maximum),
                len(inside),
                inside,
                counts[inside],
            )
        for house in instance.households:
            idx = np.array(house, dtype=np.int32)
            highs.addRow(-inf, 1.0, len(idx), idx, np.ones(len(idx)))
        self.first_type_row = highs.getNumRow()
        highs.addRows(
            type_count,
            np.zeros(type_count),
            np.full(type_count, inf),
            3 * type_count,
            np.arange(type_count, dtype=np.int32) * 3,
            np.column_stack(
                [
                    types,
                    np.full(type_count, self.z_column, dtype=np.int32),
                    types + self.rise_offset,
                ]
            )
            .ravel()
            .astype(np.int32),
            np.tile([1.0, -1.0, -1.0], type_count),
        )
        self.highs = highs
        self.cuts = 0
        self.linear_programs = 0
        self.seconds = 0.0
        self._fixed_at = np.full(type_count, np.nan)

    def add_cut(self, weights: FloatArray, bound: float) -> None:
        """Add ``sum(weights * share) <= bound``, valid for every panel mixture."""
        inside = np.flatnonzero(weights).astype(np.int32)
        self.highs.addRow(
            -self.highs.inf, float(bound), len(inside), inside, weights[inside]
        )
        self.cuts += 1

    def _run(self) -> FloatArray:
        """Solve; if round-off made the fixed shares infeasible, loosen them a hair.

        (The paper's code does the same: a stage's optimum is only known up to
        the solver's tolerance, so fixing types at it can leave no room.)
        """
        highs = self.highs
        for loosen in (0.0, 1e-10, 1e-9):
            if loosen:
                fixed = np.flatnonzero(~np.isnan(self._fixed_at)).astype(np.int32)
                highs.changeColsBounds(
                    len(fixed),
                    fixed,
                    np.maximum(self._fixed_at[fixed] - FIX_SLACK - loosen, 0.0),
                    np.ones(len(fixed)),
                )
            started = time.perf_counter()
            highs.run()
            self.linear_programs += 1
            self.seconds += time.perf_counter() - started
            if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                return np.asarray(highs.getSolution().col_value)
            if highs.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
                break
        raise SortitionError(
            "the relaxed linear program could not be solved "
            f"({highs.modelStatusToString(highs.getModelStatus())})"
        )

    def leximin(self, budget: Budget) -> tuple[FloatArray, list[tuple[float, int]]]:
        """Shares of the LEXIMIN point of ``Q`` and its levels (share, types)."""
        highs = self.highs
        type_count = self.type_count
        inf = highs.inf
        types = np.arange(type_count, dtype=np.int32)
        rises = types + self.rise_offset
        type_rows = types + self.first_type_row
        zeros, ones = np.zeros(type_count), np.ones(type_count)
        highs.changeColsBounds(type_count, types, zeros, ones)
        highs.changeColsBounds(type_count, rises, zeros, zeros)
        highs.changeRowsBounds(type_count, type_rows, zeros, np.full(type_count, inf))
        highs.changeColsCost(type_count, rises, zeros)
        free = np.ones(type_count, dtype=bool)
        self._fixed_at = np.full(type_count, np.nan)
        shares = np.zeros(type_count)
        last = np.zeros(2 * type_count + 1)
        levels: list[tuple[float, int]] = []
        while free.any():
            budget.check()
            highs.changeColBounds(self.z_column, 0.0, 1.0)
            highs.changeColCost(self.z_column, 1.0)
            last = self._run()
            z = float(last[self.z_column])
            duals = np.abs(np.asarray(highs.getSolution().row_dual)[type_rows])
            stuck = free & (duals > DUAL_TOLERANCE)
            undecided = free & ~stuck
            highs.changeColBounds(self.z_column, z - FIX_SLACK, z - FIX_SLACK)
            highs.changeColCost(self.z_column, 0.0)
            while undecided.any():
                budget.check()
                tested = np.flatnonzero(undecided).astype(np.int32) + self.rise_offset
                highs.changeColsCost(type_count, rises, undecided.astype(float))
                highs.changeColsBounds(
                    len(tested),
                    tested,
                    np.zeros(len(tested)),
                    np.full(len(tested), RAISE_CAP),
                )
                last = self._run()
                rise = last[rises]
                highs.changeColsBounds(
                    len(tested), tested, np.zeros(len(tested)), np.zeros(len(tested))
                )
                risen = undecided & (rise > RAISE_TOLERANCE)
                if not risen.any():
                    stuck |= undecided
                    break
                undecided &= ~risen
            highs.changeColsCost(type_count, rises, zeros)
            if not stuck.any():
                raise SortitionError("internal error: a LEXIMIN stage fixed no one")
            fixed = np.flatnonzero(stuck).astype(np.int32)
            shares[fixed] = z
            # Fix at the level or at the last solution's value if that is a hair
            # lower (within the solver's tolerance), so the last solution stays
            # feasible and the next stage cannot be infeasible by round-off.
            self._fixed_at[fixed] = np.minimum(z, last[fixed])
            free[fixed] = False
            highs.changeColsBounds(
                len(fixed),
                fixed,
                np.maximum(self._fixed_at[fixed] - FIX_SLACK, 0.0),
                np.ones(len(fixed)),
            )
            highs.changeRowsBounds(
                len(fixed),
                fixed + self.first_type_row,
                np.full(len(fixed), -inf),
                np.full(len(fixed), inf),
            )
            levels.append((z, len(fixed)))
            budget.report(
                "bounds",
                1.0 - float(free.mean()),
                f"relaxed LEXIMIN: {len(levels)} levels, smallest chance at most "
                f"{100 * levels[0][0]:.4f}%",
            )
        # The last solution is a point of Q (up to the solver's tolerance) with every
        # type at its level; it is the target rather than the bare levels, which
        # may miss the panel size by round-off.
        point = np.clip(last[:type_count], 0.0, 1.0)
        if np.abs(point - shares).max() > 1e-6:
            raise SortitionError("internal error: the relaxed LEXIMIN did not settle")
        return point, levels
