"""What publishing tells members, through ``commonground.notifications``.

Editors hear that an article waits for their review; a writer hears that an editor
asked for changes or published their article; the writer and the group's editors
hear of each new comment under an article (a visitor's once confirmed, or
approved). Services and the discussion rule call these inside their transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.members.models import Role, RoleAssignment, User
from commonground.notifications.delivery import site_url
from commonground.notifications.services import notify

from .models import Article

REVIEW_REQUESTED = "publishing.review_requested"
CHANGES_REQUESTED = "publishing.changes_requested"
ARTICLE_PUBLISHED = "publishing.article_published"
NEW_COMMENT = "publishing.new_comment"

NOTIFICATION_KINDS = (
    NotificationKind(
        name=REVIEW_REQUESTED,
        label=_("An article waits for my review (I edit the group's articles)"),
        default_channel="email",
        subject_template="publishing/email/review_subject.txt",
        text_template="publishing/email/review.txt",
    ),
    NotificationKind(
        name=CHANGES_REQUESTED,
        label=_("An editor asks for changes to my article"),
        default_channel="email",
        subject_template="publishing/email/changes_subject.txt",
        text_template="publishing/email/changes.txt",
    ),
    NotificationKind(
        name=ARTICLE_PUBLISHED,
        label=_("My article is published"),
        default_channel="email",
        subject_template="publishing/email/published_subject.txt",
        text_template="publishing/email/published.txt",
    ),
    NotificationKind(
        name=NEW_COMMENT,
        label=_("A new comment on an article I wrote or edit"),
        default_channel="daily",
        subject_template="publishing/email/comment_subject.txt",
        text_template="publishing/email/comment.txt",
    ),
)


def editors_of(article: Article) -> Any:
    """Members holding the editor role on the article's group or a group above it."""
    return User.objects.filter(
        pk__in=RoleAssignment.objects.filter(
            group_id__in=article.group.ancestor_ids, role=Role.EDITOR
        ).values("user_id")
    )


def _editor_page(article: Article) -> str:
    return reverse("publishing:detail", args=[article.group.slug, article.pk])


def review_requested(article: Article) -> int:
    path = _editor_page(article)
    editors = [u for u in editors_of(article) if u.pk != article.author_id]
    return len(
        notify(
            REVIEW_REQUESTED,
            recipients=editors,
            group=article.group,
            target=article,
            url=path,
            context={"article": article, "url": site_url(path)},
        )
    )


def changes_requested(article: Article, editor: Any) -> int:
    path = _editor_page(article)
    if article.author_id == getattr(editor, "pk", None):
        return 0
    return len(
        notify(
            CHANGES_REQUESTED,
            recipients=[article.author],
            group=article.group,
            target=article,
            url=path,
            context={
                "article": article,
                "note": article.review_note,
                "url": site_url(path),
            },
        )
    )


def published(article: Article, editor: Any, scheduled: bool) -> int:
    if article.author_id == getattr(editor, "pk", None):
        return 0
    path = article.get_absolute_url()
    return len(
        notify(
            ARTICLE_PUBLISHED,
            recipients=[article.author],
            group=article.group,
            target=article,
            url=path,
            context={"article": article, "scheduled": scheduled, "url": site_url(path)},
        )
    )


def new_comment(article: Article, comment: Any, skip: Iterable[int]) -> set[int]:
    """Tell the article's writer and editors of a comment now shown; returns the
    ids told (the thread's followers are then not told twice)."""
    skip = set(skip)
    people = {article.author_id: article.author} if article.author_id else {}
    people.update({editor.pk: editor for editor in editors_of(article)})
    recipients = [user for pk, user in people.items() if pk not in skip]
    if not recipients:
        return set()
    path = f"{article.get_absolute_url()}#comment-{comment.pk}"
    told = notify(
        NEW_COMMENT,
        recipients=recipients,
        group=article.group,
        target=article,
        url=path,
        context={
            "article": article,
            "commenter": comment.display_name,
            "excerpt": Truncator(comment.body).chars(300),
            "url": site_url(path),
        },
    )
    return {notification.recipient_id for notification in told}
