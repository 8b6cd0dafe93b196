"""Writing comments: post, report, remove and restore.

Every function is keyword-only and atomic. Moderation (remove, restore, the automatic
hide after reports) writes an audit entry in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.audit.services import audit_record

from . import notifications, rules
from .models import BODY_MAX_LENGTH, REASON_MAX_LENGTH, Comment, CommentReport
from .richtext import render_markdown

# More than RATE_LIMIT_COUNT comments within RATE_LIMIT_WINDOW seconds is refused.
RATE_LIMIT_COUNT = 5
RATE_LIMIT_WINDOW = 60
# This many distinct members reporting a comment hide it until a moderator decides.
AUTO_HIDE_REPORTS = 3


class CommentRateLimited(Exception):
    """The member posted too many comments in the last minute."""

    def __init__(self, retry_after: int = RATE_LIMIT_WINDOW) -> None:
        super().__init__(
            ngettext(
                "You have posted %(count)d comment in the last minute. "
                "Please wait a minute before posting again.",
                "You have posted %(count)d comments in the last minute. "
                "Please wait a minute before posting again.",
                RATE_LIMIT_COUNT,
            )
            % {"count": RATE_LIMIT_COUNT}
        )
        self.retry_after = retry_after


def _rate_limit_key(user_id: int) -> str:
    return f"discussion:comment-rate:{user_id}"


def _check_rate_limit(author: Any) -> None:
    """Count this comment in the member's one-minute window (shared cache, atomic)."""
    key = _rate_limit_key(author.pk)
    cache.add(key, 0, timeout=RATE_LIMIT_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=RATE_LIMIT_WINDOW)
        count = 1
    if count > RATE_LIMIT_COUNT:
        raise CommentRateLimited()


def _clean_body(body: str) -> str:
    body = body.replace("\x00", "").strip()
    if not body:
        raise ValidationError({"body": _("Write something before posting.")})
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError(
            {
                "body": ngettext(
                    "A comment can be at most %(max)s character long.",
                    "A comment can be at most %(max)s characters long.",
                    BODY_MAX_LENGTH,
                )
                % {"max": f"{BODY_MAX_LENGTH:,}"}
            }
        )
    return body


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = reason.replace("\x00", "").strip()
    if required and not reason:
        raise ValidationError(
            {"reason": _("Give the reason; the thread will show it.")}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": ngettext(
                    "Keep the reason under %(max)d character.",
                    "Keep the reason under %(max)d characters.",
                    REASON_MAX_LENGTH,
                )
                % {"max": REASON_MAX_LENGTH}
            }
        )
    return reason


def comment_post(
    *, author: Any, target: models.Model, body: str, parent: Comment | None = None
) -> Comment:
    """Post a comment on ``target``, or a reply to ``parent`` in the same thread.

    Raises PermissionDenied when the policy refuses, ValidationError for an empty or
    over-long body or a bad parent, CommentRateLimited past 5 comments a minute.
    """
    if not rules.can_post(author, target):
        raise PermissionDenied(_("You cannot comment here."))
    body = _clean_body(body)
    content_type = ContentType.objects.get_for_model(target)
    object_id = str(target.pk)
    if parent is not None:
        if parent.content_type_id != content_type.pk or parent.object_id != object_id:
            raise ValidationError(
                {"parent": _("That comment belongs to another thread.")}
            )
        if parent.status != Comment.Status.VISIBLE:
            raise ValidationError(
                {"parent": _("You cannot reply to a removed comment.")}
            )
    _check_rate_limit(author)
    group = rules.rule_for(target).group_for(target)
    with transaction.atomic():
        comment = Comment.objects.create(
            content_type=content_type,
            object_id=object_id,
            group=group,
            parent=parent,
            depth=parent.depth + 1 if parent is not None else 0,
            author=author,
            body=body,
            body_html=str(render_markdown(body)),
            created_at=timezone.now(),
        )
        notifications.comment_posted(comment, target)
        return comment


def _locked(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update()
        .select_related("content_type")
        .get(pk=comment.pk)
    )


def _target_of(comment: Comment) -> models.Model:
    target = comment.content_type.get_object_for_this_type(pk=comment.object_id)
    assert isinstance(target, models.Model)
    return target


def _moderation_group(target: models.Model) -> Any:
    return rules.rule_for(target).group_for(target)


def _moderating(moderator: Any, comment: Comment, refusal: str) -> tuple[Comment, Any]:
    """Lock the comment and check the moderator may act on its target."""
    comment = _locked(comment)
    target = _target_of(comment)
    if not rules.can_moderate(moderator, target):
        raise PermissionDenied(refusal)
    return comment, target


def _record_moderation(
    moderator: Any,
    action: str,
    comment: Comment,
    target: Any,
    reason: str,
    **data: Any,
) -> None:
    audit_record(
        actor=moderator,
        action=action,
        target=comment,
        group=_moderation_group(target),
        reason=reason,
        data={"comment": comment.pk, **data},
    )


@transaction.atomic
def comment_remove(*, moderator: Any, comment: Comment, reason: str) -> Comment:
    """Remove a comment: it keeps its place, its body is withheld, the reason shows."""
    reason = _clean_reason(reason, required=True)
    comment, target = _moderating(
        moderator, comment, _("Only the group's moderators can remove comments.")
    )
    if comment.status == Comment.Status.REMOVED:
        raise ValidationError(_("This comment is already removed."))
    _set_status(comment, Comment.Status.REMOVED, moderator=moderator, reason=reason)
    _resolve_reports(comment)
    _record_moderation(
        moderator, "comment.removed", comment, target, reason, author=comment.author_id
    )
    notifications.comment_removed(comment, target, reason)
    return comment


@transaction.atomic
def comment_restore(*, moderator: Any, comment: Comment, reason: str = "") -> Comment:
    """Show a removed or report-hidden comment again."""
    reason = _clean_reason(reason, required=False)
    comment, target = _moderating(
        moderator, comment, _("Only the group's moderators can restore comments.")
    )
    if comment.status == Comment.Status.VISIBLE:
        raise ValidationError(_("This comment is not hidden."))
    _set_status(comment, Comment.Status.VISIBLE, moderator=moderator, reason="")
    _resolve_reports(comment)
    _record_moderation(
        moderator, "comment.restored", comment, target, reason, author=comment.author_id
    )
    return comment


@transaction.atomic
def comment_dismiss_reports(
    *, moderator: Any, comment: Comment, reason: str = ""
) -> Comment:
    """A moderator looked at a reported, still visible comment and keeps it."""
    reason = _clean_reason(reason, required=False)
    comment, target = _moderating(
        moderator, comment, _("Only the group's moderators can dismiss reports.")
    )
    if comment.status != Comment.Status.VISIBLE or comment.report_count == 0:
        raise ValidationError(_("There are no open reports on this comment."))
    dismissed = comment.report_count
    _resolve_reports(comment)
    _record_moderation(
        moderator,
        "comment.reports_dismissed",
        comment,
        target,
        reason,
        reports=dismissed,
    )
    return comment


def _resolve_reports(comment: Comment) -> None:
    CommentReport.objects.filter(comment=comment, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    Comment.objects.filter(pk=comment.pk).update(report_count=0)
    comment.report_count = 0


def _set_status(comment: Comment, status: str, *, moderator: Any, reason: str) -> None:
    now = timezone.now()
    moderator_id = moderator.pk if moderator is not None else None
    Comment.objects.filter(pk=comment.pk).update(
        status=status,
        moderated_by_id=moderator_id,
        moderated_at=now,
        moderation_reason=reason,
    )
    comment.status = status
    comment.moderated_by_id = moderator_id
    comment.moderated_at = now
    comment.moderation_reason = reason


@transaction.atomic
def comment_report(
    *, reporter: Any, comment: Comment, reason: str = ""
) -> CommentReport:
    """Report a comment to the moderators.

    A member's reports of one comment count once, even when sent concurrently (a
    unique constraint decides). At AUTO_HIDE_REPORTS distinct reporters with open
    reports the comment is hidden until a moderator restores or removes it, and its
    author is told. Once a moderator has dealt with a comment, its earlier reporters'
    reports are resolved and do not count again.
    """
    reason = _clean_reason(reason, required=False)
    if not reporter.is_authenticated:
        raise PermissionDenied(_("Log in to report a comment."))
    # Lock the comment first so concurrent reports are counted one after another.
    comment = _locked(comment)
    target = _target_of(comment)
    if not rules.can_read(reporter, target):
        raise PermissionDenied(_("You cannot see this comment."))
    if comment.author_id == reporter.pk:
        raise ValidationError(_("You cannot report your own comment."))
    if comment.status == Comment.Status.REMOVED:
        raise ValidationError(_("This comment is already removed."))
    try:
        with transaction.atomic():
            report = CommentReport.objects.create(
                comment=comment,
                reporter=reporter,
                reason=reason,
                created_at=timezone.now(),
            )
    except IntegrityError:
        return CommentReport.objects.get(comment=comment, reporter=reporter)
    count = CommentReport.objects.filter(
        comment=comment, resolved_at__isnull=True
    ).count()
    Comment.objects.filter(pk=comment.pk).update(report_count=count)
    comment.report_count = count
    if count >= AUTO_HIDE_REPORTS and comment.status == Comment.Status.VISIBLE:
        _set_status(
            comment,
            Comment.Status.HIDDEN,
            moderator=None,
            reason=ngettext(
                "Hidden after reports from %(count)d member",
                "Hidden after reports from %(count)d members",
                count,
            )
            % {"count": count},
        )
        audit_record(
            actor=None,
            action="comment.auto_hidden",
            target=comment,
            group=_moderation_group(target),
            data={"comment": comment.pk, "reports": count},
        )
        notifications.comment_hidden(comment, target)
    return report
