"""What each counting method accepts, checked before any work starts.

A count's time and memory grow with the candidates (rounds, pairwise matrices,
the trace of every round), with the distinct ballots and with their length, so
each method has documented limits (docs/reliability.md, "Tally limits") and
:func:`check_limits` refuses an election beyond them with a one-line
:class:`TallyInputError` (exit code 3) instead of running out of time or memory.
Within the limits every method finishes in bounded time: the benchmark at the
limits is ``tests/engines/tally/test_tally_limits.py`` (marked slow) and its
figures are in the same document. The platform's ballot forms enforce the same
candidate limits (``commonground.decisions``).

>>> limits_for("schulze").candidates
200
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._election import INT64_LIMIT, MAX_BALLOT_WEIGHT, BallotTable, Election
from ._errors import TallyInputError

__all__ = [
    "LIMITS",
    "MAX_INPUT_BYTES",
    "MAX_RANK_NUMBER",
    "MethodLimits",
    "check_limits",
    "limits_for",
    "parse_natural",
]

# A ballot file larger than this is refused before it is read: reading a file
# takes about four times its size in memory (256 MiB of CSV peaks near 1 GB).
MAX_INPUT_BYTES = 256 * 1024 * 1024
# No ballot has a rank number above this (a rank 10**12 would otherwise become
# 10**12 skipped ranks): larger ranks in CDF files and grid ballots are refused.
MAX_RANK_NUMBER = 10_000


@dataclass(frozen=True)
class MethodLimits:
    """The most a method counts.

    ``candidates``: candidates on the ballot (withdrawn ones included).
    ``distinct_ballots``: distinct ballots after identical ones are merged (any
    number of identical ballots costs one).
    ``ballot_cells``: distinct ballots x the longest ballot (its ranks, or for
    score and approval grids one cell per candidate): the size of the table the
    count works on.
    ``rank_pairs``: for the pairwise methods, the pairs of marks on each distinct
    ballot, summed (a ballot with r marks has r(r-1)/2): pairwise counting visits
    each once. ``None`` when the method does not count pairs.
    """

    candidates: int
    distinct_ballots: int = 1_000_000
    ballot_cells: int = 10_000_000
    rank_pairs: int | None = None


LIMITS: Mapping[str, MethodLimits] = {
    "plurality": MethodLimits(candidates=10_000),
    "approval": MethodLimits(candidates=10_000),
    "score": MethodLimits(candidates=10_000),
    "star": MethodLimits(candidates=1_000),
    "irv": MethodLimits(candidates=500),
    "stv": MethodLimits(candidates=500),
    # Meek repeats a pass over every ballot until the keep factors settle, in
    # every round: fewer candidates (rounds) and a smaller table.
    "stv-meek": MethodLimits(candidates=200, ballot_cells=2_000_000),
    "schulze": MethodLimits(candidates=200, rank_pairs=100_000_000),
    "ranked-pairs": MethodLimits(candidates=200, rank_pairs=100_000_000),
}

# Methods that read a grid ballot's numbers as rank numbers (not scores).
_GRID_AS_RANKS = frozenset({"plurality", "irv", "stv", "schulze", "ranked-pairs"})


def limits_for(method: str, rules: str | None = None) -> MethodLimits:
    """The limits of ``method`` (with ``rules`` for STV: Meek has its own)."""
    if method == "stv" and rules == "meek":
        return LIMITS["stv-meek"]
    return LIMITS[method]


def parse_natural(text: str, maximum: int) -> int | None:
    """``text`` as an integer 0..``maximum``, or None: ASCII digits only, and the
    length is checked before converting, so a 5,000-digit number is refused
    cheaply instead of tripping Python's digit limit.

    >>> parse_natural("0042", 100), parse_natural("9" * 5000, 100), parse_natural("٣", 9)
    (42, None, None)
    """
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(maximum)):
        return None
    value = int(digits)
    return value if value <= maximum else None


def check_limits(election: Election, method: str, rules: str | None) -> None:
    """Refuse ``election`` if ``method`` cannot count it within its limits."""
    limits = limits_for(method, rules)
    name = f"stv ({rules})" if method == "stv" and rules else method
    where = election.source_file or "<ballots>"

    def refuse(field: str, what: str, most: int) -> TallyInputError:
        return TallyInputError(
            where,
            "ballots",
            field,
            f"{what}; {name} counts at most {most:,} (docs/reliability.md)",
        )

    candidates = len(election.candidates)
    if candidates > limits.candidates:
        raise refuse("candidates", f"{candidates:,} candidates", limits.candidates)
    table = election.ballots
    assert isinstance(table, BallotTable)
    distinct = len(table)
    if distinct > limits.distinct_ballots:
        raise refuse(
            "ballots", f"{distinct:,} distinct ballots", limits.distinct_ballots
        )
    heaviest = _heaviest(table)
    if heaviest > MAX_BALLOT_WEIGHT:
        raise TallyInputError(
            where,
            "ballots",
            "weight",
            f"a ballot weighs more than {MAX_BALLOT_WEIGHT:,}",
        )
    longest, pairs = _lengths(election, table, grid_as_ranks=method in _GRID_AS_RANKS)
    cells = distinct * longest
    if election.kind == "grid" and method not in _GRID_AS_RANKS:
        cells = distinct * candidates
    if cells > limits.ballot_cells:
        raise refuse(
            "ballots",
            f"{distinct:,} distinct ballots of up to {longest:,} ranks "
            f"({cells:,} cells)",
            limits.ballot_cells,
        )
    if limits.rank_pairs is not None and pairs > limits.rank_pairs:
        raise refuse("ballots", f"{pairs:,} pairs of ranks", limits.rank_pairs)


def _heaviest(table: BallotTable) -> int:
    matrix = table.matrix
    if matrix is not None:
        weights = matrix[1]
        return int(weights.max()) if weights.size else 0
    return max(table.values(), default=0)


def _lengths(
    election: Election, table: BallotTable, *, grid_as_ranks: bool
) -> tuple[int, int]:
    """The longest ballot (ranks, or its top rank number for a grid read as ranks)
    and the sum over ballots of the pairs of its marks; both before withdrawn
    candidates and repeats are dropped, so they bound the work from above."""
    matrix = table.matrix
    if matrix is not None:
        marks = (matrix[0] >= 0).sum(axis=1).astype(np.int64)
        longest = int(matrix[0].shape[1]) if marks.size else 0
        return longest, int((marks * (marks - 1) // 2).sum())
    longest = 0
    pairs = 0
    for ballot in table:
        count, width = _ballot_size(ballot, election.kind, grid_as_ranks)
        longest = max(longest, width)
        pairs += count * (count - 1) // 2
        if pairs >= INT64_LIMIT:
            break
    return longest, pairs


def _ballot_size(ballot: Any, kind: str, grid_as_ranks: bool) -> tuple[int, int]:
    """(marks, width) of one ballot: a grid's width as ranks is its top rank."""
    if kind == "grid":
        marked = [value for value in ballot if value > 0]
        top = max(marked, default=0) if grid_as_ranks else len(ballot)
        return len(marked), top
    return sum(len(group) for group in ballot), len(ballot)
