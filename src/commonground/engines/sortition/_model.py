"""Plain data in and out of the sortition engine: quotas, people, errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    """Between ``minimum`` and ``maximum`` panel members must have ``feature = value``."""

    feature: str
    value: str
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Person:
    """One volunteer in the pool.

    ``features`` maps every quota feature to this person's value. ``household`` is
    any label shared by people living at the same address (``None``: no household
    constraint applies to this person).
    """

    id: str
    features: Mapping[str, str]
    household: str | None = None


class SortitionError(Exception):
    """Base class of every error the engine reports to a user."""


class SortitionInputError(SortitionError):
    """Malformed input: names the file (or source), the line and the field."""

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f", line {self.line}" if where else f"line {self.line}"
        if self.field is not None:
            where += f", field {self.field!r}" if where else f"field {self.field!r}"
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class QuotaChange:
    """One step of a proposed relaxation: change a bound from ``old`` to ``new``."""

    feature: str
    value: str
    bound: str  # "min" or "max"
    old: int
    new: int


class InfeasibleQuotasError(SortitionError):
    """No panel satisfies every quota; ``relaxation`` is the smallest fix found."""

    def __init__(
        self,
        message: str,
        *,
        conflicting_features: tuple[str, ...] = (),
        relaxation: tuple[QuotaChange, ...] = (),
    ) -> None:
        self.message = message
        self.conflicting_features = conflicting_features
        self.relaxation = relaxation
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class SortitionTimeLimitError(SortitionError):
    """The time limit passed before any distribution over panels was found."""
