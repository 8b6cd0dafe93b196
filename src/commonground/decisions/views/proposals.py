"""Proposals from draft to ballot: writing and editing them, publishing, members'
support, amendments, and sending a supported proposal to the vote."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from commonground.core.actions import run_action
from commonground.members.http import MemberRequest

from .. import rules, selectors, services
from ..forms import AmendmentForm, ProposalForm
from ..models import Amendment, Proposal
from .lookups import group_for_viewer, proposal_for_viewer
from .submissions import REFUSALS, result_or_form_errors, run_form_action


def _detail_url(proposal: Proposal) -> str:
    return reverse("decisions:proposal_detail", args=[proposal.pk])


@login_required
def proposal_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    if not rules.can_take_part(viewer):
        raise Http404("No such page")
    form = ProposalForm(request.POST or None, members=selectors.coauthor_choices(group))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        proposal = result_or_form_errors(
            form,
            lambda: services.proposal_create(
                author=request.user,
                group=group,
                title=data["title"],
                text=data["text"],
                coauthors=list(data["coauthors"]),
                support_share_percent=data["support_share_percent"],
                support_period_days=data["support_period_days"],
                voting_days=data["voting_days"],
            ),
        )
        if proposal is not None:
            messages.success(
                request, _("Draft saved. Publish it when you are ready for discussion.")
            )
            return redirect(_detail_url(proposal))
    return render(
        request,
        "decisions/proposal_form.html",
        {"group": group, "viewer": viewer, "form": form},
    )


@login_required
def proposal_edit(request: MemberRequest, pk: int) -> HttpResponse:
    found = selectors.proposal_for_editor(request.user, pk)
    if found is None:
        raise Http404("No such page")
    proposal, viewer = found
    initial = {
        "title": proposal.title,
        "text": proposal.text,
        "coauthors": list(proposal.coauthors.all()),
    }
    form = ProposalForm(
        request.POST or None,
        initial=initial,
        members=selectors.coauthor_choices(proposal.group, proposal),
    )
    for name in ("support_share_percent", "support_period_days", "voting_days"):
        form.fields[name].required = False
    if request.method == "POST" and form.is_valid():
        return run_action(
            request,
            lambda: services.proposal_update(
                actor=request.user,
                proposal=proposal,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                coauthors=list(form.cleaned_data["coauthors"]),
            ),
            success_message=None,
            redirect_to=_detail_url(proposal),
            refusals=REFUSALS,
        )
    return render(
        request,
        "decisions/proposal_form.html",
        {"group": proposal.group, "viewer": viewer, "form": form, "proposal": proposal},
    )


def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal, viewer = proposal_for_viewer(request, pk)
    user = request.user
    is_author = user.is_authenticated and (
        user.pk == proposal.author_id
        or any(c.pk == user.pk for c in proposal.coauthors.all())
    )
    return render(
        request,
        "decisions/proposal_detail.html",
        {
            "proposal": proposal,
            "viewer": viewer,
            "is_author": is_author,
            "supporter_count": proposal.supports.count(),
            "i_support": user.is_authenticated
            and proposal.supports.filter(member=user).exists(),
            "amendments": list(proposal.amendments.select_related("author")),
            "elections": list(proposal.elections.order_by("id")),
            "amendment_form": AmendmentForm(),
            "can_take_part": rules.can_take_part(viewer),
            "can_run": rules.can_run_elections(viewer),
        },
    )


@login_required
@require_POST
def proposal_publish(request: MemberRequest, pk: int) -> HttpResponse:
    proposal, _viewer = proposal_for_viewer(request, pk)
    return run_action(
        request,
        lambda: services.proposal_publish(actor=request.user, proposal=proposal),
        success_message=_("Published: members can now discuss, amend and support it."),
        redirect_to=_detail_url(proposal),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def proposal_support(request: MemberRequest, pk: int) -> HttpResponse:
    proposal, _viewer = proposal_for_viewer(request, pk)
    withdraw = bool(request.POST.get("withdraw"))
    service: Callable[..., object] = (
        services.proposal_withdraw_support if withdraw else services.proposal_support
    )
    done = (
        _("Your support is withdrawn.")
        if withdraw
        else _("Thank you: your support is counted.")
    )
    return run_action(
        request,
        lambda: service(member=request.user, proposal=proposal),
        success_message=done,
        redirect_to=_detail_url(proposal),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def proposal_send(request: MemberRequest, pk: int) -> HttpResponse:
    proposal, _viewer = proposal_for_viewer(request, pk)
    return run_action(
        request,
        lambda: services.proposal_send_to_ballot(actor=request.user, proposal=proposal),
        success_message=_("Sent to a ballot: voting is open."),
        redirect_to=_detail_url(proposal),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def amendment_new(request: MemberRequest, pk: int) -> HttpResponse:
    proposal, _viewer = proposal_for_viewer(request, pk)
    return run_form_action(
        request,
        AmendmentForm(request.POST),
        lambda data: services.amendment_propose(
            member=request.user,
            proposal=proposal,
            title=data["title"],
            text=data["text"],
        ),
        invalid_message=_("Give the amendment a title and a text."),
        success_message=_(
            "Amendment proposed. "
            "The authors will accept it or it goes to the vote alongside."
        ),
        redirect_to=_detail_url(proposal),
    )


@login_required
@require_POST
def amendment_decide(request: MemberRequest, pk: int) -> HttpResponse:
    amendment = get_object_or_404(Amendment, pk=pk)
    proposal, _viewer = proposal_for_viewer(request, amendment.proposal_id)
    accept = request.POST.get("decision") == "accept"
    return run_action(
        request,
        lambda: services.amendment_decide(
            actor=request.user, amendment=amendment, accept=accept
        ),
        success_message=_("Amendment accepted into the text.")
        if accept
        else _("The amendment will go to the vote alongside."),
        redirect_to=_detail_url(proposal),
        refusals=REFUSALS,
    )
