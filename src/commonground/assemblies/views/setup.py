"""Organisers set an assembly up: create, settings, quotas (entered or imported
from population shares), open recruitment, invite a sample of members."""

from __future__ import annotations

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
from ..forms import AssemblyForm, QuotasForm, SeedForm, SharesForm
from .lookups import assembly_for_manager, assembly_for_viewer, group_for_viewer

REFUSALS: tuple[type[Exception], ...] = (
    PermissionDenied,
    ValidationError,
    services.AssemblyRefused,
)


def group_assemblies(request: HttpRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    return render(
        request,
        "assemblies/group.html",
        {
            "group": group,
            "viewer": viewer,
            "assemblies": selectors.group_assemblies(group, viewer),
            "can_create": rules.can_create_assembly(viewer),
        },
    )


@login_required
def assembly_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    if not rules.can_create_assembly(viewer):
        raise Http404("No such page")
    form = AssemblyForm(
        request.POST or None,
        initial={"kind": "members", "recruitment": "open_call", "algorithm": "leximin"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            assembly = services.assembly_create(
                actor=request.user, group=group, settings=form.settings()
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, services.AssemblyRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The assembly is created. Now set its quotas."))
            return redirect("assemblies:quotas", assembly.slug)
    return render(
        request,
        "assemblies/form.html",
        {"group": group, "viewer": viewer, "form": form, "creating": True},
    )


@login_required
def assembly_edit(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, viewer = assembly_for_manager(request, slug)
    form = AssemblyForm(
        request.POST or None, initial=AssemblyForm.initial_for(assembly)
    )
    if request.method == "POST" and form.is_valid():
        try:
            assembly = services.assembly_update(
                actor=request.user, assembly=assembly, settings=form.settings()
            )
        except ValidationError as error:
            form_errors(form, error)
        except (PermissionDenied, services.AssemblyRefused) as refusal:
            form.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The settings are saved."))
            return redirect("assemblies:detail", assembly.slug)
    return render(
        request,
        "assemblies/form.html",
        {
            "group": assembly.group,
            "viewer": viewer,
            "form": form,
            "assembly": assembly,
            "creating": False,
        },
    )


@login_required
def assembly_quotas(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, viewer = assembly_for_manager(request, slug)
    features = selectors.quotas(assembly)
    editable = rules.can_edit_setup(viewer, assembly)
    form = QuotasForm(
        request.POST if "quotas" in request.POST else None,
        initial={"quotas": QuotasForm.text_for(features)},
    )
    shares_form = SharesForm(
        request.POST if "import" in request.POST else None,
        request.FILES if "import" in request.POST else None,
    )
    if request.method == "POST" and not editable:
        messages.error(request, _("The quotas are fixed once recruitment has opened."))
        return redirect("assemblies:quotas", assembly.slug)
    specs = None
    target: QuotasForm | SharesForm = form
    if request.method == "POST" and "quotas" in request.POST and form.is_valid():
        specs, target = form.cleaned_data["quotas"], form
    elif (
        request.method == "POST" and "import" in request.POST and shares_form.is_valid()
    ):
        upload = shares_form.cleaned_data["shares"]
        target = shares_form
        try:
            text = upload.read(200_001).decode("utf-8")
            specs = services.quotas_from_shares(text, assembly.panel_size)
        except UnicodeDecodeError:
            shares_form.add_error("shares", _("The file is not UTF-8 text."))
        except ValidationError as error:
            shares_form.add_error("shares", error.messages)
    if specs is not None:
        try:
            services.quotas_set(actor=request.user, assembly=assembly, features=specs)
        except ValidationError as error:
            target.add_error(None, error.messages)
        except (PermissionDenied, services.AssemblyRefused) as refusal:
            target.add_error(None, refusal_message(refusal))
        else:
            messages.success(request, _("The quotas are saved."))
            return redirect("assemblies:quotas", assembly.slug)
    return render(
        request,
        "assemblies/quotas.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "viewer": viewer,
            "features": features,
            "form": form,
            "shares_form": shares_form,
            "editable": editable,
        },
    )


@login_required
@require_POST
def recruitment_open(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    return run_action(
        request,
        lambda: services.recruitment_open(actor=request.user, assembly=assembly),
        success_message=_("Recruitment is open."),
        redirect_to=reverse("assemblies:detail", args=[assembly.slug]),
        refusals=REFUSALS,
    )


@login_required
@require_POST
def members_invite(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    form = SeedForm(request.POST)
    seed = form.data.get("seed", "")
    return run_action(
        request,
        lambda: services.members_invite(
            actor=request.user, assembly=assembly, seed=seed
        ),
        success_message=_("The sample of members is invited."),
        redirect_to=reverse("assemblies:pool", args=[assembly.slug]),
        refusals=REFUSALS,
    )


def assembly_detail(request: HttpRequest, slug: str) -> HttpResponse:
    assembly, viewer = assembly_for_viewer(request, slug)
    can_manage = rules.can_manage(viewer)
    return render(
        request,
        "assemblies/detail.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "viewer": viewer,
            "can_manage": can_manage,
            "can_edit_setup": rules.can_edit_setup(viewer, assembly),
            "recruiting": rules.recruitment_is_open(assembly, services.clock_now()),
            "features": selectors.quotas(assembly),
            "draws": selectors.draws(assembly),
            "panel_names": selectors.panel_public_names(assembly),
            "mine": selectors.registrant_of_user(assembly, request.user),
            "seed_form": SeedForm(),
        },
    )
