"""The public draw: commit (organisers), the public draw page with its progress,
the random number, the published files, and drop-outs with replacement draws."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from commonground.core.actions import run_action
from commonground.members.http import MemberRequest

from .. import rules, selectors, services
from ..forms import RandomNumberForm
from ..models import Draw, DrawKind, PanelSeat
from .lookups import assembly_for_manager, assembly_for_viewer
from .setup import REFUSALS


def _published_draw(request: HttpRequest, slug: str, number: int) -> tuple:
    assembly, viewer = assembly_for_viewer(request, slug)
    draw = selectors.draw_by_number(assembly, number)
    if draw is None:
        raise Http404("No such draw")
    return assembly, viewer, draw


@login_required
@require_POST
def draw_commit(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    kind = (
        DrawKind.REPLACEMENT
        if request.POST.get("kind") == DrawKind.REPLACEMENT
        else DrawKind.INITIAL
    )
    committed: list[Draw] = []

    def commit() -> None:
        committed.append(
            services.draw_commit(actor=request.user, assembly=assembly, kind=kind)
        )

    response = run_action(
        request,
        commit,
        success_message=_(
            "The pool is frozen and the draw committed: its files and their "
            "SHA-256 are published."
        ),
        redirect_to=reverse("assemblies:detail", args=[assembly.slug]),
        refusals=REFUSALS,
    )
    if committed:
        response["Location"] = reverse(
            "assemblies:draw", args=[assembly.slug, committed[0].number]
        )
    return response


def _draw_context(request: HttpRequest, slug: str, number: int) -> dict:
    assembly, viewer, draw = _published_draw(request, slug, number)
    full = selectors.draw_by_number(assembly, number, files=True)
    assert full is not None
    can_manage = rules.can_manage(viewer)
    return {
        "assembly": assembly,
        "group": assembly.group,
        "viewer": viewer,
        "draw": full,
        "can_manage": can_manage,
        "polling": full.status == "running",
        "probabilities": selectors.published_probabilities(full),
        "panel_names": selectors.panel_public_names(assembly)
        if full.status == "done"
        else [],
        "command": services.verify_command(full, assembly),
        "number_form": RandomNumberForm(),
        "seats": selectors.panel_seats(assembly) if can_manage else [],
        "lottery_size": services.LOTTERY_SIZE,
        "seed": services.ENGINE_SEED,
    }


def draw_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    context = _draw_context(request, slug, number)
    template = (
        "assemblies/partials/draw_status.html"
        if getattr(request, "htmx", False)
        else "assemblies/draw.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def draw_start(request: MemberRequest, slug: str, number: int) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    draw = selectors.draw_by_number(assembly, number)
    if draw is None:
        raise Http404("No such draw")
    value = str(request.POST.get("random_number", ""))
    return run_action(
        request,
        lambda: services.draw_start(actor=request.user, draw=draw, random_number=value),
        success_message=_("The draw is running. This page shows its progress."),
        redirect_to=reverse("assemblies:draw", args=[assembly.slug, number]),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def draw_requeue(request: MemberRequest, slug: str, number: int) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    draw = selectors.draw_by_number(assembly, number)
    if draw is None:
        raise Http404("No such draw")
    return run_action(
        request,
        lambda: services.draw_requeue(actor=request.user, draw=draw),
        success_message=_("The draw is queued again."),
        redirect_to=reverse("assemblies:draw", args=[assembly.slug, number]),
        refusals=REFUSALS,
    )


def draw_file(request: HttpRequest, slug: str, number: int, name: str) -> HttpResponse:
    """The published files: pool-N.csv, quotas-N.csv, lottery-N.json and, once
    drawn, probabilities-N.csv (pseudonym, probability, drawn)."""
    assembly, _viewer = assembly_for_viewer(request, slug)
    draw = selectors.draw_by_number(assembly, number, files=True)
    if draw is None:
        raise Http404("No such draw")
    files = {
        "pool": (draw.pool_file, "text/csv; charset=utf-8", "csv"),
        "quotas": (draw.quotas_file, "text/csv; charset=utf-8", "csv"),
        "lottery": (draw.lottery_file, "application/json", "json"),
        "probabilities": (
            selectors.probabilities_file(draw),
            "text/csv; charset=utf-8",
            "csv",
        ),
    }
    if name not in files:
        raise Http404("No such file")
    data, content_type, extension = files[name]
    if data is None:
        raise Http404("No such file")
    response = HttpResponse(bytes(data), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{draw.number}.{extension}"'
    )
    return response


@login_required
@require_POST
def seat_drop_out(request: MemberRequest, slug: str, pk: int) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    seat = (
        PanelSeat.objects.filter(assembly=assembly, pk=pk)
        .select_related("draw")
        .first()
    )
    if seat is None:
        raise Http404("No such seat")
    reason = str(request.POST.get("reason", ""))
    return run_action(
        request,
        lambda: services.seat_drop_out(actor=request.user, seat=seat, reason=reason),
        success_message=_(
            "The seat is empty. Commit a replacement draw to fill it from the pool."
        ),
        redirect_to=reverse("assemblies:detail", args=[assembly.slug]),
        refusals=REFUSALS,
    )
