"""What discussion tells members, through ``commonground.notifications``.

A reply reaches the author of the comment it answers; a new comment reaches the
followers of the thread's target (posting a comment follows it); a comment hidden
by reports or removed by a moderator reaches its author with the reason. Members
who may no longer read the thread are told nothing (the target's discussion rule
decides). Services call these inside their transaction.
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

from . import rules, selectors
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


def comment_posted(comment: Comment, target: models.Model) -> None:
    """Tell the author replied to, then the thread's other followers; follow it."""
    author_id = comment.author_id
    told = {author_id}
    parent = comment.parent
    if parent is not None and parent.author_id not in told:
        _tell(REPLY, comment, target, [parent.author])
        told.add(parent.author_id)
    followers = [pk for pk in followers_of(target) if pk not in told]
    if followers:
        users = get_user_model().objects.filter(pk__in=followers)
        _tell(FOLLOWED_THREAD, comment, target, users)
    follow_set(member=comment.author, target=target, following=True)


def comment_hidden(comment: Comment, target: models.Model) -> None:
    _tell(COMMENT_HIDDEN, comment, target, [comment.author])


def comment_removed(comment: Comment, target: models.Model, reason: str) -> None:
    _tell(COMMENT_REMOVED, comment, target, [comment.author], reason=reason)
