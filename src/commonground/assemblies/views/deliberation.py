"""Pages of the panel's deliberation: its space (timetable, discussion, drafts and
the vote), sessions, recommendations and their publication, sending one to the
membership, and taking a seat won without an account.

Anyone who may see the assembly sees the timetable and the published
recommendations; everything else is for the panel and the organisers, and
answers 404 to others (whether it exists or not).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.actions import form_errors, refusal_message, run_action

from .. import deliberation_rules as panel_rules
from .. import deliberation_selectors as panel_selectors
from .. import rules
from ..deliberation_forms import (
    PanelBallotForm,
    PanelVoteOpenForm,
    RecommendationForm,
    SendForm,
    SessionForm,
)
from ..deliberation_rules import PanelAccess
from ..models import Assembly, Recommendation, Session
from ..services import deliberation as panel_services
from ..services.errors import AssemblyRefused

REFUSALS: tuple[type[Exception], ...] = (
    PermissionDenied,
    ValidationError,
    AssemblyRefused,
)


def _assembly(request: HttpRequest, slug: str) -> tuple[Assembly, PanelAccess]:
    """The assembly and what the viewer is to it; 404 when they may not see it."""
    assembly = panel_selectors.assembly_by_slug(slug)
    if assembly is None:
        raise Http404("No such assembly")
    access = panel_selectors.panel_access(request.user, assembly)
    if not rules.can_see_assembly(access.viewer, assembly):
        raise Http404("No such assembly")
    return assembly, access


def _panel_only(request: HttpRequest, slug: str) -> tuple[Assembly, PanelAccess]:
    assembly, access = _assembly(request, slug)
    if not panel_rules.can_enter_panel_space(access):
        raise Http404("No such page")
    return assembly, access


def _session(assembly: Assembly, session_id: int) -> Session:
    session = panel_selectors.session_of(assembly, session_id)
    if session is None:
        raise Http404("No such session")
    return session


def _recommendation(assembly: Assembly, recommendation_id: int) -> Recommendation:
    recommendation = panel_selectors.recommendation_of(assembly, recommendation_id)
    if recommendation is None:
        raise Http404("No such recommendation")
    return recommendation


def _space_url(assembly: Assembly) -> str:
    return reverse("assemblies:panel", args=[assembly.slug])


@never_cache
def panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The panel's space; the public sees its timetable."""
    assembly, access = _assembly(request, slug)
    if not panel_rules.can_see_timetable(access):
        raise Http404("No such page")
    return render(
        request,
        "assemblies/deliberation/space.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "space": panel_selectors.panel_space(access),
            "ballot_form": PanelBallotForm(),
            "vote_form": PanelVoteOpenForm(),
        },
    )


def session(request: HttpRequest, slug: str, session_id: int) -> HttpResponse:
    assembly, access = _assembly(request, slug)
    if not panel_rules.can_see_timetable(access):
        raise Http404("No such session")
    found = _session(assembly, session_id)
    return render(
        request,
        "assemblies/deliberation/session.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "session": found,
            "show_materials": panel_rules.can_see_session_materials(access, found),
            "show_link": panel_rules.can_see_session_link(access),
            "can_schedule": panel_rules.can_schedule_sessions(access),
            "can_discuss": panel_rules.can_discuss(access),
        },
    )


def _session_form_page(
    request: HttpRequest, assembly: Assembly, form: SessionForm, found: Session | None
) -> HttpResponse:
    return render(
        request,
        "assemblies/deliberation/session_form.html",
        {"assembly": assembly, "group": assembly.group, "form": form, "session": found},
    )


@login_required
def session_new(request: HttpRequest, slug: str) -> HttpResponse:
    assembly, access = _panel_only(request, slug)
    if not panel_rules.can_schedule_sessions(access):
        raise Http404("No such page")
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = panel_services.session_schedule(
                actor=request.user, assembly=assembly, spec=form.spec()
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, AssemblyRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The session is on the timetable."))
            return redirect(created.get_absolute_url())
    return _session_form_page(request, assembly, form, None)


@login_required
def session_edit(request: HttpRequest, slug: str, session_id: int) -> HttpResponse:
    assembly, access = _panel_only(request, slug)
    if not panel_rules.can_schedule_sessions(access):
        raise Http404("No such page")
    found = _session(assembly, session_id)
    form = SessionForm(request.POST or None, initial=SessionForm.initial_for(found))
    if request.method == "POST" and form.is_valid():
        try:
            panel_services.session_update(
                actor=request.user, session=found, spec=form.spec()
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, AssemblyRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The session is changed; the panel is told."))
            return redirect(found.get_absolute_url())
    return _session_form_page(request, assembly, form, found)


@login_required
@require_POST
def session_cancel(request: HttpRequest, slug: str, session_id: int) -> HttpResponse:
    assembly, _access = _panel_only(request, slug)
    found = _session(assembly, session_id)
    return run_action(
        request,
        lambda: panel_services.session_cancel(actor=request.user, session=found),
        success_message=_("The session is cancelled."),
        redirect_to=_space_url(assembly),
        refusals=REFUSALS,
    )


def _recommendation_form_page(
    request: HttpRequest,
    assembly: Assembly,
    form: RecommendationForm,
    found: Recommendation | None,
) -> HttpResponse:
    return render(
        request,
        "assemblies/deliberation/recommendation_form.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "form": form,
            "recommendation": found,
        },
    )


@login_required
def recommendation_new(request: HttpRequest, slug: str) -> HttpResponse:
    assembly, access = _panel_only(request, slug)
    if not panel_rules.can_draft_recommendation(access):
        raise Http404("No such page")
    form = RecommendationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            panel_services.recommendation_draft(
                actor=request.user, assembly=assembly, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, AssemblyRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The recommendation is drafted."))
            return redirect(_space_url(assembly) + "#drafts")
    return _recommendation_form_page(request, assembly, form, None)


@login_required
def recommendation_edit(
    request: HttpRequest, slug: str, recommendation_id: int
) -> HttpResponse:
    assembly, access = _panel_only(request, slug)
    if not panel_rules.can_draft_recommendation(access):
        raise Http404("No such page")
    found = _recommendation(assembly, recommendation_id)
    form = RecommendationForm(
        request.POST or None, initial={"title": found.title, "text": found.text}
    )
    if request.method == "POST" and form.is_valid():
        try:
            panel_services.recommendation_edit(
                actor=request.user, recommendation=found, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, AssemblyRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The recommendation is saved."))
            return redirect(_space_url(assembly) + "#drafts")
    return _recommendation_form_page(request, assembly, form, found)


@login_required
@require_POST
def panel_vote_open(request: HttpRequest, slug: str) -> HttpResponse:
    assembly, _access = _panel_only(request, slug)
    form = PanelVoteOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say when the panel's vote closes."))
        return redirect(_space_url(assembly) + "#drafts")
    return run_action(
        request,
        lambda: panel_services.panel_vote_open(
            actor=request.user,
            assembly=assembly,
            closes_at=form.cleaned_data["closes_at"],
        ),
        success_message=_("The panel's vote is open; its members are told."),
        redirect_to=_space_url(assembly) + "#vote",
        refusals=REFUSALS,
    )


@login_required
@require_POST
@never_cache
def panel_ballot(
    request: HttpRequest, slug: str, recommendation_id: int
) -> HttpResponse:
    """A panel member's secret ballot on one recommendation; anyone else: 403."""
    assembly, access = _assembly(request, slug)
    found = _recommendation(assembly, recommendation_id)
    form = PanelBallotForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose yes, no or abstain."))
        return redirect(_space_url(assembly) + "#vote")
    try:
        receipt = panel_services.panel_ballot_cast(
            member=request.user,
            recommendation=found,
            choice=form.cleaned_data["choice"],
        )
    except PermissionDenied as refusal:
        return render(
            request,
            "assemblies/deliberation/refused.html",
            {
                "assembly": assembly,
                "group": assembly.group,
                "message": str(refusal),
            },
            status=403,
        )
    except (ValidationError, AssemblyRefused) as refusal:
        messages.error(request, refusal_message(refusal))
    else:
        messages.success(
            request,
            _(
                "Your vote on recommendation %(number)d is recorded. Your tracker "
                "code is %(tracker)s: it shows your ballot was counted, never how "
                "you voted."
            )
            % {"number": found.number, "tracker": receipt.tracker},
        )
    return redirect(_space_url(assembly) + "#vote")


@login_required
@require_POST
def panel_invite(request: HttpRequest, slug: str) -> HttpResponse:
    """An organiser sends the invitations to take a seat not sent yet."""
    assembly, access = _panel_only(request, slug)
    if not panel_rules.is_organiser(access):
        raise Http404("No such page")
    return run_action(
        request,
        lambda: panel_services.panel_seats_welcome(
            assembly=assembly, actor=request.user
        ),
        success_message=_("The invitations are sent."),
        redirect_to=_space_url(assembly),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def recommendations_publish(request: HttpRequest, slug: str) -> HttpResponse:
    assembly, _access = _panel_only(request, slug)
    return run_action(
        request,
        lambda: panel_services.recommendations_publish(
            actor=request.user, assembly=assembly
        ),
        success_message=_("The recommendations and the panel's votes are published."),
        redirect_to=reverse("assemblies:recommendations", args=[assembly.slug]),
        refusals=REFUSALS,
    )


def recommendations(request: HttpRequest, slug: str) -> HttpResponse:
    """The public page of the published recommendations."""
    assembly, access = _assembly(request, slug)
    return render(
        request,
        "assemblies/deliberation/recommendations.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "recommendations": panel_selectors.published_recommendations(assembly),
            "can_send": panel_rules.can_send_to_membership(access),
            "send_form": SendForm(),
        },
    )


@login_required
@require_POST
def recommendation_send(
    request: HttpRequest, slug: str, recommendation_id: int
) -> HttpResponse:
    assembly, access = _assembly(request, slug)
    if not panel_rules.can_send_to_membership(access):
        raise Http404("No such page")
    found = _recommendation(assembly, recommendation_id)
    back = reverse("assemblies:recommendations", args=[assembly.slug])
    form = SendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.values()))
        return redirect(back)
    try:
        if form.cleaned_data["send_as"] == SendForm.AS_BALLOT:
            election = panel_services.recommendation_to_ballot(
                actor=request.user,
                recommendation=found,
                closes_at=form.cleaned_data["closes_at"],
            )
            target = reverse("decisions:election_detail", args=[election.pk])
        else:
            proposal = panel_services.recommendation_to_proposal(
                actor=request.user, recommendation=found
            )
            target = reverse("decisions:proposal_detail", args=[proposal.pk])
    except REFUSALS as refusal:
        messages.error(request, refusal_message(refusal))
        return redirect(back)
    messages.success(request, _("The recommendation is sent to the membership."))
    return redirect(target)


@never_cache
def panel_join(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Someone seated without an account takes their seat: sign in, then confirm."""
    assembly = panel_selectors.assembly_by_slug(slug)
    if assembly is None:
        raise Http404("No such assembly")
    context: dict[str, Any] = {"assembly": assembly, "group": assembly.group}
    try:
        seat = panel_services.panel_join_seat(assembly, token)
    except AssemblyRefused as refusal:
        context["message"] = str(refusal)
        return render(request, "assemblies/deliberation/join.html", context, status=404)
    context["email"] = seat.registrant.email
    if request.method == "POST" and request.user.is_authenticated:
        try:
            panel_services.panel_seat_take(
                user=request.user, assembly=assembly, token=token
            )
        except (PermissionDenied, AssemblyRefused) as refusal:
            context["message"] = refusal_message(refusal)
            return render(
                request, "assemblies/deliberation/join.html", context, status=403
            )
        messages.success(request, _("Welcome to the panel: your seat is yours."))
        return redirect(_space_url(assembly))
    return render(request, "assemblies/deliberation/join.html", context)
