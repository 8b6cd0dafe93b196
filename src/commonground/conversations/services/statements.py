"""Statements: participants add them; moderators accept, reject and restore them;
participants report them.

A new statement is visible at once (the author's own agree recorded, as Pol.is
does) unless the conversation holds statements for a moderator; moderators'
statements are always visible. Near-duplicates are refused: the text folded to
lower-case letters and digits is unique within the conversation (a constraint, so
concurrent duplicates are refused too). Every moderation act, including the
automatic hide after reports, is written to the audit log in its transaction.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.audit.services import audit_record

from .. import notifications, rules, selectors
from ..models import (
    NEW_STATEMENT_PRIORITY,
    REASON_MAX_LENGTH,
    SEED_PRIORITY,
    STATEMENT_MAX_LENGTH,
    Conversation,
    Moderation,
    Statement,
    StatementReport,
    Vote,
)
from . import clock, locks, maps, voting
from .errors import ConversationRefused, StatementRateLimited

# More than this many statements from one participant in RATE_WINDOW seconds is
# refused (moderators are not limited).
RATE_COUNT = 5
RATE_WINDOW = 600
# This many distinct participants reporting a statement hide it until a moderator
# decides (the discussion app's rule).
AUTO_HIDE_REPORTS = 3

_FOLD = re.compile(r"[^\w]+", re.UNICODE)


def text_key(text: str) -> str:
    """The text folded for duplicate detection: case, accents, punctuation and
    spacing do not make a statement new."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_FOLD.sub(" ", plain).replace("_", " ").split())


def clean_text(text: str, *, limit: int = STATEMENT_MAX_LENGTH) -> str:
    text = " ".join(text.replace("\x00", "").split())
    if not text:
        raise ValidationError({"text": _("Write the statement before adding it.")})
    if len(text) > limit:
        raise ValidationError(
            {
                "text": ngettext(
                    "A statement can be at most %(max)d character long.",
                    "A statement can be at most %(max)d characters long.",
                    limit,
                )
                % {"max": limit}
            }
        )
    if not text_key(text):
        raise ValidationError({"text": _("Write the statement in words.")})
    return text


def _clean_reason(reason: str) -> str:
    reason = reason.replace("\x00", "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": _("Keep the reason under %(max)d characters.")
                % {"max": REASON_MAX_LENGTH}
            }
        )
    return reason


def _check_rate(user_id: int, conversation_id: int) -> None:
    key = f"conversations:statement-rate:{conversation_id}:{user_id}"
    cache.add(key, 0, timeout=RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=RATE_WINDOW)
        count = 1
    if count > RATE_COUNT:
        raise StatementRateLimited(
            ngettext(
                "You have added %(count)d statement in the last ten minutes. "
                "Please answer some others and try again later.",
                "You have added %(count)d statements in the last ten minutes. "
                "Please answer some others and try again later.",
                RATE_COUNT,
            )
            % {"count": RATE_COUNT},
            retry_after=RATE_WINDOW,
        )


def _duplicate() -> ConversationRefused:
    return ConversationRefused(
        _(
            "This statement, or one that says the same, is already in the "
            "conversation. Find it and answer it instead."
        )
    )


def create_statement(
    *,
    conversation: Conversation,
    author_participant_id: int | None,
    text: str,
    key: str,
    status: str,
    is_seed: bool,
    created_at_ms: int,
    moderator_accepted: bool,
) -> Statement:
    """Insert a statement with the conversation's next number; no checks (callers
    made them). Raises ConversationRefused for a duplicate."""
    number = voting.next_number(conversation.pk, "next_statement_number")
    try:
        with transaction.atomic():
            return Statement.objects.create(
                conversation=conversation,
                number=number,
                author_id=author_participant_id,
                text=text,
                text_key=key,
                status=status,
                is_seed=is_seed,
                moderator_accepted=moderator_accepted,
                created_at_ms=created_at_ms,
                priority=SEED_PRIORITY if is_seed else NEW_STATEMENT_PRIORITY,
            )
    except IntegrityError:
        raise _duplicate() from None


def _bump_version(conversation_id: int) -> None:
    from django.db.models import F

    Conversation.objects.filter(pk=conversation_id).update(
        statements_version=F("statements_version") + 1
    )


def _author_agrees(statement: Statement, now: Any) -> None:
    """Pol.is records its author's agree when a statement becomes visible."""
    if statement.author_id is None or statement.is_seed:
        return
    voting.record_vote(
        conversation_id=statement.conversation_id,
        statement_id=statement.pk,
        participant_id=statement.author_id,
        value=Vote.AGREE,
        at_ms=clock.to_ms(now),
        now=now,
    )


def statement_add(
    *, author: Any, conversation: Conversation, text: str, is_seed: bool = False
) -> Statement:
    """Add a statement to an open conversation.

    Raises PermissionDenied (may not write here; views answer 404 to those who may
    not see the conversation), ValidationError (empty, too long),
    ConversationRefused (closed, a duplicate) or StatementRateLimited.
    """
    now = clock.now()
    access = selectors.access_for(author, conversation)
    if not rules.can_see_conversation(access):
        raise PermissionDenied(_("You cannot take part in this conversation."))
    if not conversation.is_open_at(now):
        raise ConversationRefused(_("This conversation has closed."))
    if not rules.can_add_statement(access, now):
        raise PermissionDenied(
            _("Only moderators add statements to this conversation.")
            if rules.can_take_part(access)
            else _("You cannot take part in this conversation.")
        )
    moderator = rules.can_moderate(access)
    if is_seed and not rules.can_manage(access):
        raise PermissionDenied(_("Only organisers add seed statements."))
    text = clean_text(text)
    key = text_key(text)
    if Statement.objects.filter(conversation=conversation, text_key=key).exists():
        raise _duplicate()
    if not moderator:
        _check_rate(author.pk, conversation.pk)
    visible = moderator or conversation.moderation == Moderation.POST
    with transaction.atomic():
        participant_id, _number = voting.participant_ensure(
            conversation_id=conversation.pk, user=author
        )
        statement = create_statement(
            conversation=conversation,
            author_participant_id=participant_id,
            text=text,
            key=key,
            status=Statement.Status.ACCEPTED if visible else Statement.Status.PENDING,
            is_seed=is_seed,
            created_at_ms=clock.to_ms(now),
            moderator_accepted=moderator,
        )
        if visible:
            _author_agrees(statement, now)
        _bump_version(conversation.pk)
        audit_record(
            actor=author,
            action="statement.added",
            target=statement,
            group=conversation.group,
            data={
                "conversation": conversation.pk,
                "number": statement.number,
                "held": not visible,
            },
        )
        maps.map_refresh_soon(conversation.pk)
    return statement


def _moderating(moderator: Any, statement_id: int) -> Statement:
    statement = locks.statement_for_update(statement_id)
    access = selectors.access_for(moderator, statement.conversation)
    if not rules.can_moderate(access):
        raise PermissionDenied(_("Only the group's moderators can do this."))
    return statement


def _resolve_reports(statement: Statement, now: Any) -> int:
    resolved = StatementReport.objects.filter(
        statement=statement, resolved_at__isnull=True
    ).update(resolved_at=now)
    Statement.objects.filter(pk=statement.pk).update(report_count=0)
    statement.report_count = 0
    return resolved


def _set_status(
    statement: Statement, status: str, *, moderator: Any, reason: str, now: Any
) -> None:
    moderator_id = moderator.pk if moderator is not None else None
    fields: dict[str, Any] = {
        "status": status,
        "moderated_by_id": moderator_id,
        "moderated_at": now,
        "moderation_reason": reason,
    }
    if moderator is not None and status == Statement.Status.ACCEPTED:
        fields["moderator_accepted"] = True
    if status == Statement.Status.REJECTED:
        fields["moderator_accepted"] = False
    Statement.objects.filter(pk=statement.pk).update(**fields)
    for name, value in fields.items():
        setattr(statement, name, value)


@transaction.atomic
def statement_accept(*, moderator: Any, statement: Statement) -> Statement:
    """Show a statement: one waiting for a moderator, one hidden after reports or a
    rejected one; on a visible statement with reports, dismiss them (kept visible)."""
    statement = _moderating(moderator, statement.pk)
    now = clock.now()
    previous = statement.status
    if previous == Statement.Status.ACCEPTED:
        if (
            statement.report_count == 0
            and not statement.reports.filter(resolved_at__isnull=True).exists()
        ):
            raise ValidationError(_("This statement is visible and has no reports."))
        dismissed = _resolve_reports(statement, now)
        audit_record(
            actor=moderator,
            action="statement.reports_dismissed",
            target=statement,
            group=statement.conversation.group,
            data={"conversation": statement.conversation_id, "reports": dismissed},
        )
        return statement
    _set_status(
        statement, Statement.Status.ACCEPTED, moderator=moderator, reason="", now=now
    )
    _resolve_reports(statement, now)
    if previous == Statement.Status.PENDING:
        _author_agrees(statement, now)
    _bump_version(statement.conversation_id)
    action = (
        "statement.accepted"
        if previous == Statement.Status.PENDING
        else "statement.restored"
    )
    audit_record(
        actor=moderator,
        action=action,
        target=statement,
        group=statement.conversation.group,
        data={"conversation": statement.conversation_id, "from": previous},
    )
    if previous == Statement.Status.PENDING:
        notifications.statement_moderated(statement, True, "")
    maps.map_refresh_soon(statement.conversation_id)
    return statement


@transaction.atomic
def statement_reject(
    *, moderator: Any, statement: Statement, reason: str = ""
) -> Statement:
    """Take a statement out: nobody is shown it again, and the map leaves it out."""
    reason = _clean_reason(reason)
    statement = _moderating(moderator, statement.pk)
    if statement.status == Statement.Status.REJECTED:
        raise ValidationError(_("This statement is already rejected."))
    now = clock.now()
    previous = statement.status
    _set_status(
        statement,
        Statement.Status.REJECTED,
        moderator=moderator,
        reason=reason,
        now=now,
    )
    _resolve_reports(statement, now)
    _bump_version(statement.conversation_id)
    audit_record(
        actor=moderator,
        action="statement.rejected",
        target=statement,
        group=statement.conversation.group,
        reason=reason,
        data={"conversation": statement.conversation_id, "from": previous},
    )
    notifications.statement_moderated(statement, False, reason)
    maps.map_refresh_soon(statement.conversation_id)
    return statement


@transaction.atomic
def statement_report(
    *, reporter: Any, statement: Statement, reason: str = ""
) -> StatementReport:
    """Report a visible statement to the moderators.

    One member's reports of one statement count once, even sent concurrently (a
    unique constraint decides). At AUTO_HIDE_REPORTS distinct reporters with open
    reports the statement is hidden until a moderator decides.
    """
    reason = _clean_reason(reason)
    if not reporter.is_authenticated:
        raise PermissionDenied(_("Log in to report a statement."))
    statement = locks.statement_for_update(statement.pk)
    access = selectors.access_for(reporter, statement.conversation)
    if not rules.can_report_statement(access):
        raise PermissionDenied(_("You cannot take part in this conversation."))
    if statement.status != Statement.Status.ACCEPTED:
        raise ValidationError(_("This statement is not visible."))
    if (
        access.participant_id is not None
        and statement.author_id == access.participant_id
    ):
        raise ValidationError(_("You cannot report your own statement."))
    now = clock.now()
    try:
        with transaction.atomic():
            report = StatementReport.objects.create(
                statement=statement, reporter=reporter, reason=reason, created_at=now
            )
    except IntegrityError:
        return StatementReport.objects.get(statement=statement, reporter=reporter)
    count = StatementReport.objects.filter(
        statement=statement, resolved_at__isnull=True
    ).count()
    Statement.objects.filter(pk=statement.pk).update(report_count=count)
    statement.report_count = count
    if count >= AUTO_HIDE_REPORTS:
        _set_status(
            statement,
            Statement.Status.HIDDEN,
            moderator=None,
            reason=ngettext(
                "Hidden after reports from %(count)d participant",
                "Hidden after reports from %(count)d participants",
                count,
            )
            % {"count": count},
            now=now,
        )
        _bump_version(statement.conversation_id)
        audit_record(
            actor=None,
            action="statement.auto_hidden",
            target=statement,
            group=statement.conversation.group,
            data={"conversation": statement.conversation_id, "reports": count},
        )
        maps.map_refresh_soon(statement.conversation_id)
    return report
