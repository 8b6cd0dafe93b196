"""Who may see and do what with an organisation's membership register."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from commonground.members.models import Role
from commonground.members.selectors import is_organisation_admin


def can_manage_register(user: Any, organisation: Any) -> bool:
    """Import, export, the postcode table and every import job: the organisation's
    admins (the admin role on one of its top-level groups), nobody else."""
    return is_organisation_admin(user, organisation)


def require_register_admin(user: Any, organisation: Any) -> None:
    """What every register service checks first (views answer 404 before it)."""
    if not can_manage_register(user, organisation):
        raise PermissionDenied("only the organisation's admins manage its register")


def can_see_register_section(viewer: Any) -> bool:
    """The register's entry in a group's navigation: on a top-level group, for its
    admins, who are the organisation's admins (no query: the viewer has the roles)."""
    return viewer.group.parent_id is None and Role.ADMIN in viewer.roles
