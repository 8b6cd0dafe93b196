"""Writes: record notifications, deliver them once, preferences, follows, reading.

Apps call :func:`notify` inside their own transaction; the delivery tasks are sent
once it commits, so a rolled-back change tells no one. Sending is exactly once: a
task locks its ``Delivery`` row (``select_for_update(skip_locked=True)``), sends and
marks it sent in the same transaction; a retry or a second run finds nothing pending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Replace
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.core.capabilities import NotificationKind

from . import delivery
from .models import DIGEST_CHANNELS, Channel, Delivery, Follow, Notification, Preference
from .registry import kind_named

SUBJECT_PREFIX = "[Common Ground] "


# Choosing a channel ---------------------------------------------------------------


def allowed_channels(kind: NotificationKind) -> list[str]:
    """The channels a member may choose for ``kind``: never ``none`` if statutory."""
    channels = [choice.value for choice in Channel]
    if not kind.in_app:
        channels.remove(Channel.IN_APP)
    if kind.statutory:
        channels.remove(Channel.NONE)
    return channels


def channels_for(
    kind: NotificationKind, member_ids: Sequence[int], group_id: int | None
) -> dict[int, str]:
    """Each member's channel for this kind in this group (one query)."""
    chosen: dict[int, str] = {}
    general: dict[int, str] = {}
    rows = Preference.objects.filter(kind=kind.name, member_id__in=member_ids).filter(
        models.Q(group_id=group_id) | models.Q(group_id__isnull=True)
    )
    for member_id, row_group, channel in rows.values_list(
        "member_id", "group_id", "channel"
    ):
        (general if row_group is None else chosen)[member_id] = channel
    return {
        member_id: chosen.get(member_id)
        or general.get(member_id)
        or kind.default_channel
        for member_id in member_ids
    }


def preference_set(
    *, member: Any, kind: str, group_id: int | None, channel: str
) -> Preference:
    """Set the member's channel for a kind (in one group, or everywhere)."""
    notification_kind = kind_named(kind)
    if channel not in allowed_channels(notification_kind):
        if notification_kind.statutory and channel == Channel.NONE:
            raise ValidationError(
                {
                    "channel": _(
                        "“%(kind)s” is a notice your movement's rules require: it "
                        "cannot be switched off, but it can go to a digest."
                    )
                    % {"kind": notification_kind.label}
                },
                code="statutory",
            )
        raise ValidationError(
            {"channel": _("Choose one of the offered channels.")}, code="invalid"
        )
    preference, _created = Preference.objects.update_or_create(
        member=member, kind=kind, group_id=group_id, defaults={"channel": channel}
    )
    return preference


# Recording ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    html: str


def _render(kind: NotificationKind, context: dict[str, Any]) -> Rendered:
    if not kind.subject_template:  # a kind without templates: the caller's text
        return Rendered(
            title=str(context.get("title") or kind.label),
            body=str(context.get("body", "")).strip() + "\n",
            html="",
        )
    title = " ".join(render_to_string(kind.subject_template, context).split())
    body = render_to_string(kind.text_template, context).strip() + "\n"
    html = render_to_string(kind.html_template, context) if kind.html_template else ""
    return Rendered(title=title, body=body, html=html)


def _target_fields(target: Any) -> dict[str, Any]:
    if target is None or isinstance(target, str):
        return {"target_type": None, "target_id": None}
    return {
        "target_type": ContentType.objects.get_for_model(target),
        "target_id": target.pk,
    }


def followers_of(target: Any) -> list[int]:
    """Ids of the members following ``target``."""
    return list(
        Follow.objects.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=target.pk
        ).values_list("member_id", flat=True)
    )


def _who_is_told(
    kind: NotificationKind,
    recipients: Iterable[Any] | None,
    target: Any,
    group_id: int | None,
    can_see: Callable[[Any], bool] | None,
    include_followers: bool,
) -> list[int]:
    """Ids of the recipients (and followers) who may see the target, have an account
    and are still in the group."""
    if recipients is None and kind.recipients is not None:
        recipients = kind.recipients(target)
    users = {user.pk: user for user in (recipients or [])}
    if include_followers and target is not None and not isinstance(target, str):
        follower_ids = [pk for pk in followers_of(target) if pk not in users]
        users.update(get_user_model().objects.in_bulk(follower_ids))
    told = [
        pk
        for pk, user in users.items()
        if getattr(user, "deleted_at", None) is None
        and getattr(user, "is_active", True)
        and (can_see is None or can_see(user))
    ]
    if group_id is not None and kind.still_in_group is not None:
        still = kind.still_in_group(group_id, told)
        told = [pk for pk in told if pk in still]
    return told


def notify(
    kind: str,
    *,
    recipients: Iterable[Any] | None = None,
    group: Any = None,
    target: Any = None,
    url: str = "",
    context: dict[str, Any] | None = None,
    can_see: Callable[[Any], bool] | None = None,
    include_followers: bool = False,
) -> list[Notification]:
    """Record ``kind`` for each recipient and queue its delivery after commit.

    ``recipients`` are users (or the kind's ``recipients(target)`` resolver is
    asked); with ``include_followers`` the target's followers are added. Members who
    may not see the target (``can_see(user)`` false), deleted accounts, members no
    longer active in ``group`` (the kind's ``still_in_group``) and members who chose
    ``none`` get nothing. Title and body are rendered now, once per notification.
    """
    notification_kind = kind_named(kind)
    group_id = getattr(group, "pk", group)
    users = _who_is_told(
        notification_kind, recipients, target, group_id, can_see, include_followers
    )
    if not users:
        return []
    channels = channels_for(notification_kind, users, group_id)
    rendered = _render(
        notification_kind, {**(context or {}), "group": group, "target": target}
    )
    target_fields = _target_fields(target)
    created = [
        Notification(
            recipient_id=pk,
            kind=kind,
            group_id=group_id,
            url=url,
            title=rendered.title,
            body=rendered.body,
            html=rendered.html,
            in_app=notification_kind.in_app,
            **target_fields,
        )
        for pk in users
        if channels[pk] != Channel.NONE or notification_kind.statutory
    ]
    created = Notification.objects.bulk_create(created)
    deliveries = []
    for notification in created:
        channel = channels[notification.recipient_id]
        if channel == Channel.NONE or (
            channel == Channel.IN_APP and not notification.in_app
        ):
            channel = Channel.EMAIL  # statutory or out of the centre: still told
        if channel in (Channel.EMAIL, *DIGEST_CHANNELS):
            deliveries.append(Delivery(notification=notification, channel=channel))
    Delivery.objects.bulk_create(deliveries)
    email_ids = [
        delivery.pk for delivery in deliveries if delivery.channel == Channel.EMAIL
    ]
    if email_ids:
        transaction.on_commit(lambda: delivery.send_emails.delay(email_ids))
    return created


# Reading and following ------------------------------------------------------------


def notification_mark_read(*, member: Any, notification_id: int) -> int:
    return Notification.objects.filter(
        pk=notification_id, recipient=member, read_at__isnull=True
    ).update(read_at=timezone.now())


def notifications_mark_all_read(*, member: Any) -> int:
    return Notification.objects.filter(recipient=member, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def follow_set(*, member: Any, target: Any, following: bool) -> bool:
    """Follow or unfollow ``target``; returns whether the member now follows it."""
    fields = {
        "member": member,
        "target_type": ContentType.objects.get_for_model(target),
        "target_id": target.pk,
    }
    if following:
        Follow.objects.get_or_create(**fields)
    else:
        Follow.objects.filter(**fields).delete()
    return following


def unsubscribe(*, member_id: int, kind: str, group_id: int | None) -> str:
    """What the one-click link does: the kind to ``none`` (digest if statutory)."""
    member = get_user_model().objects.get(pk=member_id)
    if kind.startswith("digest."):
        # Unsubscribing from a digest moves every kind on it to in-app only.
        channel = kind.removeprefix("digest.")
        from .registry import all_kinds

        for each in all_kinds():
            mine = channels_for(each, [member_id], None)[member_id]
            if mine == channel and each.in_app:
                preference_set(
                    member=member, kind=each.name, group_id=None, channel=Channel.IN_APP
                )
        return Channel.IN_APP
    notification_kind = kind_named(kind)
    channel = Channel.WEEKLY if notification_kind.statutory else Channel.NONE
    preference_set(member=member, kind=kind, group_id=group_id, channel=channel)
    return channel


# Forgetting -------------------------------------------------------------------------

DELETED_NAME = "Deleted member"


def member_forget(user: Any) -> None:
    """A member deleted their account: drop their own notifications, choices and
    follows, and take their name out of what others were told about them."""
    Notification.objects.filter(recipient=user).delete()
    Preference.objects.filter(member=user).delete()
    Follow.objects.filter(member=user).delete()
    name = (getattr(user, "display_name", "") or "").strip()
    if len(name) < 2:  # too short to find without rewriting unrelated words
        return
    mentions = (
        models.Q(title__contains=name)
        | models.Q(body__contains=name)
        | models.Q(html__contains=name)
    )
    Notification.objects.filter(mentions).update(
        title=Replace("title", models.Value(name), models.Value(DELETED_NAME)),
        body=Replace("body", models.Value(name), models.Value(DELETED_NAME)),
        html=Replace("html", models.Value(name), models.Value(DELETED_NAME)),
    )
