"""Progress reports and the time limit of a long selection."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One report on a running selection.

    ``phase`` is ``"bounds"`` (the relaxed LEXIMIN, an upper bound on every level),
    ``"panels"`` (splitting those chances into panels), ``"lottery"`` or ``"done"``;
    ``fraction`` is how much of the phase is done (0 to 1) and ``message`` says it in
    words, for a person.
    """

    phase: str
    fraction: float
    message: str
    elapsed: float


ProgressCallback = Callable[[Progress], None]


class OutOfTime(Exception):
    """Raised inside the solver when the time limit has passed."""


class Budget:
    """Wall-clock deadline plus a rate-limited progress callback."""

    #: at most one report per this many seconds, except phase changes
    INTERVAL = 1.0

    def __init__(
        self, time_limit: float | None = None, progress: ProgressCallback | None = None
    ) -> None:
        self.start = time.monotonic()
        self.deadline = None if time_limit is None else self.start + time_limit
        self.time_limit = time_limit
        self.progress = progress
        self._last_phase = ""
        self._last_report = -float("inf")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        if self.deadline is None:
            return float("inf")
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise :class:`OutOfTime` once the deadline has passed."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise OutOfTime

    def report(self, phase: str, fraction: float, message: str) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if phase == self._last_phase and now - self._last_report < self.INTERVAL:
            return
        self._last_phase = phase
        self._last_report = now
        self.progress(
            Progress(
                phase=phase,
                fraction=min(max(fraction, 0.0), 1.0),
                message=message,
                elapsed=now - self.start,
            )
        )
