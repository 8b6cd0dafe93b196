"""Pieces the members services share: a status transition with its history row, the
organiser check, and the membership row lock."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Group, Membership, MembershipChange
from ..selectors import viewer_for

Status = Membership.Status


def _transition(
    membership: Membership, to_status: str, *, actor: Any, reason: str = ""
) -> Membership:
    now = timezone.now()
    MembershipChange.objects.create(
        membership=membership,
        from_status=membership.status if membership.pk else "",
        to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
        at=now,
    )
    Membership.objects.filter(pk=membership.pk).update(status=to_status, since=now)
    membership.status = to_status
    membership.since = now
    return membership


def _require_manager(actor: Any, group: Group) -> None:
    if not viewer_for(actor, group).can_manage:
        raise PermissionDenied(_("only the group's organisers and admins can do this"))


def _locked_membership(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update()
        .select_related("group", "user")
        .get(pk=membership.pk)
    )
