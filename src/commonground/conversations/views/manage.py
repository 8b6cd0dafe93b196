"""Organisers and moderators: a group's conversations, opening, settings, closing,
importing, the moderation queue, reports, and turning common ground into a proposal."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from commonground.core.actions import form_errors, refusal_message, run_action
from commonground.members.http import MemberRequest

from .. import rules, selectors, services
from ..forms import ImportForm, NewConversationForm, ReasonForm, SettingsForm
from .lookups import conversation_for_viewer, group_for_viewer, statement_for_viewer

REFUSALS: tuple[type[Exception], ...] = (
    PermissionDenied,
    ValidationError,
    services.ConversationRefused,
)


def group_conversations(request: HttpRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    return render(
        request,
        "conversations/group.html",
        {
            "group": group,
            "viewer": viewer,
            "conversations": selectors.group_conversations(group),
            "can_start": rules.can_start_conversation(viewer),
        },
    )


@login_required
def conversation_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    if not rules.can_start_conversation(viewer):
        raise Http404("No such page")
    form = NewConversationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_create(
                actor=request.user,
                group=group,
                settings=form.settings(),
                seeds=form.seed_lines(),
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, services.ConversationRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The conversation is open."))
            return redirect("conversations:detail", conversation.pk)
    return render(
        request,
        "conversations/form.html",
        {"group": group, "viewer": viewer, "form": form, "creating": True},
    )


@login_required
def conversation_edit(request: MemberRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    if not rules.can_manage(access):
        raise Http404("No such page")
    initial = {name: getattr(conversation, name) for name in services.SETTING_NAMES}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.conversation_update(
                actor=request.user, conversation=conversation, settings=form.settings()
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, services.ConversationRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("Settings saved."))
            return redirect("conversations:detail", conversation.pk)
    return render(
        request,
        "conversations/form.html",
        {
            "group": conversation.group,
            "form": form,
            "conversation": conversation,
            "creating": False,
        },
    )


@login_required
@require_POST
def conversation_close(request: MemberRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    if not rules.can_manage(access):
        raise Http404("No such page")
    return run_action(
        request,
        lambda: services.conversation_close(
            actor=request.user, conversation=conversation
        ),
        success_message=_("The conversation is closed; the final map follows."),
        redirect_to=reverse("conversations:map", args=[pk]),
        refusals=REFUSALS,
    )


@login_required
def conversation_import(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    if not rules.can_start_conversation(viewer):
        raise Http404("No such page")
    form = ImportForm(request.POST or None, request.FILES or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        with tempfile.TemporaryDirectory() as folder:
            directory = Path(folder)
            for field, name in ImportForm.FILE_NAMES.items():
                upload = form.cleaned_data.get(field)
                if upload is not None:
                    with open(directory / name, "wb") as target:
                        for chunk in upload.chunks():
                            target.write(chunk)
            settings = form.settings()
            try:
                conversation = services.conversation_import(
                    actor=request.user,
                    group=group,
                    directory=directory,
                    settings=settings,
                )
            except services.ImportRefused as refused:
                problem = str(refused).replace(folder + "/", "")
            except ValidationError as error:
                form_errors(form, error)
            else:
                messages.success(request, _("Imported. The map is being computed."))
                return redirect("conversations:detail", conversation.pk)
    return render(
        request,
        "conversations/import.html",
        {
            "group": group,
            "viewer": viewer,
            "form": form,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


@login_required
def moderation_queue(request: MemberRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    if not rules.can_moderate(access):
        raise Http404("No such page")
    return render(
        request,
        "conversations/moderation.html",
        {
            "conversation": conversation,
            "group": conversation.group,
            "queue": selectors.moderation_queue(conversation),
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def statement_moderate(request: MemberRequest, pk: int) -> HttpResponse:
    statement, access = statement_for_viewer(request, pk)
    if not rules.can_moderate(access):
        raise Http404("No such statement")
    decision = request.POST.get("decision")
    back = reverse("conversations:moderation", args=[statement.conversation_id])
    if decision == "accept":
        action = lambda: services.statement_accept(  # noqa: E731
            moderator=request.user, statement=statement
        )
        done = _("The statement is visible.")
    elif decision == "reject":
        form = ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        action = lambda: services.statement_reject(  # noqa: E731
            moderator=request.user, statement=statement, reason=reason
        )
        done = _("The statement is rejected.")
    else:
        raise Http404("No such decision")
    return run_action(
        request, action, success_message=done, redirect_to=back, refusals=REFUSALS
    )


@login_required
@require_POST
def statement_report(request: MemberRequest, pk: int) -> HttpResponse:
    statement, _access = statement_for_viewer(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return run_action(
        request,
        lambda: services.statement_report(
            reporter=request.user, statement=statement, reason=reason
        ),
        success_message=_("Thank you: the moderators will look at it."),
        redirect_to=reverse("conversations:detail", args=[statement.conversation_id]),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def statement_propose(request: MemberRequest, pk: int) -> HttpResponse:
    statement, access = statement_for_viewer(request, pk)
    if not rules.can_manage(access):
        raise Http404("No such statement")
    back = reverse("conversations:map", args=[statement.conversation_id])
    try:
        proposal = services.statement_to_proposal(
            actor=request.user, statement=statement
        )
    except REFUSALS as refusal:
        messages.error(request, refusal_message(refusal))
        return redirect(back + "#consensus")
    messages.success(
        request,
        _(
            "A draft proposal is ready. Read it, then publish it for members to support."
        ),
    )
    return redirect("decisions:proposal_detail", proposal.pk)


__all__ = [
    "conversation_close",
    "conversation_edit",
    "conversation_import",
    "conversation_new",
    "group_conversations",
    "moderation_queue",
    "statement_moderate",
    "statement_propose",
    "statement_report",
]
