"""Who may write, review, publish and read articles, as named predicates.

``viewer`` is what a user is to the article's group (``members.selectors.Viewer``);
roles apply to a group's whole subtree, so an editor of the national party edits
its branches' articles too. Views answer 404 for what a viewer may not see.
"""

from __future__ import annotations

from typing import Any

from commonground.members.models import Role

from .models import Article

WRITING_ROLES = frozenset({Role.WRITER, Role.EDITOR})
# Who looks after the comments under articles.
COMMENT_MODERATING_ROLES = frozenset(
    {Role.EDITOR, Role.MODERATOR, Role.ORGANISER, Role.ADMIN}
)
_EDITABLE_BY_WRITER = (
    Article.Status.DRAFT,
    Article.Status.CHANGES_REQUESTED,
    Article.Status.PUBLISHED,
)


def can_see_group_articles(viewer: Any) -> bool:
    """The group's Articles section: anyone who may see the group (its published
    articles are public anyway; drafts show only to their writers and editors)."""
    return bool(viewer.group.is_public or viewer.is_member or viewer.roles)


def can_write(viewer: Any) -> bool:
    """Start an article in this group: writers and editors."""
    return bool(viewer.roles & WRITING_ROLES)


def is_editor(viewer: Any) -> bool:
    return Role.EDITOR in viewer.roles


def can_see_draft(viewer: Any, article: Article) -> bool:
    """The working copy (and its preview): its writer and the group's editors."""
    return is_editor(viewer) or (
        can_write(viewer) and article.author_id == getattr(viewer.user, "pk", None)
    )


def _is_writer_of(viewer: Any, article: Article) -> bool:
    return can_write(viewer) and article.author_id == getattr(viewer.user, "pk", None)


def can_edit(viewer: Any, article: Article) -> bool:
    """Editors edit anything but a withdrawn article; its writer edits it while it is
    theirs to change (not while an editor reviews or schedules it)."""
    if article.status == Article.Status.WITHDRAWN:
        return is_editor(viewer)
    return is_editor(viewer) or (
        _is_writer_of(viewer, article) and article.status in _EDITABLE_BY_WRITER
    )


def can_submit(viewer: Any, article: Article) -> bool:
    """Send for review: its writer, from a draft or after changes were asked for."""
    return _is_writer_of(viewer, article) and article.status in (
        Article.Status.DRAFT,
        Article.Status.CHANGES_REQUESTED,
    )


def can_request_changes(viewer: Any, article: Article) -> bool:
    return is_editor(viewer) and article.status == Article.Status.SUBMITTED


def can_publish(viewer: Any, article: Article, *, review_required: bool) -> bool:
    """Publish or schedule: an editor; or, where the group requires no review, the
    writer of their own article. A writer can never publish where review is
    required, even their own article."""
    if is_editor(viewer):
        return True
    return (
        not review_required
        and _is_writer_of(viewer, article)
        and article.status != Article.Status.WITHDRAWN
    )


def can_unschedule(viewer: Any, article: Article) -> bool:
    return is_editor(viewer) and article.status == Article.Status.SCHEDULED


def can_withdraw(viewer: Any, article: Article) -> bool:
    return is_editor(viewer) and article.first_published_at is not None


def can_change_policy(viewer: Any) -> bool:
    """Whether review is required: the group's editors, organisers and admins."""
    return bool(viewer.roles & {Role.EDITOR, Role.ORGANISER, Role.ADMIN})


def can_moderate_comments(viewer: Any) -> bool:
    return bool(viewer.roles & COMMENT_MODERATING_ROLES)
