from __future__ import annotations

from typing import Any

from .models import AuditEntry

ACTION_LABELS = {
    "membership.approve": "approved an application",
    "membership.decline": "declined an application",
    "membership.suspend": "suspended a member",
    "membership.reinstate": "reinstated a member",
    "membership.lapse": "marked a membership as lapsed",
    "role.assign": "assigned a role",
    "role.revoke": "removed a role",
    "group.settings": "changed the group's settings",
    "group.create": "created the group",
    "account.delete": "deleted their account",
}


def group_audit_entries(group: Any, limit: int = 200) -> list[dict[str, Any]]:
    """The group's log, newest first, with actors and subjects named as members see them."""
    from commonground.members.models import User

    entries = list(AuditEntry.objects.filter(group=group).order_by("-id")[:limit])
    people = {
        user.pk: user
        for user in User.objects.filter(
            pk__in={e.actor_id for e in entries if e.actor_id}
            | {
                e.data.get("member")
                for e in entries
                if isinstance(e.data.get("member"), int)
            }
        ).only("id", "display_name", "deleted_at")
    }

    def name(user_id: Any) -> str:
        if user_id is None:
            return "The system"
        user = people.get(user_id)
        return user.public_name if user else "Deleted member"

    return [
        {
            "entry": entry,
            "actor": name(entry.actor_id),
            "summary": ACTION_LABELS.get(entry.action, entry.action),
            "subject": name(entry.data["member"]) if "member" in entry.data else "",
            "role": entry.data.get("role", ""),
        }
        for entry in entries
    ]
