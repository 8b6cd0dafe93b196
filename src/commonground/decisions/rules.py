"""Who may do what, as named predicates over a ``Viewer`` (commonground.members.selectors)."""

from __future__ import annotations

from typing import Any

from commonground.members.models import Group, Role

ELECTION_RUNNERS = frozenset({Role.ORGANISER, Role.ADMIN, Role.RETURNING_OFFICER})


def can_see_group_decisions(viewer: Any, group: Group) -> bool:
    """Members see their group's decisions; a private group's are hidden from others."""
    if viewer.is_member or viewer.can_manage or bool(viewer.roles & ELECTION_RUNNERS):
        return True
    return bool(group.is_public and viewer.user.is_authenticated)


def can_run_elections(viewer: Any) -> bool:
    return bool(viewer.roles & ELECTION_RUNNERS)


def can_take_part(viewer: Any) -> bool:
    """Propose, support, amend, nominate, second: active members of the group's subtree."""
    return bool(viewer.is_member)
