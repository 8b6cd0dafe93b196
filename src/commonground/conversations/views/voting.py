"""Taking part: the conversation page with one statement at a time, answering it
(plain form or htmx swap), changing an earlier answer and adding a statement."""

from __future__ import annotations

import random
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.actions import refusal_message
from commonground.core.http import HtmxRequest

from .. import rules, selectors, services
from ..forms import StatementForm
from ..models import Conversation, Statement, Vote
from ..rules import Access
from .lookups import conversation_for_viewer

_rng = random.SystemRandom()


def _answered_text(value: int) -> str:
    if value == Vote.AGREE:
        return _("Recorded: you agree.")
    if value == Vote.DISAGREE:
        return _("Recorded: you disagree.")
    return _("Recorded: you passed.")


def card_context(
    conversation: Conversation | int, access: Access, *, skip: int | None = None
) -> dict[str, Any]:
    """The next statement for this participant and how many are left (one query)."""
    conversation_id = conversation if isinstance(conversation, int) else conversation.pk
    candidates = selectors.next_candidates(
        conversation_id, access.participant_id, skip=skip
    )
    return {
        "conversation_id": conversation_id,
        "card": selectors.choose_next(candidates.cards, _rng),
        "remaining": candidates.remaining,
    }


@never_cache
def conversation_detail(request: HtmxRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    now = timezone.now()
    page = selectors.conversation_page(conversation, access, now)
    can_vote = rules.can_vote(access, now)
    context: dict[str, Any] = {
        "conversation": conversation,
        "group": conversation.group,
        "access": access,
        "page": page,
        "can_vote": can_vote,
        "can_take_part": rules.can_take_part(access),
        "can_add_statement": rules.can_add_statement(access, now),
        "can_see_map": rules.can_see_map(access),
        "can_moderate": rules.can_moderate(access),
        "can_manage": rules.can_manage(access),
        "statement_form": StatementForm(),
        "my_votes": selectors.my_votes(access),
    }
    if can_vote:
        context.update(card_context(conversation, access))
    return render(request, "conversations/detail.html", context)


@require_POST
@never_cache
def vote(request: HtmxRequest, pk: int) -> HttpResponse:
    """Answer a statement: the lean path (one look-up, one vote statement, one query
    for the next statement)."""
    access = selectors.vote_access(request.user, pk)
    if access is None or not rules.can_see_conversation(access):
        raise Http404("No such conversation")
    try:
        statement_id = int(request.POST.get("statement", ""))
    except ValueError:
        raise Http404("No such statement") from None
    if not 0 < statement_id < selectors.MAX_ROW_ID:
        raise Http404("No such statement")
    detail = reverse("conversations:detail", args=[pk])
    changing = request.POST.get("from") == "mine"
    try:
        receipt = services.vote_cast(
            access=access, statement_id=statement_id, value=request.POST.get("vote")
        )
    except PermissionDenied:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={detail}")
        raise Http404("No such conversation") from None
    except (ValidationError, services.ConversationRefused) as refusal:
        status = getattr(refusal, "status", 400)
        if request.htmx:
            return render(
                request,
                "conversations/partials/vote_refused.html",
                {"message": refusal_message(refusal), "conversation_id": pk},
                status=200 if status != 404 else 404,
            )
        messages.error(request, refusal_message(refusal))
        return redirect(detail)
    if request.htmx:
        if changing:
            return render(
                request,
                "conversations/partials/my_vote.html",
                {
                    "conversation_id": pk,
                    "statement": Statement.objects.only("id", "text").get(
                        pk=statement_id
                    ),
                    "value": receipt.value,
                    "status": _answered_text(receipt.value),
                },
            )
        context = card_context(pk, access, skip=statement_id)
        context["status"] = _answered_text(receipt.value)
        return render(request, "conversations/partials/card.html", context)
    messages.success(request, _answered_text(receipt.value))
    return redirect(detail + ("#my-votes" if changing else "#statement-card"))


@require_POST
def statement_new(request: HtmxRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    detail = reverse("conversations:detail", args=[pk])
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={detail}")
    form = StatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("text", [])))
        return redirect(detail + "#add-statement")
    try:
        statement = services.statement_add(
            author=request.user,
            conversation=conversation,
            text=form.cleaned_data["text"],
        )
    except services.StatementRateLimited as limited:
        messages.error(request, limited.message)
        response = redirect(detail + "#add-statement")
        response["Retry-After"] = str(limited.retry_after)
        return response
    except (PermissionDenied, ValidationError, services.ConversationRefused) as refusal:
        messages.error(request, refusal_message(refusal))
        return redirect(detail + "#add-statement")
    if statement.is_visible:
        messages.success(
            request, _("Thank you: your statement is added, and others can answer it.")
        )
    else:
        messages.success(
            request,
            _(
                "Thank you: your statement waits for a moderator. Others see it once "
                "it is accepted."
            ),
        )
    return redirect(detail + "#add-statement")
