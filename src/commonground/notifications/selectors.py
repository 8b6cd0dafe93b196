"""Reads: a member's notifications, unread count, preferences table, follows."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from commonground.core.capabilities import NotificationKind

from .models import Follow, Notification
from .registry import all_kinds
from .services import allowed_channels, channels_for


def unread_count(member: Any) -> int:
    if not getattr(member, "is_authenticated", False):
        return 0
    return Notification.objects.filter(
        recipient=member, in_app=True, read_at__isnull=True
    ).count()


def _zone(member: Any) -> Any:
    name = getattr(member, "time_zone", "") or ""
    try:
        return zoneinfo.ZoneInfo(name) if name else timezone.get_current_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


@dataclass
class Day:
    day: date
    notifications: list[Notification] = field(default_factory=list)


def centre_days(member: Any, *, limit: int = 200) -> list[Day]:
    """The member's in-app notifications, newest first, grouped by day in their zone."""
    zone = _zone(member)
    rows = list(
        Notification.objects.filter(recipient=member, in_app=True)
        .select_related("target_type")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Day(day=day, notifications=list(items))
        for day, items in groupby(
            rows, key=lambda n: timezone.localtime(n.created_at, zone).date()
        )
    ]


@dataclass(frozen=True)
class PreferenceCell:
    kind: NotificationKind
    group_id: int | None
    channel: str
    choices: list[tuple[str, str]]
    field_name: str


def preference_rows(
    member: Any, groups: list[tuple[int | None, str]]
) -> list[tuple[str, list[PreferenceCell]]]:
    """One row per group (``None``: everywhere), one cell per kind."""
    from .models import Channel

    labels = dict(Channel.choices)
    rows = []
    for group_id, group_name in groups:
        cells = []
        for kind in all_kinds():
            channel = channels_for(kind, [member.pk], group_id)[member.pk]
            cells.append(
                PreferenceCell(
                    kind=kind,
                    group_id=group_id,
                    channel=channel,
                    choices=[(c, str(labels[c])) for c in allowed_channels(kind)],
                    field_name=f"{kind.name}|{group_id or ''}",
                )
            )
        rows.append((group_name, cells))
    return rows


def is_following(member: Any, target: Any) -> bool:
    if not getattr(member, "is_authenticated", False):
        return False
    return Follow.objects.filter(
        member=member,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
    ).exists()


def personal_data_notifications(user: Any) -> dict[str, Any]:
    return {
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "created_at": n.created_at.isoformat(),
                "read_at": n.read_at.isoformat() if n.read_at else None,
            }
            for n in Notification.objects.filter(recipient=user, in_app=True)
        ],
        "preferences": list(
            user.notification_preferences.values("kind", "group_id", "channel")
        ),
        "follows": [
            {"type": f.target_type.model, "id": f.target_id}
            for f in Follow.objects.filter(member=user).select_related("target_type")
        ],
    }
