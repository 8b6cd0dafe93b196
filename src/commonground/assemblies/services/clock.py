"""The time assemblies services act at: one function every service asks, so tests
can replay a moment (``mock.patch.object(services.clock, "now", ...)``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current time (aware, UTC)."""
    return timezone.now()
