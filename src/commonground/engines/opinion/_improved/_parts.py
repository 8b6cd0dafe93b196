"""The intermediate results of one ``improved`` fit, passed from step to step.

:mod:`._fit` computes them in order (columns, votes, groups, statistics) and
:mod:`._assemble` turns them into the :class:`OpinionResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._choice import Choice
from ._stats import GroupAware, Representative

__all__ = ["ActiveVotes", "Columns", "Groups", "Statistics"]


@dataclass(frozen=True, slots=True, eq=False)
class Columns:
    """The statements of the final votes (canonical order) and the active ones."""

    statement_ids: tuple[str, ...]
    moderated: NDArray[np.bool_]
    is_meta: NDArray[np.bool_]
    all_moderated: tuple[str, ...]  # every moderated-out id of the table
    without_votes: tuple[str, ...]  # ids of the table nobody voted on
    column_of: NDArray[np.int32]  # active column of each statement, -1 if out
    column_ids: tuple[str, ...]  # the active columns (spec §5.1)

    @property
    def n_active(self) -> int:
        return len(self.column_ids)


@dataclass(frozen=True, slots=True, eq=False)
class ActiveVotes:
    """The final votes on active columns and their (disagree, pass, agree) counts."""

    row: NDArray[np.int32]
    col: NDArray[np.int32]  # active column
    value: NDArray[np.int8]
    cells: NDArray[np.int64]  # participants x 3
    active_votes: NDArray[np.int64]  # per participant
    everyone: NDArray[np.int64]  # active columns x 3
    column_counts: NDArray[np.int64]  # per active column
    statement_votes: NDArray[np.int64]  # per statement, moderated ones included
    participant_votes: NDArray[np.int64]  # per participant, moderated included


@dataclass(frozen=True, slots=True, eq=False)
class Groups:
    """The clustered set and the groups, numbered by descending size (§5.3–5.6)."""

    k: int
    labels: NDArray[np.int64]  # per participant, -1 = no group
    centres: NDArray[np.float64]  # k x 2
    choice: Choice | None  # None when nobody was clustered
    clustered: NDArray[np.bool_]
    uniform: NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class Statistics:
    """Representative statements, consensus and priorities (spec §5.7–5.9)."""

    reps: list[list[Representative]]
    agree_list: list[tuple[int, int, int, float, float]]
    disagree_list: list[tuple[int, int, int, float, float]]
    aware: GroupAware
    prio: NDArray[np.float64]
