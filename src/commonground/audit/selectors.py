"""Reading the audit log: a group's entries, newest first, with each action's label.

The labels come from the capability registry (each app labels its own actions), so
this floor-0 app names no other app.
"""

from __future__ import annotations

from typing import Any

from commonground.core.capabilities import Label, audit_action_labels

from .models import AuditEntry


def group_entries(group: Any, limit: int = 200) -> list[AuditEntry]:
    """The group's most recent ``limit`` entries, newest first."""
    return list(AuditEntry.objects.filter(group=group).order_by("-id")[:limit])


def action_labels() -> dict[str, Label]:
    """Action name -> what the log page says, for current and retired names."""
    return audit_action_labels()
