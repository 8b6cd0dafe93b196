"""Ballots before and while voting: creating one, its page (the ballot box with the
member's paper), editing the definition until it opens, and opening it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.members.http import MemberRequest

from .. import papers, rules, selectors, services
from ..forms import ElectionEditForm, ElectionForm, NominationForm, OpenForm, ReasonForm
from ..models import Election
from .lookups import election_for_viewer, group_for_viewer
from .submissions import result_or_form_errors, run_form_action


def _election_spec(data: dict[str, Any]) -> services.ElectionSpec:
    return services.ElectionSpec(
        title=data["title"],
        description=data["description"],
        method=data["method"],
        options=data["options"],
        seats=data["seats"],
        rules=data["rules"],
        quorum_percent=data["quorum_percent"],
        majority_percent=data["majority_percent"],
        allow_revote=data["allow_revote"],
        opens_at=data["opens_at"],
        closes_at=data["closes_at"],
        nominations_open_at=data["nominations_open_at"],
        nominations_close_at=data["nominations_close_at"],
        required_seconds=data["required_seconds"],
    )


@login_required
def election_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    if not rules.can_run_elections(viewer):
        raise Http404("No such page")
    form = ElectionForm(request.POST or None, initial={"allow_revote": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        election = result_or_form_errors(
            form,
            lambda: services.election_create(
                actor=request.user,
                group=group,
                spec=_election_spec(data),
                kind=data["kind"],
            ),
        )
        if election is not None:
            messages.success(request, _("Ballot created."))
            return redirect("decisions:election_detail", election.pk)
    return render(
        request,
        "decisions/election_form.html",
        {"group": group, "viewer": viewer, "form": form},
    )


def _ballot_rows(
    options: list[Any], values: dict[str, Any], errors: papers.PaperErrors
) -> list[dict[str, Any]]:
    ranks = values.get("ranks", {})
    scores = values.get("scores", {})
    approved = set(values.get("approve", []))
    return [
        {
            "option": option,
            "rank": str(ranks.get(str(option.position), "") or ""),
            "score": str(scores.get(str(option.position), "") or ""),
            "approved": str(option.position) in approved,
            "chosen": values.get("choice", "") == str(option.position),
            "error": errors.fields.get(f"rank_{option.position}")
            or errors.fields.get(f"score_{option.position}", ""),
        }
        for option in options
    ]


def election_context(
    request: HttpRequest, election: Election, viewer: Any, **extra: Any
) -> dict[str, Any]:
    """The ballot page's context; ``errors`` and ``values`` show a paper again."""
    page = selectors.election_page(election, request.user)
    errors = extra.get("errors") or papers.PaperErrors()
    values = extra.get("values") or {}
    return {
        "rows": _ballot_rows(page.options, values, errors),
        "rank_choices": [str(n) for n in range(1, len(page.options) + 1)],
        "score_choices": [str(n) for n in range(0, election.max_score + 1)],
        "election": election,
        "page": page,
        "viewer": viewer,
        "can_run": rules.can_run_elections(viewer),
        "can_take_part": rules.can_take_part(viewer),
        "nomination_form": NominationForm(),
        "open_form": OpenForm(),
        "reason_form": ReasonForm(),
        "errors": papers.PaperErrors(),
        "values": {},
        **extra,
    }


@never_cache
def election_detail(request: HttpRequest, pk: int) -> HttpResponse:
    election, viewer = election_for_viewer(request, pk)
    return render(
        request,
        "decisions/election_detail.html",
        election_context(request, election, viewer),
    )


@login_required
def election_edit(request: MemberRequest, pk: int) -> HttpResponse:
    """Edit a definition before voting opens; afterwards it is frozen (409)."""
    election, viewer = election_for_viewer(request, pk)
    if not rules.can_run_elections(viewer):
        raise Http404("No such page")
    labels = "\n".join(election.options.values_list("label", flat=True))
    initial = {
        "title": election.title,
        "description": election.description,
        "options": labels,
    }
    form = ElectionEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            edited = result_or_form_errors(
                form,
                lambda: services.election_edit(
                    actor=request.user,
                    election=election,
                    title=data["title"],
                    description=data["description"],
                    options=data["options"],
                ),
            )
        except services.DecisionRefused as refusal:
            form.add_error(None, refusal.message)
            context = {"election": election, "viewer": viewer, "form": form}
            return render(request, "decisions/election_edit.html", context, status=409)
        if edited is not None:
            messages.success(request, _("Ballot updated."))
            return redirect("decisions:election_detail", election.pk)
    return render(
        request,
        "decisions/election_edit.html",
        {"election": election, "viewer": viewer, "form": form},
    )


@login_required
@require_POST
def election_open(request: MemberRequest, pk: int) -> HttpResponse:
    election, _viewer = election_for_viewer(request, pk)
    return run_form_action(
        request,
        OpenForm(request.POST),
        lambda data: services.election_open_now(
            actor=request.user, election=election, closes_at=data["closes_at"]
        ),
        invalid_message=_("Give a valid closing time."),
        success_message=_(
            "Voting is open. The definition is frozen and its hash published."
        ),
        redirect_to=reverse("decisions:election_detail", args=[election.pk]),
    )
