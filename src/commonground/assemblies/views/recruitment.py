"""Recruiting: the public registration form, the emailed confirmation link, each
person's own page, and the organisers' pool page (counts against the quotas, the
early warning, and who is in the pool)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.actions import run_action
from commonground.core.clientip import client_address
from commonground.members.http import MemberRequest

from .. import rules, selectors, services
from ..forms import ReasonForm, RegistrationForm, SeedForm
from ..models import Registrant
from .lookups import assembly_for_manager, assembly_for_viewer
from .setup import REFUSALS

PEOPLE_PER_PAGE = 100


@never_cache
def register(request: HttpRequest, slug: str) -> HttpResponse:
    assembly, viewer = assembly_for_viewer(request, slug)
    now = services.clock_now()
    signed_in = request.user.is_authenticated
    form = RegistrationForm(
        request.POST or None,
        features=selectors.quotas(assembly),
        signed_in=signed_in,
        households=assembly.one_per_household,
    )
    open_now = rules.can_register(viewer, assembly, now)
    status = 200
    if request.method == "POST" and not open_now:
        form.add_error(None, _("Registration for this assembly has closed."))
        status = 403
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registrant = services.registrant_register(
                assembly=assembly,
                actor=request.user,
                name=data["name"],
                email=data.get("email", ""),
                features=form.features(),
                consent_to_draw=data["consent_to_draw"],
                consent_publish_name=data["consent_publish_name"],
                address=data.get("address", ""),
                honeypot=data.get("website", ""),
                client=client_address(request),
            )
        except services.HoneypotFilled:
            registrant = None
        except services.RegistrationRateLimited as error:
            form.add_error(None, str(error))
            status = 429
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.message_dict.items():
                    field = name if name in form.fields else f"feature_{name}"
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error.messages)
            status = 0
        except (PermissionDenied, services.AssemblyRefused) as error:
            form.add_error(None, str(error))
            status = 403
        if status == 200:
            if signed_in:
                messages.success(
                    request,
                    _("You are in the pool.")
                    if registrant is not None
                    else _("You were already registered."),
                )
                return redirect("assemblies:my_page", assembly.slug)
            messages.success(
                request,
                _(
                    "Almost there: we have emailed you a link. You are in the pool "
                    "once you follow it (within %(days)d days)."
                )
                % {"days": services.CONFIRM_DAYS},
            )
            return redirect("assemblies:detail", assembly.slug)
    elif request.method == "POST":
        status = 0
    return render(
        request,
        "assemblies/register.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "viewer": viewer,
            "form": form,
            "open_now": open_now,
            "recruiting": rules.recruitment_is_open(assembly, now),
            "needs_sign_in": not open_now
            and not signed_in
            and rules.recruitment_is_open(assembly, now),
            "signed_in": signed_in,
            "exclusions": [
                line.strip()
                for line in assembly.exclusions.splitlines()
                if line.strip()
            ],
        },
        # A form to correct is a normal page (200); refusals keep their status.
        status=status or 200,
    )


@never_cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        registrant = services.registrant_confirm(token=token)
    except services.BadLink as error:
        return render(
            request,
            "assemblies/link_refused.html",
            {"expired": error.expired},
            status=400,
        )
    except services.AssemblyRefused as error:
        return render(
            request,
            "assemblies/link_refused.html",
            {"message": str(error)},
            status=409,
        )
    messages.success(request, _("Your address is confirmed: you are in the pool."))
    return redirect("assemblies:my_page_token", services.page_token(registrant))


def _my_page(request: HttpRequest, registrant: Registrant, token: str) -> HttpResponse:
    standing = selectors.registrant_standing(registrant)
    response = render(
        request,
        "assemblies/me.html",
        {
            "assembly": registrant.assembly,
            "group": registrant.assembly.group,
            "standing": standing,
            "token": token,
        },
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def my_page_token(request: HttpRequest, token: str) -> HttpResponse:
    try:
        registrant = services.registrant_from_page_token(token)
    except services.BadLink:
        raise Http404("No such page") from None
    if request.method == "POST":
        return _withdraw(request, registrant, token)
    return _my_page(request, registrant, token)


@login_required
@never_cache
def my_page(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, _viewer = assembly_for_viewer(request, slug)
    registrant = selectors.registrant_of_user(assembly, request.user)
    if registrant is None:
        raise Http404("No such page")
    if request.method == "POST":
        return _withdraw(request, registrant, "")
    return _my_page(request, registrant, "")


def _withdraw(request: HttpRequest, registrant: Registrant, token: str) -> HttpResponse:
    back = (
        reverse("assemblies:my_page_token", args=[token])
        if token
        else reverse("assemblies:my_page", args=[registrant.assembly.slug])
    )
    return run_action(
        request,
        lambda: services.registrant_withdraw(registrant=registrant),
        success_message=_("You have left the pool."),
        redirect_to=back,
        refusals=REFUSALS,
    )


@login_required
def pool(request: MemberRequest, slug: str) -> HttpResponse:
    assembly, viewer = assembly_for_manager(request, slug)
    overview = selectors.pool_overview(assembly)
    people = Paginator(selectors.pool_mapping(assembly), PEOPLE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    chances = selectors.latest_probabilities(assembly)
    rows = [(person, chances.get(person.pseudonym)) for person in people]
    return render(
        request,
        "assemblies/pool.html",
        {
            "assembly": assembly,
            "group": assembly.group,
            "viewer": viewer,
            "overview": overview,
            "people": people,
            "rows": rows,
            "drawn": bool(chances),
            "seed_form": SeedForm(),
            "reason_form": ReasonForm(),
            "recruiting": assembly.status == "recruiting",
        },
    )


@login_required
@require_POST
def registrant_remove(request: MemberRequest, slug: str, pk: int) -> HttpResponse:
    assembly, _viewer = assembly_for_manager(request, slug)
    registrant = Registrant.objects.filter(assembly=assembly, pk=pk).first()
    if registrant is None:
        raise Http404("No such person")
    reason = str(request.POST.get("reason", ""))
    return run_action(
        request,
        lambda: services.registrant_remove(
            actor=request.user, registrant=registrant, reason=reason
        ),
        success_message=_("The person is out of the pool."),
        redirect_to=reverse("assemblies:pool", args=[assembly.slug]),
        refusals=REFUSALS,
    )
