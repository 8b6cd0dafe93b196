"""The time decisions services act at: one function every service asks, never the OS.

Services call ``clock.now()`` through the module, so the demo seed can replay a
moment (``mock.patch.object(services.clock, "now", ...)``) as tests do with
time-machine.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current time (aware, UTC)."""
    return timezone.now()
