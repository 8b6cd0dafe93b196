"""Demo content of the assemblies app (issue 16, item 5 fills it in)."""

from __future__ import annotations

from typing import Any


def seed(context: dict[str, Any]) -> None:
    """Add demo assemblies to ``context`` (nothing yet)."""
