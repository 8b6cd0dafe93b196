"""HiGHS (through highspy) for the integer programs: pricing panels, relaxations."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import highspy
import numpy as np

from ._instance import FloatArray, Instance, IntArray
from ._model import SortitionError

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


class PanelFinder:
    """Finds the quota-satisfying panel with the largest total weight.

    The pricing problem of the column generation: variables are the number of
    people taken from each type, weights are per person of the type.
    """

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
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

    def best(self, weights: FloatArray) -> list[tuple[IntArray, float]]:
        """Panels by decreasing ``sum(weights * x)``, the optimum first.

        Besides the optimum, the improving solutions HiGHS met on the way are
        returned too (they are valid panels and often good columns). Empty when
        no panel satisfies the rules.
        """
        highs = self._highs
        weights = np.asarray(weights, dtype=float)
        highs.changeColsCost(len(self._all), self._all, weights)
        highs.run()
        self.solves += 1
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return []
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
        return found
