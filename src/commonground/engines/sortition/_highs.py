"""HiGHS (through highspy) for the integer programs: pricing panels, relaxations."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from ._instance import FloatArray, Instance, IntArray
from ._model import SortitionError
from ._progress import OutOfTime

_BANNER_SHOWN = False


def new_highs() -> Any:
    """A silent HiGHS object.

    HiGHS prints a copyright banner to the C-level standard output the first time
    a solver is created in a process; the command line writes JSON to standard
    output, so that first creation happens with file descriptor 1 pointed at
    /dev/null.
    """
    global _BANNER_SHOWN
    if not _BANNER_SHOWN:
        _BANNER_SHOWN = True
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highs = highspy.Highs()
            libc = ctypes.CDLL(None)
            libc.fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
    else:
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", 0)
    return highs


def _add_quota_rows(highs: Any, instance: Instance, first_column: int) -> None:
    """Rows: panel size, every quota row, at most one per shared household."""
    type_count = instance.type_count
    columns = np.arange(first_column, first_column + type_count, dtype=np.int32)
    highs.addRow(
        float(instance.panel_size),
        float(instance.panel_size),
        type_count,
        columns,
        np.ones(type_count),
    )
    for row, quota in enumerate(instance.quotas):
        in_row = np.flatnonzero(instance.membership[row]).astype(np.int32)
        highs.addRow(
            float(quota.minimum),
            float(quota.maximum),
            len(in_row),
            in_row + first_column,
            np.ones(len(in_row)),
        )
    for house in instance.households:
        idx = np.array(house, dtype=np.int32) + first_column
        highs.addRow(-highs.inf, 1.0, len(idx), idx, np.ones(len(idx)))


class Face:
    """Bounds that pin a panel to a face of the relaxed polytope.

    ``lower``/``upper`` bound the people taken from each type, ``row_lower`` /
    ``row_upper`` the count of every quota row then every shared household (in
    that order): a panel on the face meets the rows that are tight there exactly.
    """

    def __init__(
        self,
        lower: FloatArray,
        upper: FloatArray,
        row_lower: FloatArray,
        row_upper: FloatArray,
    ) -> None:
        self.lower = lower
        self.upper = upper
        self.row_lower = row_lower
        self.row_upper = row_upper

    @property
    def free_types(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.lower < self.upper)

    def apply(self, highs: Any, first_row: int) -> None:
        """Set the column and row bounds of a model built by ``_add_quota_rows``."""
        count = len(self.lower)
        highs.changeColsBounds(
            count, np.arange(count, dtype=np.int32), self.lower, self.upper
        )
        rows = len(self.row_lower)
        highs.changeRowsBounds(
            rows,
            np.arange(first_row, first_row + rows, dtype=np.int32),
            self.row_lower,
            self.row_upper,
        )


def whole_face(instance: Instance) -> Face:
    """The bounds of the instance itself (no face)."""
    houses = len(instance.households)
    return Face(
        np.zeros(instance.type_count),
        instance.counts.astype(float),
        np.concatenate([instance.minimums.astype(float), np.zeros(houses)]),
        np.concatenate([instance.maximums.astype(float), np.ones(houses)]),
    )


class PanelFinder:
    """Finds the quota-satisfying panel with the largest total weight.

    The pricing problem of the column generation: variables are the number of
    people taken from each type, weights are per person of the type. One HiGHS
    model is kept alive; only the objective (and, for a face, the bounds) change
    between calls.
    """

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self._whole = whole_face(instance)
        self._face_set = False
        #: the solver's upper bound on the best weight in the last call
        self.bound = float("inf")
        highs = new_highs()
        highs.setOptionValue("mip_rel_gap", 1e-9)
        highs.setOptionValue("mip_abs_gap", 1e-12)
        highs.setOptionValue("mip_improving_solution_save", True)
        type_count = instance.type_count
        for t in range(type_count):
            highs.addVar(0.0, float(instance.counts[t]))
        highs.changeColsIntegrality(
            type_count,
            np.arange(type_count, dtype=np.int32),
            np.array([highspy.HighsVarType.kInteger] * type_count),
        )
        _add_quota_rows(highs, instance, 0)
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._highs = highs
        self._all = np.arange(type_count, dtype=np.int32)
        self.solves = 0

    def best(
        self,
        weights: FloatArray,
        face: Face | None = None,
        *,
        time_limit: float = float("inf"),
    ) -> list[tuple[IntArray, float]]:
        """Panels by decreasing ``sum(weights * x)``, the optimum first.

        Besides the optimum, the improving solutions HiGHS met on the way are
        returned too (they are valid panels and often good columns). Empty when
        no panel satisfies the rules (on ``face``, when given). ``self.bound`` is
        then the solver's proven upper bound on the optimum.
        """
        highs = self._highs
        if face is not None:
            face.apply(highs, 1)
            self._face_set = True
        elif self._face_set:
            self._whole.apply(highs, 1)
            self._face_set = False
        highs.setOptionValue("time_limit", max(min(time_limit, 1e6), 0.01))
        weights = np.asarray(weights, dtype=float)
        highs.changeColsCost(len(self._all), self._all, weights)
        highs.run()
        self.solves += 1
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            self.bound = -float("inf")
            return []
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise OutOfTime
        if status != highspy.HighsModelStatus.kOptimal:
            raise SortitionError(
                "the integer program for panels could not be solved "
                f"({highs.modelStatusToString(status)})"
            )
        candidates = [np.asarray(highs.getSolution().col_value)]
        candidates += [
            np.asarray(saved.col_value) for saved in highs.getSavedMipSolutions()
        ]
        found: list[tuple[IntArray, float]] = []
        seen: set[bytes] = set()
        for values in candidates:
            x = np.rint(values).astype(np.int64)
            key = x.tobytes()
            if key in seen or not self.instance.panel_is_valid(x):
                continue
            seen.add(key)
            found.append((x, float(np.dot(weights, x))))
        found.sort(key=lambda item: -item[1])
        info = highs.getInfo()
        self.bound = max(float(info.mip_dual_bound), found[0][1] if found else -np.inf)
        return found
