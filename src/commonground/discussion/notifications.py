"""What discussion tells members, through ``commonground.notifications``.

A comment that becomes visible (posted by a member, confirmed by a visitor,
approved by a moderator) reaches: the author of the comment it answers (a member by
notification, a visitor by email if they asked for replies); whomever the target's
own app tells (its rule's optional ``comment_shown``: an article's author and
editors); then the other followers of the target (posting a comment follows it). A
comment hidden by reports or removed by a moderator reaches its member author with
the reason. Members who may no longer read the thread are told nothing (the target's
discussion rule decides). Services call these inside their transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.notifications.delivery import site_url
from commonground.notifications.services import follow_set, followers_of, notify

from . import rules, selectors, visitors
from .models import Comment

REPLY = "discussion.reply"
FOLLOWED_THREAD = "discussion.followed_thread"
COMMENT_HIDDEN = "discussion.comment_hidden"
COMMENT_REMOVED = "discussion.comment_removed"

NOTIFICATION_KINDS = (
    NotificationKind(
        name=REPLY,
        label=_("Someone replies to my comment"),
        default_channel="email",
        subject_template="discussion/email/reply_subject.txt",
        text_template="discussion/email/reply.txt",
    ),
    NotificationKind(
        name=FOLLOWED_THREAD,
        label=_("A new comment in a thread I follow"),
        default_channel="daily",
        subject_template="discussion/email/followed_subject.txt",
        text_template="discussion/email/followed.txt",
    ),
    # Moderation of one's own words is always told (fair, transparent moderation).
    NotificationKind(
        name=COMMENT_HIDDEN,
        label=_("My comment is hidden for review"),
        default_channel="email",
        statutory=True,
        subject_template="discussion/email/hidden_subject.txt",
        text_template="discussion/email/hidden.txt",
    ),
    NotificationKind(
        name=COMMENT_REMOVED,
        label=_("A moderator removes my comment"),
        default_channel="email",
        statutory=True,
        subject_template="discussion/email/removed_subject.txt",
        text_template="discussion/email/removed.txt",
    ),
)


def _comment_path(comment: Comment, target: models.Model) -> str:
    thread = reverse(
        "discussion:thread", args=[selectors.target_key(target), target.pk]
    )
    return f"{thread}#comment-{comment.pk}"


def _tell(
    kind: str, comment: Comment, target: models.Model, recipients: Any, **extra: Any
) -> int:
    path = _comment_path(comment, target)
    return len(
        notify(
            kind,
            recipients=recipients,
            group=comment.group_id,
            target=target,
            url=path,
            can_see=lambda user: rules.can_read(user, target),
            context={
                "comment": comment,
                "thread_title": str(target),
                "excerpt": Truncator(comment.body).chars(300),
                "url": site_url(path),
                **extra,
            },
        )
    )


def comment_shown(comment: Comment, target: models.Model) -> None:
    """A comment became visible: tell the author replied to, the target's app, then
    the thread's other followers; its member author follows the thread."""
    told: set[int] = {comment.author_id} if comment.author_id else set()
    parent = comment.parent
    if parent is not None:
        if parent.author_id is not None and parent.author_id not in told:
            _tell(REPLY, comment, target, [parent.author])
            told.add(parent.author_id)
        elif parent.author_id is None and parent.visitor_key != comment.visitor_key:
            # Read again: the visitor may have stopped reply emails meanwhile.
            wants = Comment.objects.filter(
                pk=parent.pk,
                notify_replies=True,
                status=Comment.Status.VISIBLE,
            ).exclude(visitor_email="")
            fresh = wants.first()
            if fresh is not None:
                visitors.send_reply(
                    fresh, comment, target, _comment_path(comment, target)
                )
    shown = getattr(rules.rule_for(target), "comment_shown", None)
    if shown is not None:
        told |= set(shown(comment, target, frozenset(told)) or ())
    followers = [pk for pk in followers_of(target) if pk not in told]
    if followers:
        users = get_user_model().objects.filter(pk__in=followers)
        _tell(FOLLOWED_THREAD, comment, target, users)
    if comment.author is not None:
        follow_set(member=comment.author, target=target, following=True)


# The name services used before visitors could comment.
comment_posted = comment_shown


def comment_hidden(comment: Comment, target: models.Model) -> None:
    if comment.author is not None:
        _tell(COMMENT_HIDDEN, comment, target, [comment.author])


def comment_removed(comment: Comment, target: models.Model, reason: str) -> None:
    if comment.author is not None:
        _tell(COMMENT_REMOVED, comment, target, [comment.author], reason=reason)
