"""What conversations tell members, through ``commonground.notifications``.

Services call these inside their transaction; ``notify`` records the notifications
and sends emails once the transaction commits, so a rolled-back change tells no one.
The kinds are registered in this app's capability entry.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.members import selectors as member_selectors
from commonground.members.models import Group, Membership, Organisation, User
from commonground.notifications.delivery import site_url
from commonground.notifications.services import notify

OPENED = "conversations.opened"
MAP_READY = "conversations.map_ready"
STATEMENT_MODERATED = "conversations.statement_moderated"


def still_in_group(group_id: int, member_ids: list[int]) -> set[int]:
    """Members still active in the group's subtree or, for a coalition's group, in one
    of its affiliated organisations (the rest left: told nothing more)."""
    group = Group.objects.select_related("organisation").get(pk=group_id)
    active = set(
        member_selectors.subtree_active_memberships(group)
        .filter(user_id__in=member_ids)
        .values_list("user_id", flat=True)
    )
    if group.organisation.kind == Organisation.Kind.COALITION:
        active |= set(
            Membership.objects.filter(
                user_id__in=member_ids,
                status=Membership.Status.ACTIVE,
                group__organisation__coalitions=group.organisation,
            ).values_list("user_id", flat=True)
        )
    return active


NOTIFICATION_KINDS = (
    NotificationKind(
        name=OPENED,
        label=_("A conversation opens in my group"),
        default_channel="daily",
        still_in_group=still_in_group,
        subject_template="conversations/email/opened_subject.txt",
        text_template="conversations/email/opened.txt",
    ),
    NotificationKind(
        name=MAP_READY,
        label=_("The map of a conversation I took part in is ready"),
        default_channel="email",
        subject_template="conversations/email/map_ready_subject.txt",
        text_template="conversations/email/map_ready.txt",
    ),
    NotificationKind(
        name=STATEMENT_MODERATED,
        label=_("A moderator accepted or rejected a statement I wrote"),
        default_channel="in_app",
        subject_template="conversations/email/statement_moderated_subject.txt",
        text_template="conversations/email/statement_moderated.txt",
    ),
)


def eligible_members(group: Group) -> Any:
    """Who takes part in a members' conversation of ``group``: active members of its
    subtree and, for a coalition's group, of every affiliated organisation."""
    in_subtree = member_selectors.subtree_active_memberships(group).values("user_id")
    users = User.objects.filter(pk__in=in_subtree)
    if group.organisation.kind == Organisation.Kind.COALITION:
        affiliates = Membership.objects.filter(
            status=Membership.Status.ACTIVE,
            group__organisation__coalitions=group.organisation,
        ).values("user_id")
        users = User.objects.filter(pk__in=in_subtree) | User.objects.filter(
            pk__in=affiliates
        )
    return users.filter(deleted_at__isnull=True, is_active=True)


def conversation_opened(conversation: Any, actor: Any) -> int:
    """Tell those who may take part (the organiser who opened it excepted)."""
    path = reverse("conversations:detail", args=[conversation.pk])
    recipients = eligible_members(conversation.group)
    if actor is not None:
        recipients = recipients.exclude(pk=actor.pk)
    return len(
        notify(
            OPENED,
            recipients=recipients,
            group=conversation.group,
            target=conversation,
            url=path,
            context={"conversation": conversation, "url": site_url(path)},
        )
    )


def map_ready(conversation: Any, participants: Any) -> int:
    """Tell those who took part (and followers) that the final map is ready."""
    path = reverse("conversations:map", args=[conversation.pk])
    return len(
        notify(
            MAP_READY,
            recipients=participants,
            group=conversation.group,
            target=conversation,
            url=path,
            context={"conversation": conversation, "url": site_url(path)},
            include_followers=True,
        )
    )


def statement_moderated(statement: Any, accepted: bool, reason: str) -> int:
    author = statement.author.user if statement.author_id else None
    if author is None:
        return 0
    path = reverse("conversations:detail", args=[statement.conversation_id])
    return len(
        notify(
            STATEMENT_MODERATED,
            recipients=[author],
            group=statement.conversation.group,
            target=statement.conversation,
            url=path,
            context={
                "statement": statement,
                "conversation": statement.conversation,
                "accepted": accepted,
                "reason": reason,
                "url": site_url(path),
            },
        )
    )
