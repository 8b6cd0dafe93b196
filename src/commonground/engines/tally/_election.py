"""The election data model: candidates and aggregated ballots (spec §1, §2).

A *ranking* is a tuple of rank groups, each a tuple of candidate indices: rank 1
first.  ``((2,), (0,))`` ranks candidate 2 first and candidate 0 second; an
empty group ``()`` is a skipped rank number; a group with several candidates is
an equal ranking (an overvote for IRV and STV).  A *grid* ballot is a tuple of
one integer per candidate (scores, approvals or rank numbers).  Identical
ballots are aggregated: ``Election.ballots`` maps each distinct ballot to its
integer weight.

>>> election = Election.from_rankings(["Ann", "Bo", "Cy"], [[0, 1], [2], [0, 1]])
>>> dict(election.ballots)
{((0,), (1,)): 2, ((2,),): 1}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Ranking = tuple[tuple[int, ...], ...]
Grid = tuple[int, ...]
BallotKind = Literal["ranked", "grid"]

EMPTY_REASONS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True)
class InvalidBallots:
    """Ballots left out of the count: their total weight and a count per reason."""

    count: int = 0
    reasons: Mapping[str, int] = field(default_factory=lambda: EMPTY_REASONS)

    def plus(self, reason: str, weight: int) -> InvalidBallots:
        """Return a copy with ``weight`` more ballots invalid for ``reason``."""
        if weight == 0:
            return self
        reasons = dict(self.reasons)
        reasons[reason] = reasons.get(reason, 0) + weight
        return InvalidBallots(self.count + weight, MappingProxyType(reasons))


# Counting runs on int64 arrays. Amounts are scaled by 10**decimals (STV rule sets) or
# multiplied by a score, so count() refuses totals that could overflow, and readers
# refuse a single weight above this bound, rather than ever wrap around.
INT64_LIMIT = 2**63
MAX_BALLOT_WEIGHT = 2**53


class BallotTable(Mapping[Any, int]):
    """Distinct ballots -> weight, read-only.

    Built either from a dict or, lazily, from a padded integer matrix of
    distinct rankings (one candidate per rank, ``-1`` for a skipped rank or
    padding) and their weights, so the fast counting paths never have to build
    Python tuples.
    """

    __slots__ = ("_dict", "_matrix", "_weights")

    def __init__(
        self,
        ballots: Mapping[Any, int] | None = None,
        *,
        matrix: npt.NDArray[np.int64] | None = None,
        weights: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self._dict: dict[Any, int] | None = (
            dict(ballots) if ballots is not None else None
        )
        self._matrix = matrix
        self._weights = weights

    @property
    def matrix(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """``(matrix, weights)`` when built from a matrix, else ``None``."""
        if self._matrix is None or self._weights is None:
            return None
        return self._matrix, self._weights

    def _materialise(self) -> dict[Any, int]:
        if self._dict is None:
            assert self._matrix is not None and self._weights is not None
            built: dict[Any, int] = {}
            for row, weight in zip(
                self._matrix.tolist(), self._weights.tolist(), strict=True
            ):
                while row and row[-1] < 0:
                    row.pop()
                key = tuple((c,) if c >= 0 else () for c in row)
                built[key] = built.get(key, 0) + weight
            self._dict = built
        return self._dict

    def __getitem__(self, key: Any) -> int:
        return self._materialise()[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._materialise())

    def __len__(self) -> int:
        if self._dict is None and self._matrix is not None:
            return int(self._matrix.shape[0])
        return len(self._materialise())

    def total(self) -> int:
        """Sum of all weights, exact whatever their size."""
        if self._dict is None and self._weights is not None:
            weights = self._weights
            if weights.size and int(weights.max()) * weights.size >= INT64_LIMIT:
                return sum(int(w) for w in weights.tolist())
            return int(weights.sum())
        return sum(self._materialise().values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))

    def __repr__(self) -> str:
        return f"BallotTable({self._materialise()!r})"


@dataclass(frozen=True)
class Election:
    """Candidates and aggregated ballots, ready to count.

    ``candidates`` are exact names in input order; ``withdrawn`` holds indices
    of withdrawn candidates; ``tie_order`` is the BLT ``[tie]`` line as a
    sequence of candidate indices (lot order, earliest first) or ``None``;
    ``invalid`` counts ballots a reader already rejected.  ``source_file`` and
    ``source_format`` describe where the ballots came from, for the result's
    ``input`` section.  ``seats`` is the number of seats a BLT header states.
    """

    candidates: tuple[str, ...]
    ballots: Mapping[Any, int]
    withdrawn: frozenset[int] = frozenset()
    title: str = ""
    tie_order: tuple[int, ...] | None = None
    invalid: InvalidBallots = field(default_factory=InvalidBallots)
    kind: BallotKind = "ranked"
    seats: int | None = None
    source_file: str | None = None
    source_format: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ballots, BallotTable):
            object.__setattr__(self, "ballots", BallotTable(self.ballots))
        object.__setattr__(self, "candidates", tuple(self.candidates))
        object.__setattr__(self, "withdrawn", frozenset(self.withdrawn))
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidate names must be distinct")
        n = len(self.candidates)
        if any(not 0 <= c < n for c in self.withdrawn):
            raise ValueError("withdrawn candidate index out of range")
        table = self.ballots
        assert isinstance(table, BallotTable)
        if table.matrix is None:
            _check_ballots(table, n, self.kind)
        if self.tie_order is not None:
            order = tuple(self.tie_order)
            object.__setattr__(self, "tie_order", order)
            if any(not 0 <= c < n for c in order) or len(set(order)) != len(order):
                raise ValueError("tie order must list distinct candidate indices")

    @property
    def total_weight(self) -> int:
        """Total weight of the ballots held (before any method rejects some)."""
        table = self.ballots
        assert isinstance(table, BallotTable)
        return table.total()

    @classmethod
    def from_rankings(
        cls,
        candidates: Sequence[str],
        rankings: Iterable[Sequence[Any]] | npt.NDArray[np.integer[Any]],
        weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
        **options: Any,
    ) -> Election:
        """Build an election from ranked ballots.

        ``rankings`` is an iterable of ballots, each a sequence of ranks; a rank
        is a candidate index, a candidate name, a sequence of them (equal
        ranking), or ``-1``/``None`` for a skipped rank.  It may also be a 2-D
        numpy integer matrix, one ballot per row, padded with ``-1``.
        ``weights`` gives each ballot's weight (default 1).  Other keyword
        arguments are passed to the constructor (``withdrawn``, ``title``, ...).
        """
        candidates = tuple(candidates)
        if isinstance(rankings, np.ndarray):
            matrix, counts = aggregate_matrix(rankings, weights, len(candidates))
            return cls(
                candidates,
                BallotTable(matrix=matrix, weights=counts),
                **options,
            )
        index = {name: i for i, name in enumerate(candidates)}
        n = len(candidates)

        def candidate(mark: Any) -> int:
            if isinstance(mark, str):
                if mark not in index:
                    raise ValueError(f"unknown candidate name {mark!r}")
                return index[mark]
            value = int(mark)
            if not 0 <= value < n:
                raise ValueError(f"candidate index {value} out of range")
            return value

        ballots: dict[Ranking, int] = {}
        weight_list = list(weights) if weights is not None else None
        for position, ballot in enumerate(rankings):
            groups: list[tuple[int, ...]] = []
            for mark in ballot:
                if mark is None or (not isinstance(mark, str) and _is_int(mark)):
                    if mark is None or int(mark) < 0:
                        groups.append(())
                    else:
                        groups.append((candidate(mark),))
                else:
                    groups.append(tuple(candidate(m) for m in mark))
            while groups and not groups[-1]:
                groups.pop()
            weight = 1 if weight_list is None else int(weight_list[position])
            if weight <= 0:
                raise ValueError("ballot weights must be positive integers")
            key = tuple(groups)
            ballots[key] = ballots.get(key, 0) + weight
        return cls(candidates, ballots, **options)

    @classmethod
    def from_grid(
        cls,
        candidates: Sequence[str],
        rows: Iterable[Sequence[int]] | npt.NDArray[np.integer[Any]],
        weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
        **options: Any,
    ) -> Election:
        """Build an election from grid ballots: one integer per candidate per row.

        For score and STAR the integers are scores; for approval non-zero means
        approved; for ranked methods they are rank numbers (0 = unranked).
        """
        candidates = tuple(candidates)
        ballots: dict[Grid, int] = {}
        weight_list = list(weights) if weights is not None else None
        for position, row in enumerate(rows):
            key = tuple(int(v) for v in row)
            if len(key) != len(candidates):
                raise ValueError("each grid row needs one value per candidate")
            weight = 1 if weight_list is None else int(weight_list[position])
            if weight <= 0:
                raise ValueError("ballot weights must be positive integers")
            ballots[key] = ballots.get(key, 0) + weight
        return cls(candidates, ballots, kind="grid", **options)


def _check_ballots(ballots: Mapping[Any, int], n: int, kind: str) -> None:
    """Reject ballots that do not fit the model, with a clear ValueError."""
    for ballot, weight in ballots.items():
        if not isinstance(weight, int | np.integer) or weight <= 0:
            raise ValueError(f"ballot {ballot!r}: weight must be a positive integer")
        if not isinstance(ballot, tuple):
            raise ValueError(f"ballot {ballot!r} must be a tuple")
        if kind == "grid":
            if len(ballot) != n or not all(isinstance(v, int) for v in ballot):
                raise ValueError(
                    f"grid ballot {ballot!r} needs one integer per candidate"
                )
            continue
        for group in ballot:
            if not isinstance(group, tuple) or not all(
                isinstance(c, int) and 0 <= c < n for c in group
            ):
                raise ValueError(
                    f"ballot {ballot!r}: each rank must be a tuple of candidate "
                    f"indices 0..{n - 1}"
                )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer)


def aggregate_matrix(
    rankings: npt.NDArray[np.integer[Any]],
    weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None,
    candidate_count: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Aggregate identical rows of a ``-1``-padded matrix.

    Returns the distinct rows (trailing all-padding columns dropped) and their
    total weights.  Rows are packed into one integer each so that ``np.unique``
    (or, when the key space is small, ``np.bincount``) does the grouping.
    """
    matrix = np.asarray(rankings)
    if matrix.ndim != 2:
        raise ValueError("a ranking matrix must be two-dimensional")
    if matrix.size and (int(matrix.max()) >= candidate_count or int(matrix.min()) < -1):
        raise ValueError("matrix entries must be candidate indices or -1")
    if weights is None:
        weight_array = None
    else:
        weight_array = np.asarray(weights, dtype=np.int64)
        if weight_array.shape != (matrix.shape[0],) or (
            weight_array.size and int(weight_array.min()) <= 0
        ):
            raise ValueError("one positive integer weight per row is needed")
    rows_count, columns = matrix.shape
    # Drop padding columns that no row uses (column by column: a reduction
    # along axis 0 of a row-major matrix is much slower).
    width = columns
    while width and int(matrix[:, width - 1].max(initial=-1)) < 0:
        width -= 1
    if rows_count == 0:
        return np.zeros((0, 0), np.int64), np.zeros(0, np.int64)
    if width == 0:
        total = int(weight_array.sum()) if weight_array is not None else rows_count
        return np.zeros((1, 0), np.int64), np.array([total], np.int64)
    base = candidate_count + 1
    bits = max(1, int(base - 1).bit_length())
    if base**width <= 1 << 24:
        # Mixed-radix keys small enough for a counting sort.
        key_type = np.int32
        key = np.zeros(rows_count, key_type)
        for column in range(width):
            key *= base
            np.add(key, matrix[:, column], out=key, casting="unsafe")
            key += 1
        if weight_array is None:
            counts = np.bincount(key, minlength=0)
        else:
            counts = _weighted_bincount(key, weight_array, 0)
        present = np.flatnonzero(counts)
        distinct_weights = counts[present].astype(np.int64)
        keys = present.astype(np.int64)
        rows = np.empty((keys.size, width), np.int64)
        for column in range(width - 1, -1, -1):
            rows[:, column] = keys % base - 1
            keys //= base
        return rows, distinct_weights
    if bits * width <= 63:
        key64 = np.zeros(rows_count, np.int64)
        for column in range(width):
            key64 <<= bits
            key64 |= matrix[:, column].astype(np.int64) + 1
        unique, inverse = np.unique(key64, return_inverse=True)
        mask = (1 << bits) - 1
        rows = np.empty((unique.size, width), np.int64)
        shifted = unique.copy()
        for column in range(width - 1, -1, -1):
            rows[:, column] = (shifted & mask) - 1
            shifted >>= bits
    else:
        rows, inverse = np.unique(
            matrix[:, :width].astype(np.int64), axis=0, return_inverse=True
        )
    inverse = inverse.reshape(-1)
    if weight_array is None:
        distinct_weights = np.bincount(inverse, minlength=rows.shape[0])
    else:
        distinct_weights = _weighted_bincount(inverse, weight_array, rows.shape[0])
    return rows, distinct_weights.astype(np.int64)


def _weighted_bincount(
    keys: npt.NDArray[Any], weights: npt.NDArray[np.int64], length: int
) -> npt.NDArray[np.int64]:
    """Exact integer sums of ``weights`` per key (float bincount only when exact)."""
    if int(weights.sum()) < 1 << 53:
        return np.bincount(keys, weights=weights, minlength=length).astype(np.int64)
    sums = np.zeros(max(length, int(keys.max()) + 1), np.int64)
    np.add.at(sums, keys, weights)
    return sums


# ---------------------------------------------------------------------------
# Ballot normalisation (spec §2)


def usable_preferences(
    ranking: Ranking,
    excluded: frozenset[int] | set[int],
    *,
    stop_at_gap: bool = False,
) -> tuple[int, ...]:
    """Preferences an IRV/STV count can use, in order.

    Candidates in ``excluded`` (withdrawn) are removed; a candidate's repeated
    marks after the first are ignored; a skipped rank is passed over, or ends
    the preferences with ``stop_at_gap`` (Scottish rules: "next available
    preference" needs consecutive numbers); a rank holding several candidates
    ends the preferences.
    """
    if all(len(group) == 1 for group in ranking):
        # Common case: one candidate per rank, no gap.
        flat = [group[0] for group in ranking]
        if len(set(flat)) == len(flat) and excluded.isdisjoint(flat):
            return tuple(flat)
    seen: list[int] = []
    for group in ranking:
        if not group:
            if stop_at_gap:
                break
            continue
        remaining = [c for c in group if c not in excluded and c not in seen]
        if not remaining:
            continue
        if len(set(remaining)) > 1:
            break
        seen.append(remaining[0])
    return tuple(seen)


def weak_order(
    ranking: Ranking, excluded: frozenset[int] | set[int]
) -> tuple[tuple[int, ...], ...]:
    """Rank groups for Schulze/Ranked Pairs: equal rankings kept, gaps dropped.

    Withdrawn candidates and repeated marks are removed; unranked candidates are
    below every ranked one.
    """
    seen: set[int] = set()
    groups: list[tuple[int, ...]] = []
    for group in ranking:
        remaining = tuple(
            sorted({c for c in group if c not in excluded and c not in seen})
        )
        if remaining:
            groups.append(remaining)
            seen.update(remaining)
    return tuple(groups)


def grid_to_ranking(grid: Grid) -> Ranking:
    """Turn a grid of rank numbers (0 or negative = unranked) into a ranking."""
    marks = sorted({v for v in grid if v > 0})
    if not marks:
        return ()
    groups: list[tuple[int, ...]] = []
    for rank in range(1, marks[-1] + 1):
        groups.append(tuple(c for c, v in enumerate(grid) if v == rank))
    return tuple(groups)
