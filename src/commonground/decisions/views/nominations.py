"""Open selection before a ballot: members nominate themselves with a statement (the
hustings), fellow members second them, and returning officers may reject one."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from commonground.core.actions import run_action
from commonground.members.http import MemberRequest

from .. import services
from ..forms import NominationForm
from ..models import Nomination
from .lookups import election_for_viewer
from .submissions import REFUSALS, run_form_action


@login_required
@require_POST
def nomination_new(request: MemberRequest, pk: int) -> HttpResponse:
    election, _viewer = election_for_viewer(request, pk)
    return run_form_action(
        request,
        NominationForm(request.POST),
        lambda data: services.nomination_submit(
            member=request.user, election=election, statement=data["statement"]
        ),
        invalid_message=_("Write a statement for members to read."),
        success_message=_("You are nominated. Ask a fellow member to second you."),
        redirect_to=reverse("decisions:election_detail", args=[election.pk]),
    )


def _on_nomination(
    request: MemberRequest,
    pk: int,
    action: Callable[[Nomination], object],
    success_message: str,
) -> HttpResponse:
    """Act on a nomination in a ballot the viewer can see, back to the ballot page."""
    nomination = get_object_or_404(Nomination, pk=pk)
    election, _viewer = election_for_viewer(request, nomination.election_id)
    return run_action(
        request,
        lambda: action(nomination),
        success_message=success_message,
        redirect_to=reverse("decisions:election_detail", args=[election.pk]),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def nomination_second(request: MemberRequest, pk: int) -> HttpResponse:
    return _on_nomination(
        request,
        pk,
        lambda n: services.nomination_second(member=request.user, nomination=n),
        _("You seconded this nomination."),
    )


@login_required
@require_POST
def nomination_withdraw(request: MemberRequest, pk: int) -> HttpResponse:
    return _on_nomination(
        request,
        pk,
        lambda n: services.nomination_withdraw(member=request.user, nomination=n),
        _("Your nomination is withdrawn."),
    )


@login_required
@require_POST
def nomination_reject(request: MemberRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _on_nomination(
        request,
        pk,
        lambda n: services.nomination_reject(
            actor=request.user, nomination=n, reason=reason
        ),
        _("Nomination rejected; the reason is in the audit log."),
    )
