"""Casting a paper: the ballot box takes it and answers with the member's receipt and
tracker, or shows the paper again with what to fix (full page or htmx fragment)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.http import HtmxRequest
from commonground.members.http import MemberRequest

from .. import papers, services
from .elections import election_context
from .lookups import election_for_cast, election_for_viewer


def _submitted_values(data: Any) -> dict[str, Any]:
    """What the member entered, to show the form again after a field-level error."""
    ranks = {key[5:]: data.get(key) for key in data if key.startswith("rank_")}
    scores = {key[6:]: data.get(key) for key in data if key.startswith("score_")}
    return {
        "ranks": ranks,
        "scores": scores,
        "choice": data.get("choice", ""),
        "approve": data.getlist("approve"),
    }


def _ballot_response(
    request: HtmxRequest, context: dict[str, Any], *, status: int
) -> HttpResponse:
    if request.htmx:
        # htmx swaps only 2xx answers: the fragment carries the refusal itself.
        return render(
            request, "decisions/partials/ballot_form.html", context, status=200
        )
    return render(request, "decisions/election_detail.html", context, status=status)


@login_required
@require_POST
@never_cache
def election_vote(request: MemberRequest, pk: int) -> HttpResponse:
    election = election_for_cast(request, pk)
    try:
        receipt = services.ballot_cast(
            member=request.user, election=election, marks=request.POST
        )
    except papers.PaperErrors as errors:
        # A form shown again with its errors answers 200, as Django forms do; the
        # summary and each field say what to fix.
        election, viewer = election_for_viewer(request, pk)
        values = _submitted_values(request.POST)
        context = election_context(
            request, election, viewer, errors=errors, values=values
        )
        return _ballot_response(request, context, status=200)
    except services.DecisionRefused as refusal:
        election, viewer = election_for_viewer(request, pk)
        context = election_context(request, election, viewer, refusal=refusal.message)
        return _ballot_response(request, context, status=refusal.status)
    if request.htmx:
        # The fragment links back to the ballot: the election's id is all it reads.
        return render(
            request,
            "decisions/partials/receipt.html",
            {"election": election, "receipt": receipt},
            status=201,
        )
    election, viewer = election_for_viewer(request, pk)
    return render(
        request,
        "decisions/receipt.html",
        {"election": election, "viewer": viewer, "receipt": receipt},
        status=201,
    )
