"""Carrying common ground into a decision: a consensus statement becomes a proposal.

The organiser becomes the proposal's author (``decisions.services.proposal_create``:
a draft they publish when ready). The link is kept both ways: the statement points
at its proposal, and the proposal's text opens with where it comes from (the
statement, how widely it was agreed, a link to the map), so the proposal page shows
its origin without the decisions app knowing about conversations.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.decisions import services as decisions

from .. import map_page, rules, selectors
from ..models import ConversationMap, Statement
from . import locks
from .errors import ConversationRefused

TITLE_LENGTH = 200


def _title(text: str) -> str:
    if len(text) <= TITLE_LENGTH:
        return text
    return text[: TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def _agreement(statement: Statement) -> str:
    """How the map says it was agreed, as one sentence (empty when unknown)."""
    stored = (
        ConversationMap.objects.filter(conversation_id=statement.conversation_id)
        .values_list("page_json", flat=True)
        .first()
    )
    if stored is None:
        return ""
    page = map_page.page_data(json.loads(stored), {statement.number: statement.text})
    for item in page.consensus + page.majority:
        if item.number == statement.number:
            return item.sentence
    return ""


def _markdown_escape(text: str) -> str:
    for char in "\\`*_{}[]()#+-.!<>|":
        text = text.replace(char, "\\" + char)
    return text


@transaction.atomic
def statement_to_proposal(*, actor: Any, statement: Statement) -> Any:
    """Draft a proposal from a statement the conversation agrees on; returns it.

    Raises PermissionDenied unless the actor organises the conversation's group (and
    may write proposals there), ConversationRefused when the statement is not
    visible or already became a proposal.
    """
    statement = locks.statement_for_update(statement.pk)
    conversation = statement.conversation
    access = selectors.access_for(actor, conversation)
    if not rules.can_manage(access):
        raise PermissionDenied(_("Only the group's organisers can do this."))
    if statement.status != Statement.Status.ACCEPTED:
        raise ConversationRefused(_("Only a visible statement can become a proposal."))
    if statement.proposal_id is not None:
        raise ConversationRefused(_("This statement is already a proposal."))
    map_url = reverse("conversations:map", args=[conversation.pk])
    agreement = _agreement(statement)
    origin = _(
        "This proposal comes from common ground found in the conversation "
        "[%(question)s](%(url)s)."
    ) % {"question": _markdown_escape(conversation.question), "url": map_url}
    text = f"> {_markdown_escape(statement.text)}\n\n{origin}"
    if agreement:
        text += f" {agreement}"
    text += "\n"
    try:
        proposal = decisions.proposal_create(
            author=actor,
            group=conversation.group,
            title=_title(statement.text),
            text=text,
        )
    except decisions.DecisionRefused as refusal:
        raise ConversationRefused(refusal.message, status=refusal.status) from None
    except ValidationError as error:
        raise ConversationRefused(" ".join(error.messages)) from None
    Statement.objects.filter(pk=statement.pk).update(proposal=proposal)
    statement.proposal = proposal
    audit_record(
        actor=actor,
        action="statement.proposed",
        target=statement,
        group=conversation.group,
        data={"conversation": conversation.pk, "proposal": proposal.pk},
    )
    return proposal
