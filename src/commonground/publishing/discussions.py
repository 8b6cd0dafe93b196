"""The discussion rule for articles (named in ``PublishingConfig.ready()``).

Anyone reads the comments under a live article; signed-in members post as
themselves while comments are open; visitors post with a name and a confirmed
email address where the article allows it. The group's editors, moderators,
organisers and admins moderate. The writer and the editors hear of each comment
shown.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from django.utils import timezone

from commonground.members.models import Group, Role
from commonground.members.selectors import viewer_for

from . import notifications, rules
from .models import Article


def is_live(article: Article) -> bool:
    """Out and readable now (no query: the first publication time and withdrawal)."""
    return (
        article.withdrawn_at is None
        and article.first_published_at is not None
        and article.first_published_at <= timezone.now()
    )


class ArticleDiscussion:
    def can_read(self, user: Any, target: Article) -> bool:
        return is_live(target)

    def can_post(self, user: Any, target: Article) -> bool:
        return bool(target.comments_open and is_live(target))

    def visitors_may_post(self, target: Article) -> bool:
        return bool(
            target.comments_open and target.visitors_may_comment and is_live(target)
        )

    def group_for(self, target: Article) -> Group | None:
        return target.group

    def can_moderate(self, user: Any, target: Article) -> bool:
        if not user.is_authenticated:
            return False
        return rules.can_moderate_comments(viewer_for(user, target.group))

    def moderating_role(self, user: Any, target: Article) -> str:
        roles = viewer_for(user, target.group).roles
        for role in (Role.EDITOR, Role.MODERATOR, Role.ORGANISER, Role.ADMIN):
            if role in roles:
                return str(role)
        return ""

    def comment_shown(
        self, comment: Any, target: Article, already_told: Set[int]
    ) -> set[int]:
        return notifications.new_comment(target, comment, already_told)

    def thread_changed(self, target: Article) -> None:
        from .services import article_changed

        article_changed(target)
