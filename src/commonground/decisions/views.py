"""Thin views: parse input, call one service or selector, render.

Anything a viewer may not see answers 404, whether it exists or not (no guessing).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.http import HtmxRequest, MemberRequest
from commonground.members.models import Group, Membership, User
from commonground.members.selectors import group_by_slug

from . import counting, papers, rules, selectors, services
from .forms import (
    AmendmentForm,
    ElectionEditForm,
    ElectionForm,
    NominationForm,
    OpenForm,
    ProposalForm,
    ReasonForm,
)
from .models import Amendment, Election, Nomination, Proposal


def _group(request: HttpRequest, slug: str) -> tuple[Group, Any]:
    try:
        group = group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = selectors.visible_group(request.user, group)
    if viewer is None:
        raise Http404("No such group")
    return group, viewer


def _election(request: HttpRequest, pk: int) -> tuple[Election, Any]:
    found = selectors.election_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such ballot")
    return found


def _proposal(request: HttpRequest, pk: int) -> tuple[Proposal, Any]:
    found = selectors.proposal_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such proposal")
    return found


def _members(group: Group) -> Any:
    return (
        User.objects.filter(
            memberships__group__path__startswith=group.path,
            memberships__status=Membership.Status.ACTIVE,
        )
        .distinct()
        .order_by("display_name", "id")
    )


def _form_errors(form: Any, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, next to the fields it names."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field_name, errors in error.message_dict.items():
        form.add_error(field_name if field_name in form.fields else None, errors)


def _refused(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, services.DecisionRefused):
        messages.error(request, error.message)
    elif isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, str(error) or "You cannot do this.")


# Group pages ---------------------------------------------------------------------------


def group_decisions(request: HttpRequest, slug: str) -> HttpResponse:
    group, viewer = _group(request, slug)
    return render(
        request,
        "decisions/group.html",
        {
            "group": group,
            "viewer": viewer,
            "decisions": selectors.group_decisions(group, request.user),
            "can_run": rules.can_run_elections(viewer),
            "can_propose": rules.can_take_part(viewer),
        },
    )


# Proposals -----------------------------------------------------------------------------


@login_required
def proposal_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _group(request, slug)
    if not rules.can_take_part(viewer):
        raise Http404("No such page")
    form = ProposalForm(request.POST or None, members=_members(group))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.proposal_create(
                author=request.user,
                group=group,
                title=data["title"],
                text=data["text"],
                coauthors=list(data["coauthors"]),
                support_share_percent=data["support_share_percent"],
                support_period_days=data["support_period_days"],
                voting_days=data["voting_days"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, "Draft saved. Publish it when you are ready for discussion."
            )
            return redirect("decisions:proposal_detail", proposal.pk)
    return render(
        request, "decisions/proposal_form.html", {"group": group, "form": form}
    )


@login_required
def proposal_edit(request: MemberRequest, pk: int) -> HttpResponse:
    proposal, viewer = _proposal(request, pk)
    initial = {
        "title": proposal.title,
        "text": proposal.text,
        "coauthors": list(proposal.coauthors.all()),
    }
    form = ProposalForm(
        request.POST or None, initial=initial, members=_members(proposal.group)
    )
    for name in ("support_share_percent", "support_period_days", "voting_days"):
        form.fields[name].required = False
    if request.method == "POST" and form.is_valid():
        try:
            services.proposal_update(
                actor=request.user,
                proposal=proposal,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                coauthors=list(form.cleaned_data["coauthors"]),
            )
        except (PermissionDenied, ValidationError, services.DecisionRefused) as error:
            _refused(request, error)
        return redirect("decisions:proposal_detail", proposal.pk)
    return render(
        request,
        "decisions/proposal_form.html",
        {"group": proposal.group, "form": form, "proposal": proposal},
        status=200,
    )


def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal, viewer = _proposal(request, pk)
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


def _proposal_action(
    request: HttpRequest, pk: int, action: Any, done: str
) -> HttpResponse:
    proposal, _ = _proposal(request, pk)
    try:
        action(proposal)
    except (PermissionDenied, ValidationError, services.DecisionRefused) as error:
        _refused(request, error)
    else:
        messages.success(request, done)
    return redirect("decisions:proposal_detail", proposal.pk)


@login_required
@require_POST
def proposal_publish(request: MemberRequest, pk: int) -> HttpResponse:
    return _proposal_action(
        request,
        pk,
        lambda p: services.proposal_publish(actor=request.user, proposal=p),
        "Published: members can now discuss, amend and support it.",
    )


@login_required
@require_POST
def proposal_support(request: MemberRequest, pk: int) -> HttpResponse:
    if request.POST.get("withdraw"):
        return _proposal_action(
            request,
            pk,
            lambda p: services.proposal_withdraw_support(
                member=request.user, proposal=p
            ),
            "Your support is withdrawn.",
        )
    return _proposal_action(
        request,
        pk,
        lambda p: services.proposal_support(member=request.user, proposal=p),
        "Thank you: your support is counted.",
    )


@login_required
@require_POST
def proposal_send(request: MemberRequest, pk: int) -> HttpResponse:
    return _proposal_action(
        request,
        pk,
        lambda p: services.proposal_send_to_ballot(actor=request.user, proposal=p),
        "Sent to a ballot: voting is open.",
    )


@login_required
@require_POST
def amendment_new(request: MemberRequest, pk: int) -> HttpResponse:
    proposal, _ = _proposal(request, pk)
    form = AmendmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the amendment a title and a text.")
        return redirect("decisions:proposal_detail", proposal.pk)
    return _proposal_action(
        request,
        pk,
        lambda p: services.amendment_propose(
            member=request.user,
            proposal=p,
            title=form.cleaned_data["title"],
            text=form.cleaned_data["text"],
        ),
        "Amendment proposed. The authors will accept it or it goes to the vote alongside.",
    )


@login_required
@require_POST
def amendment_decide(request: MemberRequest, pk: int) -> HttpResponse:
    amendment = get_object_or_404(Amendment, pk=pk)
    proposal, _ = _proposal(request, amendment.proposal_id)
    accept = request.POST.get("decision") == "accept"
    return _proposal_action(
        request,
        proposal.pk,
        lambda p: services.amendment_decide(
            actor=request.user, amendment=amendment, accept=accept
        ),
        "Amendment accepted into the text."
        if accept
        else "The amendment will go to the vote alongside.",
    )


# Elections -----------------------------------------------------------------------------


@login_required
def election_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _group(request, slug)
    if not rules.can_run_elections(viewer):
        raise Http404("No such page")
    form = ElectionForm(request.POST or None, initial={"allow_revote": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        spec = services.ElectionSpec(
            title=data["title"],
            description=data["description"],
            method=data["method"],
            options=data["options"].splitlines(),
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
        try:
            election = services.election_create(
                actor=request.user, group=group, spec=spec, kind=data["kind"]
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Ballot created.")
            return redirect("decisions:election_detail", election.pk)
    status = 200
    return render(
        request,
        "decisions/election_form.html",
        {"group": group, "form": form},
        status=status,
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


def _election_context(
    request: HttpRequest, election: Election, viewer: Any, **extra: Any
) -> dict[str, Any]:
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
    election, viewer = _election(request, pk)
    return render(
        request,
        "decisions/election_detail.html",
        _election_context(request, election, viewer),
    )


def _submitted_values(election: Election, data: Any) -> dict[str, Any]:
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
    election, viewer = _election(request, pk)
    try:
        receipt = services.ballot_cast(
            member=request.user, election=election, marks=request.POST
        )
    except papers.PaperErrors as errors:
        # A form shown again with its errors answers 200, as Django forms do; the
        # summary and each field say what to fix.
        values = _submitted_values(election, request.POST)
        context = _election_context(
            request, election, viewer, errors=errors, values=values
        )
        return _ballot_response(request, context, status=200)
    except services.DecisionRefused as refusal:
        context = _election_context(request, election, viewer, refusal=refusal.message)
        return _ballot_response(request, context, status=refusal.status)
    htmx = request.htmx
    template = "decisions/partials/receipt.html" if htmx else "decisions/receipt.html"
    return render(
        request, template, {"election": election, "receipt": receipt}, status=201
    )


@login_required
def election_edit(request: MemberRequest, pk: int) -> HttpResponse:
    """Edit a definition before voting opens; afterwards it is frozen (409)."""
    election, viewer = _election(request, pk)
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
            services.election_edit(
                actor=request.user,
                election=election,
                title=data["title"],
                description=data["description"],
                options=data["options"].splitlines(),
            )
        except services.DecisionRefused as refusal:
            form.add_error(None, refusal.message)
            context = {"election": election, "form": form}
            return render(request, "decisions/election_edit.html", context, status=409)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Ballot updated.")
            return redirect("decisions:election_detail", election.pk)
    return render(
        request, "decisions/election_edit.html", {"election": election, "form": form}
    )


@login_required
@require_POST
def election_open(request: MemberRequest, pk: int) -> HttpResponse:
    election, viewer = _election(request, pk)
    form = OpenForm(request.POST)
    if form.is_valid():
        try:
            services.election_open_now(
                actor=request.user,
                election=election,
                closes_at=form.cleaned_data["closes_at"],
            )
        except (PermissionDenied, ValidationError, services.DecisionRefused) as error:
            _refused(request, error)
        else:
            messages.success(
                request,
                "Voting is open. The definition is frozen and its hash published.",
            )
    else:
        messages.error(request, "Give a valid closing time.")
    return redirect("decisions:election_detail", election.pk)


@login_required
@require_POST
def nomination_new(request: MemberRequest, pk: int) -> HttpResponse:
    election, viewer = _election(request, pk)
    form = NominationForm(request.POST)
    if form.is_valid():
        try:
            services.nomination_submit(
                member=request.user,
                election=election,
                statement=form.cleaned_data["statement"],
            )
        except (PermissionDenied, ValidationError, services.DecisionRefused) as error:
            _refused(request, error)
        else:
            messages.success(
                request, "You are nominated. Ask a fellow member to second you."
            )
    else:
        messages.error(request, "Write a statement for members to read.")
    return redirect("decisions:election_detail", election.pk)


def _nomination_action(
    request: HttpRequest, pk: int, action: Any, done: str
) -> HttpResponse:
    nomination = get_object_or_404(Nomination, pk=pk)
    election, _ = _election(request, nomination.election_id)
    try:
        action(nomination)
    except (PermissionDenied, ValidationError, services.DecisionRefused) as error:
        _refused(request, error)
    else:
        messages.success(request, done)
    return redirect("decisions:election_detail", election.pk)


@login_required
@require_POST
def nomination_second(request: MemberRequest, pk: int) -> HttpResponse:
    return _nomination_action(
        request,
        pk,
        lambda n: services.nomination_second(member=request.user, nomination=n),
        "You seconded this nomination.",
    )


@login_required
@require_POST
def nomination_withdraw(request: MemberRequest, pk: int) -> HttpResponse:
    return _nomination_action(
        request,
        pk,
        lambda n: services.nomination_withdraw(member=request.user, nomination=n),
        "Your nomination is withdrawn.",
    )


@login_required
@require_POST
def nomination_reject(request: MemberRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _nomination_action(
        request,
        pk,
        lambda n: services.nomination_reject(
            actor=request.user, nomination=n, reason=reason
        ),
        "Nomination rejected; the reason is in the audit log.",
    )


# Results ---------------------------------------------------------------------------------


def _counted(election: Election) -> Any:
    """The published result, counting now (in the background task) if voting has closed.

    A refused count (the definition no longer matches its seal) publishes nothing;
    the refusal is in the audit log and the page says so.
    """
    if election.phase_at(timezone.now()) != "closed":
        return None
    result = selectors.published_result(election)
    if result is None:
        from .tasks import count_election

        try:
            count_election.delay(election.pk)
        except services.IntegrityMismatch:
            return None
        result = selectors.published_result(election)
    return result


@never_cache
def election_results(request: HttpRequest, pk: int) -> HttpResponse:
    election, viewer = _election(request, pk)
    result = _counted(election)
    if result is None:
        return render(
            request,
            "decisions/results_pending.html",
            {
                "election": election,
                "page": selectors.election_page(election, request.user),
                "refused": selectors.count_refused(election),
            },
            status=404 if election.phase_at(timezone.now()) != "closed" else 202,
        )
    view = selectors.results_view(result)
    return render(
        request,
        "decisions/results.html",
        {
            "election": election,
            "view": view,
            "seal": election.seal,
            "trackers": selectors.published_trackers(result),
            "ballots": selectors.readable_ballots(result),
            "chart": view.chart,
        },
    )


DOWNLOADS = {
    "ballots.blt": "text/plain; charset=utf-8",
    "ballots.csv": "text/csv; charset=utf-8",
    "summary-rctab.json": "application/json",
    "result.json": "application/json",
    "trackers.txt": "text/plain; charset=utf-8",
    "definition.json": "application/json",
    "hashes.txt": "text/plain; charset=utf-8",
}


def election_download(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    election, viewer = _election(request, pk)
    if name not in DOWNLOADS:
        raise Http404("No such file")
    if name == "definition.json":
        seal = getattr(election, "seal", None)
        if seal is None:
            raise Http404("Not sealed yet")
        body = seal.definition_json
    else:
        result = _counted(election)
        if result is None:
            raise Http404("Results are published after voting closes")
        body = _download_body(election, result, name)
        if body is None:
            raise Http404("This file does not exist for this counting method")
    response = HttpResponse(body, content_type=DOWNLOADS[name])
    response["Content-Disposition"] = (
        f'attachment; filename="ballot-{election.pk}-{name}"'
    )
    return response


def _download_body(election: Election, result: Any, name: str) -> str | None:
    papers_list = selectors.published_ballots(result)
    candidates = result.engine_input["candidates"]
    if name == "ballots.blt":
        if not election.is_ranked:
            return None
        return papers.ballots_to_blt(
            candidates=candidates,
            seats=election.seats,
            title=election.title,
            papers=papers_list,
        )
    if name == "ballots.csv":
        if election.is_ranked and any(
            len(group) > 1 for p in papers_list for group in p["ranking"]
        ):
            return None
        return papers.ballots_to_csv(candidates=candidates, papers=papers_list)
    if name == "summary-rctab.json":
        data = json.loads(result.result_json)
        summary = counting.rctab_summary(
            data,
            contest=election.title,
            date=f"{election.closes_at:%Y-%m-%d}",
            jurisdiction=election.group.name,
        )
        return json.dumps(summary, indent=2, ensure_ascii=False)
    if name == "result.json":
        return result.result_json
    if name == "trackers.txt":
        return "".join(code + "\n" for code in selectors.published_trackers(result))
    seal = election.seal
    return (
        f"definition_sha256 {seal.definition_sha256}\n"
        f"roll_sha256 {seal.roll_sha256}\n"
        f"ballots_sha256 {result.ballots_sha256}\n"
        f"result_sha256 {result.result_sha256}\n"
    )
