"""Who may do what with assemblies: one named predicate per question.

Group-level predicates take a ``members.selectors.Viewer``; assembly-level ones take
the viewer of the assembly's group and the assembly. Anything a viewer may not see
answers 404, whether it exists or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from commonground.members.models import Role

from .models import Assembly, Kind, Recruitment, Status

MANAGING_ROLES = frozenset({Role.ORGANISER, Role.ADMIN})


def _signed_in(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "deleted_at", None) is None
        and getattr(user, "is_active", True)
    )


def can_see_group_assemblies(viewer: Any) -> bool:
    """The group's list of assemblies: anyone for a public group, else its members
    and the people holding roles there."""
    return bool(viewer.group.is_public or viewer.is_member or viewer.roles)


def can_create_assembly(viewer: Any) -> bool:
    """Create an assembly: organisers and admins of a live group."""
    return bool(
        _signed_in(viewer.user)
        and viewer.roles & MANAGING_ROLES
        and viewer.group.archived_at is None
    )


def can_manage(viewer: Any) -> bool:
    """Run an assembly (settings, quotas, pool, draws): the convening group's
    organisers and admins."""
    return bool(_signed_in(viewer.user) and viewer.roles & MANAGING_ROLES)


def can_see_assembly(viewer: Any, assembly: Assembly) -> bool:
    """Its public page (and its draws): a draft only its organisers; a citizens'
    assembly anyone (it is public business); a members' assembly whoever may see
    the group's assemblies."""
    if assembly.status == Status.DRAFT:
        return can_manage(viewer)
    if assembly.kind == Kind.CITIZENS:
        return True
    return can_see_group_assemblies(viewer)


def can_edit_setup(viewer: Any, assembly: Assembly) -> bool:
    """Settings and quotas change while the assembly is a draft."""
    return can_manage(viewer) and assembly.status == Status.DRAFT


def recruitment_is_open(assembly: Assembly, now: datetime) -> bool:
    if assembly.status != Status.RECRUITING:
        return False
    closes = assembly.recruitment_closes_at
    return closes is None or now < closes


def can_register(viewer: Any, assembly: Assembly, now: datetime) -> bool:
    """Join the pool: anyone during an open call (a members' assembly: its members);
    for an invitation, the invited members (checked against their invitation)."""
    if not recruitment_is_open(assembly, now):
        return False
    if assembly.recruitment == Recruitment.INVITATION:
        return _signed_in(viewer.user)
    if assembly.kind == "members":
        return _signed_in(viewer.user) and bool(viewer.is_member)
    return True
