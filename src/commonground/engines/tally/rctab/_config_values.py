"""Reading RCTab configuration values and collecting the problems found.

Shared by the section validators (:mod:`._config`, :mod:`._config_rules`,
:mod:`._config_sources`): text, integer and boolean fields read the way RCTab
reads them, and one list of problems for the report.
"""

from __future__ import annotations

import json
from typing import Any


def text_value(value: Any) -> str:
    """A value as stripped text (JSON booleans as ``true``/``false``, null as "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


class Collector:
    """Every problem found, as ``key = value: expected ...`` lines, in order."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, value: Any, expected: str) -> None:
        shown = (
            json.dumps(value, ensure_ascii=False) if value is not None else "missing"
        )
        self.problems.append(f"{key} = {shown}: expected {expected}")


def boolean_value(
    section: dict[str, Any], key: str, where: str, errors: Collector
) -> bool:
    """``section[key]`` as a boolean (absent or blank = False); else a problem."""
    value = section.get(key, False)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    errors.add(f"{where}.{key}", value, 'true or false (or "true"/"false")')
    return False


def integer_value(value: Any) -> int | None:
    """A JSON integer or decimal integer text, or None (booleans are not integers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = text_value(value)
    if not text:
        return None
    try:
        return int(text, 10)
    except ValueError:
        return None
