"""Who may see and do what in a group, as named predicates over a ``Viewer``."""

from __future__ import annotations

from typing import Any


def can_see_members(viewer: Any) -> bool:
    """The member list and the group's audit log: its members and those who manage it."""
    return bool(viewer.is_member or viewer.can_manage)


def can_manage_group(viewer: Any) -> bool:
    """Organiser tools: organisers and admins of the group or an ancestor."""
    return bool(viewer.can_manage)
