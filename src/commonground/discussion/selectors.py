"""Reading threads. A thread page runs a fixed number of queries whatever its size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.core.capabilities import GroupOverview, NeedsYou

from . import rules, visitors
from .models import Comment

# Replies nest visually up to this depth; deeper replies line up under the last level.
MAX_DISPLAY_DEPTH = 4


@dataclass
class CommentNode:
    comment: Comment
    display_depth: int
    show_body: bool
    # The id of the list an htmx reply to this comment is appended to.
    reply_list_id: str
    replies: list[CommentNode] = field(default_factory=list)

    @property
    def nests(self) -> bool:
        """Whether this comment's replies are shown in a list of its own."""
        return self.reply_list_id == f"replies-{self.comment.pk}"

    @property
    def reply_form_id(self) -> str:
        return f"reply-{self.comment.pk}"


@dataclass
class Thread:
    target: models.Model
    key: str  # "<app_label>.<model>", for URLs
    object_id: str
    dom_id: str
    nodes: list[CommentNode]
    count: int
    can_post: bool
    can_moderate: bool
    # Someone without an account may comment here (with a name and an address).
    visitors_may_post: bool = False
    # Removed comments by the rule they broke: [(label, count)], most first.
    removals: list[tuple[str, int]] = field(default_factory=list)
    # Which confirmed visitor comments wait for a moderator: first, all or none.
    visitor_hold: str = "first"


def target_key(target: models.Model) -> str:
    return target._meta.label_lower


# Statuses a thread shows: unconfirmed visitor comments never; held ones to
# moderators only (with their body), as they have not appeared yet.
_THREAD_STATUSES = (
    Comment.Status.VISIBLE,
    Comment.Status.HIDDEN,
    Comment.Status.REMOVED,
)


def thread_comments(
    target: models.Model, *, include_held: bool = False
) -> list[Comment]:
    content_type = ContentType.objects.get_for_model(target)
    statuses = [*_THREAD_STATUSES, *([Comment.Status.HELD] if include_held else [])]
    return list(
        Comment.objects.filter(
            content_type=content_type, object_id=str(target.pk), status__in=statuses
        )
        .select_related("author")
        .order_by("created_at", "id")
    )


def thread_for(user: Any, target: models.Model) -> Thread:
    """The thread on ``target`` as ``user`` may see it (check can_read first)."""
    can_moderate = rules.can_moderate(user, target)
    comments = thread_comments(target, include_held=can_moderate)
    key = target_key(target)
    dom_id = f"discussion-{key.replace('.', '-')}-{target.pk}"
    return Thread(
        target=target,
        key=key,
        object_id=str(target.pk),
        dom_id=dom_id,
        nodes=build_tree(
            comments, can_moderate=can_moderate, root_list_id=f"{dom_id}-list"
        ),
        count=sum(1 for c in comments if c.status == Comment.Status.VISIBLE),
        can_post=rules.can_post(user, target),
        can_moderate=can_moderate,
        visitors_may_post=not user.is_authenticated and rules.visitors_may_post(target),
        removals=removal_summary_of(comments),
        visitor_hold=visitors.visitor_hold(),
    )


def removal_summary_of(comments: Iterable[Comment]) -> list[tuple[str, int]]:
    """How many of these comments moderators removed, by the rule broken."""
    from collections import Counter

    from .models import HouseRule

    labels = dict(HouseRule.choices)
    counts = Counter(
        str(labels.get(c.moderation_rule, ""))
        or str(_("Another reason (see the thread)"))
        for c in comments
        if c.status == Comment.Status.REMOVED
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def show_body(comment: Comment, *, can_moderate: bool) -> bool:
    if comment.status == Comment.Status.VISIBLE:
        return True
    return (
        comment.status in (Comment.Status.HIDDEN, Comment.Status.HELD) and can_moderate
    )


def build_tree(
    comments: Iterable[Comment], *, can_moderate: bool, root_list_id: str
) -> list[CommentNode]:
    """Nest comments by parent, in posting order, flattening below MAX_DISPLAY_DEPTH."""
    comments = list(comments)
    children: dict[int | None, list[Comment]] = {}
    known = {c.pk for c in comments}
    for comment in comments:
        parent_id = comment.parent_id if comment.parent_id in known else None
        children.setdefault(parent_id, []).append(comment)

    def node(comment: Comment, depth: int, container: str) -> CommentNode:
        own_list = f"replies-{comment.pk}" if depth < MAX_DISPLAY_DEPTH else container
        return CommentNode(
            comment=comment,
            display_depth=depth,
            show_body=show_body(comment, can_moderate=can_moderate),
            reply_list_id=own_list,
        )

    roots: list[CommentNode] = []
    # Iterative depth-first walk (threads can be deeper than Python's recursion limit).
    stack: list[tuple[Comment, int, str, list[CommentNode]]] = [
        (c, 0, root_list_id, roots) for c in reversed(children.get(None, []))
    ]
    while stack:
        comment, depth, container, siblings = stack.pop()
        current = node(comment, depth, container)
        siblings.append(current)
        if depth < MAX_DISPLAY_DEPTH:
            child_depth, child_container, child_siblings = (
                depth + 1,
                current.reply_list_id,
                current.replies,
            )
        else:
            child_depth, child_container, child_siblings = depth, container, siblings
        stack.extend(
            (child, child_depth, child_container, child_siblings)
            for child in reversed(children.get(comment.pk, []))
        )
    return roots


def comment_counts(targets: Iterable[models.Model]) -> dict[Any, int]:
    """Visible comments per target pk, for list pages: one query for all targets."""
    targets = list(targets)
    if not targets:
        return {}
    content_type = ContentType.objects.get_for_model(targets[0])
    by_id = {str(t.pk): t.pk for t in targets}
    rows = (
        Comment.objects.filter(
            content_type=content_type,
            object_id__in=list(by_id),
            status=Comment.Status.VISIBLE,
        )
        .values("object_id")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(by_id.values(), 0)
    for row in rows:
        counts[by_id[row["object_id"]]] = row["n"]
    return counts


def _exported(comment: Comment) -> dict[str, Any]:
    """One comment for its writer's export. A removed comment's words are withheld:
    they appear nowhere once a moderator removed them (the reason and rule do)."""
    removed = comment.status == Comment.Status.REMOVED
    content_type = comment.content_type
    return {
        "id": comment.pk,
        "on": f"{content_type.app_label}.{content_type.model}:{comment.object_id}",
        "reply_to": comment.parent_id,
        "posted_at": comment.created_at.isoformat(),
        "status": comment.status,
        "body": None if removed else comment.body,
        "removal_reason": comment.moderation_reason if removed else "",
        "removal_rule": comment.moderation_rule if removed else "",
    }


def comments_for_export(user: Any) -> list[dict[str, Any]]:
    """A member's own comments for their data export (account_export)."""
    return [
        _exported(c)
        for c in Comment.objects.filter(author=user).select_related("content_type")
    ]


def visitor_comments(visitor_key: str) -> list[Comment]:
    """Every comment sent with one email address (by its fingerprint), oldest first."""
    if not visitor_key:
        return []
    return list(
        Comment.objects.filter(visitor_key=visitor_key, author__isnull=True)
        .select_related("content_type")
        .order_by("created_at", "id")
    )


def visitor_comments_for_export(visitor_key: str) -> list[dict[str, Any]]:
    """A visitor's comments as their export shows them: name and address included,
    as they are the visitor's own."""
    return [
        {
            **_exported(c),
            "name": c.visitor_name,
            "email": c.visitor_email,
            "replies_by_email": c.notify_replies,
        }
        for c in visitor_comments(visitor_key)
    ]


def member_visitor_comments_for_export(user: Any) -> list[dict[str, Any]]:
    """Comments a member wrote as a visitor with their account's address."""
    from . import visitors

    email = getattr(user, "email", "")
    return visitor_comments_for_export(visitors.email_digest(email)) if email else []


@dataclass(frozen=True)
class Removal:
    """A removed comment as the public moderation log shows it: where, when, which
    rule, which role; never its words or its writer."""

    comment_id: int
    object_id: str
    posted_at: Any
    removed_at: Any
    rule: str
    rule_label: str
    role: str
    role_label: str
    reason: str


def removed_comments(
    model: type[models.Model], object_ids: Any, *, limit: int = 200
) -> list[Removal]:
    """Removed comments on targets of ``model`` whose ids (as text) are in
    ``object_ids`` (a list or a values() queryset), most recently removed first.
    One query; the bodies are never read."""
    from commonground.members.models import Role

    from .models import HouseRule

    labels = dict(HouseRule.choices)
    role_labels = dict(Role.choices)
    rows = (
        Comment.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=object_ids,
            status=Comment.Status.REMOVED,
        )
        .order_by("-moderated_at", "-id")
        .values_list(
            "id",
            "object_id",
            "created_at",
            "moderated_at",
            "moderation_rule",
            "moderated_as",
            "moderation_reason",
        )[:limit]
    )
    return [
        Removal(
            comment_id=pk,
            object_id=object_id,
            posted_at=posted,
            removed_at=removed,
            rule=rule,
            rule_label=str(labels.get(rule, "")),
            role=role,
            role_label=str(role_labels.get(role, "")),
            reason=reason,
        )
        for pk, object_id, posted, removed, rule, role, reason in rows
    ]


@dataclass(frozen=True)
class QueueItem:
    comment: Comment
    thread_url: str
    reasons: list[str]


def moderation_queue(group: Any, *, limit: int = 200) -> list[QueueItem]:
    """Comments in the group's subtree hidden by reports or with open reports, most
    reported first. Two queries whatever the numbers."""
    from django.db.models import Prefetch

    from .models import CommentReport

    comments = (
        _waiting_comments(group)
        .select_related("author", "content_type")
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=CommentReport.objects.filter(
                    resolved_at__isnull=True
                ).order_by("created_at"),
                to_attr="open_reports",
            )
        )
        .order_by("-report_count", "created_at")[:limit]
    )
    return [
        QueueItem(
            comment=comment,
            thread_url=reverse(
                "discussion:thread",
                args=[
                    f"{comment.content_type.app_label}.{comment.content_type.model}",
                    comment.object_id,
                ],
            )
            + f"#comment-{comment.pk}",
            reasons=[r.reason for r in comment.open_reports if r.reason],  # type: ignore[attr-defined]
        )
        for comment in comments
    ]


def _waiting_comments(group: Any) -> models.QuerySet[Comment]:
    """Comments in the group's subtree hidden by reports, with open reports, or held
    for approval (visitors' comments)."""
    return (
        Comment.objects.filter(group__path__startswith=group.path)
        .filter(
            Q(status=Comment.Status.HIDDEN)
            | Q(status=Comment.Status.HELD)
            | Q(report_count__gt=0)
        )
        .exclude(status__in=[Comment.Status.REMOVED, Comment.Status.UNCONFIRMED])
    )


def moderation_waiting(group: Any, viewer: Any = None) -> int:
    """Comments in the group's subtree waiting for a moderator (one query)."""
    return _waiting_comments(group).count()


def moderation_overview(group: Any, viewer: Any) -> GroupOverview:
    """For moderators: how many reported comments wait for them (one query)."""
    waiting = moderation_waiting(group)
    if not waiting:
        return GroupOverview()
    text = ngettext(
        "%(count)d comment waits for a moderator.",
        "%(count)d comments wait for a moderator.",
        waiting,
    ) % {"count": waiting}
    url = reverse("discussion:moderation", args=[group.slug])
    return GroupOverview(needs_you=[NeedsYou(text=text, url=url)])
