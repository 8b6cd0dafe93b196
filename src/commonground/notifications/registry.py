"""The notification kinds apps register in their capability entry."""

from __future__ import annotations

from commonground.core.capabilities import NotificationKind, notification_kinds


class UnknownKind(LookupError):
    pass


def kind_named(name: str) -> NotificationKind:
    try:
        return notification_kinds()[name]
    except KeyError:
        raise UnknownKind(name) from None


def all_kinds() -> list[NotificationKind]:
    return sorted(notification_kinds().values(), key=lambda kind: kind.name)
