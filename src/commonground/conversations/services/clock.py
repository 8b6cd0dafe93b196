"""The time conversation services act at: one function every service asks, never the
OS, so the demo seed and the tests can replay a moment
(``mock.patch.object(services.clock, "now", ...)``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current time (aware, UTC)."""
    return timezone.now()


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit of vote and statement times."""
    return int(round(moment.timestamp() * 1000))
