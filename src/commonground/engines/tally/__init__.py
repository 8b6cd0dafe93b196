"""Tally engine: ballots in, round-by-round results out (spec: ../shared/specs/tally.md).

Pure Python with numpy; no Django.  Every amount is exact (integers scaled by
``10**decimals``) and every result carries its full trace.

>>> from commonground.engines.tally import Election, count
>>> election = Election.from_rankings(["Ann", "Bo", "Cy"],
...     [[0, 1], [0], [1, 0], [2, 1], [2, 1]])
>>> count(election, method="irv").winners
('Ann',)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ._count import METHODS, STV_RULES, count
from ._election import BallotTable, Election, InvalidBallots
from ._errors import (
    TallyAbortedError,
    TallyConfigurationError,
    TallyError,
    TallyInputError,
    TallyUsageError,
)
from ._javarandom import JavaRandom, java_shuffle
from ._limits import LIMITS, MAX_INPUT_BYTES, MethodLimits, limits_for
from ._readers import load_ballots
from ._result import Decision, InputSummary, Result, Round, TieBreak

__all__ = [
    "BallotTable",
    "Decision",
    "Election",
    "InputSummary",
    "InvalidBallots",
    "JavaRandom",
    "LIMITS",
    "MAX_INPUT_BYTES",
    "MethodLimits",
    "Result",
    "Round",
    "TallyAbortedError",
    "TallyConfigurationError",
    "TallyError",
    "TallyInputError",
    "TallyUsageError",
    "TieBreak",
    "METHODS",
    "STV_RULES",
    "count",
    "java_shuffle",
    "limits_for",
    "load_ballots",
    "tabulate_rctab",
]


def tabulate_rctab(
    config_path: str | Path,
    output_dir: str | Path,
    *,
    on_warning: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run an RCTab v2.0.1 configuration and write its reports (spec §5, §7.3).

    Returns the paths of the reports written in ``output_dir``; ``on_warning``
    receives notes about accepted but ignored options.
    """
    from .rctab import tabulate_rctab as run

    return run(config_path, output_dir, on_warning=on_warning)
