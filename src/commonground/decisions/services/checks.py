"""The permission checks every decisions service starts with (predicates in ``rules``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from commonground.members.models import Group
from commonground.members.selectors import viewer_for

from .. import rules
from ..models import Proposal
from .errors import DecisionRefused


def require_member(actor: Any, group: Group) -> None:
    """Only active members of the group (or its sub-groups) may take part."""
    if not rules.can_take_part(viewer_for(actor, group)):
        raise PermissionDenied(_("only active members of this group can do this"))


def require_live(group: Group) -> None:
    """An archived group opens nothing new (its records stay readable)."""
    if group.archived_at is not None:
        raise DecisionRefused(_("This group is archived: it opens nothing new."))


def require_runner(actor: Any, group: Group) -> None:
    """Only organisers, returning officers and admins run ballots."""
    if not rules.can_run_elections(viewer_for(actor, group)):
        raise PermissionDenied(
            _("only the group's organisers, returning officers and admins can do this")
        )


def is_author(actor: Any, proposal: Proposal) -> bool:
    """The proposal's author or one of its co-authors."""
    if actor is None or not actor.is_authenticated:
        return False
    return (
        actor.pk == proposal.author_id
        or proposal.coauthors.filter(pk=actor.pk).exists()
    )
