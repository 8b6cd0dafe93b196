"""Writing comments: post, report, remove, restore and approve; visitors' comments.

Every function is keyword-only and atomic. Moderation (remove, restore, approve, the
automatic hide after reports) writes an audit entry in the same transaction.

Visitors (no account) comment where the target's rule allows it: the comment waits,
seen by nobody, until the visitor follows the link emailed to the address they gave;
then it appears, or is held for a moderator, as the site setting
``COMMONGROUND_VISITOR_HOLD`` says: ``"first"`` (the default: a first comment from
an address waits for a moderator, later ones appear at once), ``"all"`` or ``"none"``. Anti-abuse needs no outside
service: a honeypot field, rate limits per network address and per email address, a
link limit, the first-comment hold, and the members' reports and moderation queue.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.audit.services import audit_record

from . import notifications, rules, visitors
from .models import (
    BODY_MAX_LENGTH,
    REASON_MAX_LENGTH,
    VISITOR_NAME_MAX_LENGTH,
    Comment,
    CommentReport,
    HouseRule,
)
from .richtext import markdown_links, render_markdown

# More than RATE_LIMIT_COUNT comments within RATE_LIMIT_WINDOW seconds is refused.
RATE_LIMIT_COUNT = 5
RATE_LIMIT_WINDOW = 60
# This many distinct members reporting a comment hide it until a moderator decides.
AUTO_HIDE_REPORTS = 3
# Visitors: at most this many comments per window from one network address and from
# one email address, and at most this many links in one comment.
VISITOR_RATE_COUNT = 3
VISITOR_RATE_WINDOW = 10 * 60
VISITOR_MAX_LINKS = 2


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


class VisitorRateLimited(Exception):
    """Too many visitor comments from one network or email address."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Too many comments were sent from here or with this email address in "
                "the last few minutes. Please wait ten minutes and try again."
            )
        )
        self.retry_after = VISITOR_RATE_WINDOW


class HoneypotFilled(Exception):
    """The field people leave empty was filled in: a robot. The view answers as if
    the comment had been sent, and nothing is stored or emailed."""


def _rate_limit_key(user_id: int) -> str:
    return f"discussion:comment-rate:{user_id}"


def _count_in_window(key: str, window: int) -> int:
    """Add one to a counter in the shared cache that lives ``window`` seconds."""
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def _check_rate_limit(author: Any) -> None:
    """Count this comment in the member's one-minute window (shared cache, atomic)."""
    if (
        _count_in_window(_rate_limit_key(author.pk), RATE_LIMIT_WINDOW)
        > RATE_LIMIT_COUNT
    ):
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
        notifications.comment_shown(comment, target)
        _thread_changed(target)
        return comment


def _thread_path(target: models.Model) -> str:
    from django.urls import reverse

    return reverse("discussion:thread", args=[target._meta.label_lower, target.pk])


def _clean_visitor(name: str, email: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    name = " ".join(name.replace("\x00", "").split())
    if not name:
        errors["name"] = _("Give a name to show with your comment.")
    elif len(name) > VISITOR_NAME_MAX_LENGTH:
        errors["name"] = _("Keep your name under %(max)d characters.") % {
            "max": VISITOR_NAME_MAX_LENGTH
        }
    elif "@" in name or "://" in name or "www." in name.lower():
        errors["name"] = _(
            "Give just a name: no email or web address (your name is shown to everyone)."
        )
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Give an email address you can read: we send a link to it.")
    if errors:
        raise ValidationError(errors)
    local, _at, domain = email.rpartition("@")
    return name, f"{local}@{domain.lower()}"


def visitor_comment_post(
    *,
    target: models.Model,
    name: str,
    email: str,
    body: str,
    address: str,
    parent: Comment | None = None,
    notify_replies: bool = False,
    honeypot: str = "",
) -> Comment:
    """A visitor's comment (or reply), unconfirmed until they follow the link we
    email to ``email``. ``address`` is the network address it came from (for the
    rate limit only; not stored).

    Raises HoneypotFilled (store nothing, answer as if sent), PermissionDenied when
    the target takes no visitors' comments, ValidationError for a bad name,
    address, body, parent or too many links, VisitorRateLimited past the limits.
    """
    if honeypot.strip():
        raise HoneypotFilled()
    if not rules.visitors_may_post(target):
        raise PermissionDenied(_("Only members can comment here."))
    name, email = _clean_visitor(name, email)
    body = _clean_body(body)
    if markdown_links(body) > VISITOR_MAX_LINKS:
        raise ValidationError(
            {
                "body": ngettext(
                    "A comment from a visitor can hold at most %(max)d link.",
                    "A comment from a visitor can hold at most %(max)d links.",
                    VISITOR_MAX_LINKS,
                )
                % {"max": VISITOR_MAX_LINKS}
            }
        )
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
    key = visitors.email_digest(email)
    window = VISITOR_RATE_WINDOW
    over_address = (
        _count_in_window(f"discussion:visitor-address:{address}", window)
        > VISITOR_RATE_COUNT
    )
    over_email = (
        _count_in_window(f"discussion:visitor-email:{key}", window) > VISITOR_RATE_COUNT
    )
    if over_address or over_email:
        raise VisitorRateLimited()
    group = rules.rule_for(target).group_for(target)
    with transaction.atomic():
        unconfirmed_comments_purge()
        comment = Comment.objects.create(
            content_type=content_type,
            object_id=object_id,
            group=group,
            parent=parent,
            depth=parent.depth + 1 if parent is not None else 0,
            author=None,
            visitor_name=name,
            visitor_email=email,
            visitor_key=key,
            notify_replies=notify_replies,
            body=body,
            body_html=str(render_markdown(body)),
            created_at=timezone.now(),
            status=Comment.Status.UNCONFIRMED,
        )
        visitors.send_confirmation(comment, target, _thread_path(target))
        return comment


@transaction.atomic
def visitor_comment_confirm(*, token: str) -> Comment:
    """Follow the emailed link: the comment appears, or is held for a moderator
    (``visitors.visitor_hold``: the first from this address, all, or none).

    Following the link again changes nothing. Raises ``visitors.BadLink`` for a
    link we did not sign or that expired, ``Comment.DoesNotExist`` when the comment
    is gone (erased, or purged unconfirmed).
    """
    comment_id, key = visitors.read_confirm_token(token)
    comment = (
        Comment.objects.select_for_update()
        .select_related("content_type")
        .get(pk=comment_id, visitor_key=key, author__isnull=True)
    )
    if comment.status != Comment.Status.UNCONFIRMED:
        return comment
    target = _target_of(comment)
    hold = visitors.visitor_hold()
    if hold == "first":
        known = (
            Comment.objects.filter(visitor_key=key, status=Comment.Status.VISIBLE)
            .exclude(pk=comment.pk)
            .exists()
        )
        held = not known
    else:
        held = hold == "all"
    now = timezone.now()
    status = Comment.Status.HELD if held else Comment.Status.VISIBLE
    Comment.objects.filter(pk=comment.pk).update(
        status=status, visitor_confirmed_at=now
    )
    comment.status, comment.visitor_confirmed_at = status, now
    if status == Comment.Status.VISIBLE:
        notifications.comment_shown(comment, target)
    _thread_changed(target)
    return comment


@transaction.atomic
def visitor_replies_stop(*, token: str) -> int:
    """The one-click link in a reply email: no more reply emails to that address,
    for any of its comments. Returns how many comments asked for replies."""
    comment_id, key = visitors.read_unsubscribe_token(token)
    if not Comment.objects.filter(pk=comment_id, visitor_key=key).exists():
        raise Comment.DoesNotExist()
    return Comment.objects.filter(visitor_key=key, notify_replies=True).update(
        notify_replies=False
    )


def visitor_data_request(*, email: str, address: str) -> None:
    """Email a link to see and erase the comments sent with ``email``. The answer is
    the same whether or not there are any (nobody learns who commented); only an
    address that has comments gets the email."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": _("Give the email address you commented with.")}
        ) from None
    if (
        _count_in_window(f"discussion:visitor-data:{address}", VISITOR_RATE_WINDOW)
        > VISITOR_RATE_COUNT
    ):
        raise VisitorRateLimited()
    if Comment.objects.filter(visitor_key=visitors.email_digest(email)).exists():
        visitors.send_data_link(email)


@transaction.atomic
def visitor_comments_erase(*, visitor_key: str) -> int:
    """Forget a visitor: every comment sent with that address loses its name and
    address (it shows as "Former visitor"); unconfirmed ones go altogether. Returns
    how many comments were changed or deleted."""
    if not visitor_key:
        return 0
    comments = Comment.objects.filter(visitor_key=visitor_key, author__isnull=True)
    threads = set(
        comments.exclude(status=Comment.Status.UNCONFIRMED)
        .values_list("content_type_id", "object_id")
        .distinct()
    )
    deleted, _by_model = comments.filter(status=Comment.Status.UNCONFIRMED).delete()
    changed = comments.update(
        visitor_name="", visitor_email="", visitor_key="", notify_replies=False
    )
    if deleted or changed:
        audit_record(
            actor=None,
            action="comment.visitor_erased",
            data={"comments": changed, "unconfirmed_deleted": deleted},
        )
    for content_type_id, object_id in threads:
        target = _target_by_ids(content_type_id, object_id)
        if target is not None and rules.has_rule(type(target)):
            _thread_changed(target)
    return int(deleted) + changed


def _target_by_ids(content_type_id: int, object_id: str) -> models.Model | None:
    content_type = ContentType.objects.get_for_id(content_type_id)
    model = content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=object_id).first()


def visitor_comments_erase_for_member(user: Any) -> None:
    """A member deleting their account also erases what they wrote as a visitor with
    the same address (called inside the account deletion's transaction)."""
    if getattr(user, "email", ""):
        visitor_comments_erase(visitor_key=visitors.email_digest(user.email))


def unconfirmed_comments_purge() -> int:
    """Delete visitor comments whose confirmation link has expired (they were never
    shown; their addresses are not kept longer than the link lives)."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(days=visitors.CONFIRM_DAYS)
    deleted, _by_model = Comment.objects.filter(
        status=Comment.Status.UNCONFIRMED, created_at__lt=cutoff
    ).delete()
    return int(deleted)


def _thread_changed(target: models.Model) -> None:
    """Tell the target's app that what readers see of the thread changed (its rule's
    optional ``thread_changed``: an article drops its cached page)."""
    changed = getattr(rules.rule_for(target), "thread_changed", None)
    if changed is not None:
        changed(target)


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
def comment_remove(
    *, moderator: Any, comment: Comment, reason: str, rule: str = ""
) -> Comment:
    """Remove a comment: it keeps its place, its body is withheld, the reason and
    the house rule it broke (``HouseRule``) show, in the thread and the public
    moderation log, with the role the moderator acted in (never their name)."""
    reason = _clean_reason(reason, required=True)
    if rule and rule not in HouseRule.values:
        raise ValidationError({"rule": _("Choose one of the movement's rules.")})
    comment, target = _moderating(
        moderator, comment, _("Only the group's moderators can remove comments.")
    )
    if comment.status == Comment.Status.REMOVED:
        raise ValidationError(_("This comment is already removed."))
    if comment.status == Comment.Status.UNCONFIRMED:
        raise ValidationError(_("This comment was never confirmed; nobody sees it."))
    _set_status(comment, Comment.Status.REMOVED, moderator=moderator, reason=reason)
    role = rules.moderating_role(moderator, target)
    Comment.objects.filter(pk=comment.pk).update(
        moderation_rule=rule, moderated_as=role
    )
    comment.moderation_rule, comment.moderated_as = rule, role
    _resolve_reports(comment)
    _record_moderation(
        moderator,
        "comment.removed",
        comment,
        target,
        reason,
        author=comment.author_id,
        rule=rule,
    )
    notifications.comment_removed(comment, target, reason)
    _thread_changed(target)
    return comment


@transaction.atomic
def comment_approve(*, moderator: Any, comment: Comment, reason: str = "") -> Comment:
    """Let a held comment (a visitor's, confirmed by email) appear in its thread."""
    reason = _clean_reason(reason, required=False)
    comment, target = _moderating(
        moderator, comment, _("Only the group's moderators can approve comments.")
    )
    if comment.status != Comment.Status.HELD:
        raise ValidationError(_("This comment is not waiting for approval."))
    _set_status(comment, Comment.Status.VISIBLE, moderator=moderator, reason="")
    _record_moderation(moderator, "comment.approved", comment, target, reason)
    notifications.comment_shown(comment, target)
    _thread_changed(target)
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
    if comment.status in (Comment.Status.HELD, Comment.Status.UNCONFIRMED):
        raise ValidationError(_("This comment has not appeared yet: approve it."))
    _set_status(comment, Comment.Status.VISIBLE, moderator=moderator, reason="")
    _resolve_reports(comment)
    _record_moderation(
        moderator, "comment.restored", comment, target, reason, author=comment.author_id
    )
    _thread_changed(target)
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
    if status == Comment.Status.VISIBLE:
        Comment.objects.filter(pk=comment.pk).update(
            moderation_rule="", moderated_as=""
        )
        comment.moderation_rule = comment.moderated_as = ""


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
    if (
        comment.status != Comment.Status.VISIBLE
        and comment.status != Comment.Status.HIDDEN
    ):
        raise ValidationError(_("This comment has not appeared yet."))
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
        _thread_changed(target)
    return report
