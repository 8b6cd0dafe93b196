"""Pieces every newsletter workflow shares: who may act, the sending settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from commonground.members.models import Group
from commonground.members.selectors import viewer_for

from .. import rules


def require_manager(actor: Any, group: Group) -> None:
    """``PermissionDenied`` unless ``actor`` organises or administers ``group`` (a
    role held there or on a group above it)."""
    if actor is None or not rules.can_manage_newsletters(viewer_for(actor, group)):
        raise PermissionDenied(_("Only the group's organisers write its newsletters."))


def send_rate() -> float:
    """Emails per second the mail server accepts (0: as fast as it takes them)."""
    return max(float(getattr(settings, "NEWSLETTER_SEND_RATE", 10.0)), 0.0)


def batch_size() -> int:
    """Recipients per chunk task: one SMTP session, one task to retry."""
    return max(int(getattr(settings, "NEWSLETTER_BATCH_SIZE", 200)), 1)
