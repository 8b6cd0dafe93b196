"""Opening, changing and closing conversations.

An organiser of a group (or of a coalition's group: then members of every
affiliated organisation take part) opens a conversation with its question, context,
seed statements and settings. Every change of a setting is written to the audit log
with the old and new values; closing is too. A conversation closes by itself at its
closing time: the sweep notices, computes the final map and tells the participants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.discussion.richtext import render_markdown
from commonground.members.models import Group
from commonground.members.selectors import viewer_for

from .. import notifications, rules, selectors
from ..models import (
    CONTEXT_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    Conversation,
    EngineMode,
    MapVisibility,
    Moderation,
    Participation,
    Statement,
    StatementPolicy,
)
from . import clock, locks, maps, statements, voting
from .errors import ConversationRefused

FINISH_TASK = "conversations.finish"


@dataclass(frozen=True)
class ConversationSettings:
    """Everything an organiser chooses about a conversation."""

    question: str
    context: str = ""
    participation: str = Participation.MEMBERS
    statement_policy: str = StatementPolicy.EVERYONE
    moderation: str = Moderation.POST
    map_visibility: str = MapVisibility.PARTICIPANTS
    engine_mode: str = EngineMode.IMPROVED
    closes_at: datetime | None = None


SETTING_NAMES = tuple(f.name for f in fields(ConversationSettings))
CHOICES = {
    "participation": Participation,
    "statement_policy": StatementPolicy,
    "moderation": Moderation,
    "map_visibility": MapVisibility,
    "engine_mode": EngineMode,
}


def _clean(
    spec: ConversationSettings, now: datetime, *, opening: bool
) -> dict[str, Any]:
    values = {name: getattr(spec, name) for name in SETTING_NAMES}
    question = " ".join(str(values["question"]).replace("\x00", "").split())
    if not question:
        raise ValidationError({"question": _("Ask the question.")})
    if len(question) > QUESTION_MAX_LENGTH:
        raise ValidationError(
            {
                "question": _("Keep the question under %(max)d characters.")
                % {"max": QUESTION_MAX_LENGTH}
            }
        )
    values["question"] = question
    context = str(values["context"]).replace("\x00", "").strip()
    if len(context) > CONTEXT_MAX_LENGTH:
        raise ValidationError(
            {
                "context": _("Keep the context under %(max)d characters.")
                % {"max": CONTEXT_MAX_LENGTH}
            }
        )
    values["context"] = context
    for name, choices in CHOICES.items():
        if values[name] not in choices.values:
            raise ValidationError({name: _("Choose one of the offered options.")})
    closes_at = values["closes_at"]
    if closes_at is not None and closes_at <= now and opening:
        raise ValidationError({"closes_at": _("Choose a closing time in the future.")})
    return values


def _require_organiser(actor: Any, group: Group) -> None:
    if not rules.can_start_conversation(viewer_for(actor, group)):
        raise PermissionDenied(
            _("Only the group's organisers can open a conversation here.")
        )


def _clean_seeds(seeds: Sequence[str]) -> list[tuple[str, str]]:
    cleaned: list[tuple[str, str]] = []
    keys: set[str] = set()
    for seed in seeds:
        if not seed.strip():
            continue
        text = statements.clean_text(seed)
        key = statements.text_key(text)
        if key in keys:
            raise ValidationError(
                {
                    "seeds": _("Two seed statements say the same: %(text)s")
                    % {"text": text}
                }
            )
        keys.add(key)
        cleaned.append((text, key))
    return cleaned


@transaction.atomic
def conversation_create(
    *,
    actor: Any,
    group: Group,
    settings: ConversationSettings,
    seeds: Sequence[str] = (),
    notify: bool = True,
) -> Conversation:
    """Open a conversation now, with its seed statements (shown first, in order)."""
    _require_organiser(actor, group)
    now = clock.now()
    values = _clean(settings, now, opening=True)
    seed_texts = _clean_seeds(seeds)
    conversation = Conversation.objects.create(
        group=group,
        created_by=actor,
        created_at=now,
        context_html=str(render_markdown(values["context"]))
        if values["context"]
        else "",
        **values,
    )
    if seed_texts:
        participant_id, _number = voting.participant_ensure(
            conversation_id=conversation.pk, user=actor
        )
        at_ms = clock.to_ms(now)
        for text, key in seed_texts:
            statements.create_statement(
                conversation=conversation,
                author_participant_id=participant_id,
                text=text,
                key=key,
                status=Statement.Status.ACCEPTED,
                is_seed=True,
                created_at_ms=at_ms,
                moderator_accepted=True,
            )
    conversation.refresh_from_db()
    audit_record(
        actor=actor,
        action="conversation.opened",
        target=conversation,
        group=group,
        data={
            **{
                name: _jsonable(values[name])
                for name in SETTING_NAMES
                if name != "context"
            },
            "seeds": len(seed_texts),
        },
    )
    if notify:
        notifications.conversation_opened(conversation, actor)
    return conversation


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@transaction.atomic
def conversation_update(
    *, actor: Any, conversation: Conversation, settings: ConversationSettings
) -> Conversation:
    """Change settings; each changed one is audit-logged with its old and new value.

    After closing, only who sees the map may change.
    """
    conversation = locks.conversation_for_update(conversation.pk)
    access = selectors.access_for(actor, conversation)
    if not rules.can_manage(access):
        raise PermissionDenied(_("Only the group's organisers can change this."))
    now = clock.now()
    values = _clean(settings, now, opening=False)
    changes = {
        name: (getattr(conversation, name), values[name])
        for name in SETTING_NAMES
        if getattr(conversation, name) != values[name]
    }
    if not conversation.is_open_at(now) and set(changes) - {"map_visibility"}:
        raise ConversationRefused(
            _("This conversation has closed: only who sees the map can change.")
        )
    if (
        "closes_at" in changes
        and values["closes_at"] is not None
        and values["closes_at"] <= now
    ):
        raise ValidationError(
            {"closes_at": _("Choose a closing time in the future, or close it now.")}
        )
    if not changes:
        return conversation
    for name, (_old, new) in changes.items():
        setattr(conversation, name, new)
    update_fields = list(changes)
    if "context" in changes:
        conversation.context_html = (
            str(render_markdown(conversation.context)) if conversation.context else ""
        )
        update_fields.append("context_html")
    conversation.save(update_fields=update_fields)
    for name, (old, new) in changes.items():
        audit_record(
            actor=actor,
            action="conversation.setting_changed",
            target=conversation,
            group=conversation.group,
            data={"setting": name, "from": _jsonable(old), "to": _jsonable(new)},
        )
    if "engine_mode" in changes:
        maps.warm_forget(conversation.pk)
        maps.map_refresh_soon(conversation.pk)
    return conversation


@transaction.atomic
def conversation_close(*, actor: Any, conversation: Conversation) -> Conversation:
    """Close it now: no more answers or statements; the final map follows."""
    conversation = locks.conversation_for_update(conversation.pk)
    access = selectors.access_for(actor, conversation)
    if not rules.can_manage(access):
        raise PermissionDenied(_("Only the group's organisers can close it."))
    now = clock.now()
    if not conversation.is_open_at(now):
        raise ConversationRefused(_("This conversation has already closed."))
    conversation.closed_at = now
    conversation.save(update_fields=["closed_at"])
    audit_record(
        actor=actor,
        action="conversation.closed",
        target=conversation,
        group=conversation.group,
        reason="closed by an organiser",
    )
    conversation_id = conversation.pk
    transaction.on_commit(lambda: _queue_finish(conversation_id))
    return conversation


def _queue_finish(conversation_id: int) -> None:
    from celery import current_app

    try:
        current_app.tasks[FINISH_TASK].delay(conversation_id)
    except Exception:  # the sweep finishes it within a minute
        maps.logger.exception("could not queue the finish of %s", conversation_id)


def conversation_finish(*, conversation_id: int) -> bool:
    """After closing: the final map, then (once) tell the participants it is ready.

    Idempotent: a second run finds the notice sent and does nothing. Returns whether
    it told them now.
    """
    conversation = Conversation.objects.select_related("group").get(pk=conversation_id)
    now = clock.now()
    if conversation.is_open_at(now) or conversation.closed_notified_at is not None:
        return False
    maps.map_refresh(conversation_id=conversation_id)
    with transaction.atomic():
        conversation = locks.conversation_for_update(conversation_id)
        if conversation.closed_notified_at is not None:
            return False
        if conversation.closed_at is None:
            # Closed by its time: record it as the organiser's close would be.
            conversation.closed_at = conversation.closes_at
            audit_record(
                actor=None,
                action="conversation.closed",
                target=conversation,
                group=conversation.group,
                reason="closing time reached",
            )
        conversation.closed_notified_at = now
        conversation.save(update_fields=["closed_at", "closed_notified_at"])
        notifications.map_ready(conversation, selectors.participant_users(conversation))
    return True


def conversations_finish_due() -> int:
    """The sweep: finish every conversation whose closing time has passed."""
    now = clock.now()
    due = list(
        Conversation.objects.filter(closed_notified_at__isnull=True)
        .exclude(closed_at__isnull=True, closes_at__isnull=True)
        .exclude(closed_at__isnull=True, closes_at__gt=now)
        .values_list("pk", flat=True)
    )
    finished = 0
    for conversation_id in due:
        if conversation_finish(conversation_id=conversation_id):
            finished += 1
    return finished
