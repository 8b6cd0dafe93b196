"""Extension point for a member's data export (``/me/export/``).

Each capability that stores something about a member adds a section from its
``AppConfig.ready()``, so the export stays complete without editing the members app:

    register_personal_data("comments", selectors.personal_data_comments)

The exporter receives the user and returns JSON-ready data (lists, dicts, strings,
numbers). It must never include another member's personal data, and never ballot
contents (only participation records: which ballots the member took part in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_exporters: dict[str, Callable[[Any], Any]] = {}


def register_personal_data(key: str, exporter: Callable[[Any], Any]) -> None:
    _exporters[key] = exporter


def exported_sections(user: Any) -> dict[str, Any]:
    return {key: exporter(user) for key, exporter in sorted(_exporters.items())}
