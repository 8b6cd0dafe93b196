"""Thin views for inviting imported members and verifying members before they vote."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.actions import run_action
from commonground.notifications.delivery import site_url

from .. import selectors, services
from ..forms import ClaimForm, VerificationCodeForm, VerificationMethodForm
from ..http import MemberRequest
from ..letters import letters_pdf
from ..models import Invitation, Organisation, User, Verification
from .pages import _administered_organisation, _managed_group


@login_required
@never_cache
def invitations(request: MemberRequest, org_slug: str) -> HttpResponse:
    organisation = _administered_organisation(request, org_slug)
    if request.method == "POST":
        sent = services.invitations_send(actor=request.user, organisation=organisation)
        messages.success(
            request, _("%(count)d invitations are on their way.") % {"count": sent}
        )
        return redirect("members:invitations", org_slug=organisation.slug)
    context = {
        "organisation": organisation,
        **selectors.invitation_summary(organisation),
    }
    return render(request, "members/invitations.html", context)


@login_required
@require_POST
def invitation_resend(
    request: MemberRequest, org_slug: str, invitation_id: int
) -> HttpResponse:
    organisation = _administered_organisation(request, org_slug)
    invitation = get_object_or_404(
        Invitation, pk=invitation_id, organisation=organisation
    )
    return run_action(
        request,
        lambda: services.invitation_resend(actor=request.user, invitation=invitation),
        success_message=_("The invitation is sent again."),
        redirect_to=reverse("members:invitations", args=[organisation.slug]),
    )


@never_cache
def invitation_claim(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except ValidationError as error:
        return render(
            request,
            "members/invitation_invalid.html",
            {"message": " ".join(error.messages)},
            status=400,
        )
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_claim(
                token=token, password=form.cleaned_data["password"]
            )
        except ValidationError as error:
            form.add_error("password", error)
        else:
            login(
                request,
                user,
                backend="allauth.account.auth_backends.AuthenticationBackend",
            )
            messages.success(request, _("Welcome: your account is yours now."))
            return redirect("core:dashboard")
    context = {"form": form, "invitation": invitation}
    return render(
        request,
        "members/invitation_claim.html",
        context,
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
def group_verification(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    organisation = group.organisation
    context = {
        "group": group,
        "viewer": viewer,
        "organisation": organisation,
        "unverified": list(selectors.unverified_members(group)[:500]),
        "is_admin": selectors.is_organisation_admin(request.user, organisation),
        "method_form": VerificationMethodForm(
            initial={"method": organisation.verification}
        ),
        "Verification": Verification,
    }
    return render(request, "members/group_verification.html", context)


@login_required
@require_POST
def verification_method(request: MemberRequest, slug: str) -> HttpResponse:
    group, _viewer = _managed_group(request, slug)
    form = VerificationMethodForm(request.POST)
    method = form.cleaned_data["method"] if form.is_valid() else ""
    return run_action(
        request,
        lambda: services.organisation_verification_set(
            actor=request.user, organisation=group.organisation, method=method
        ),
        success_message=_("The way members are verified is saved."),
        redirect_to=reverse("members:group_verification", args=[group.slug]),
    )


@login_required
@require_POST
def member_verify(request: MemberRequest, slug: str, user_id: int) -> HttpResponse:
    group, _viewer = _managed_group(request, slug)
    member = get_object_or_404(User, pk=user_id)
    return run_action(
        request,
        lambda: services.member_verify(actor=request.user, member=member, group=group),
        success_message=_("%(name)s is verified.") % {"name": member.public_name},
        redirect_to=reverse("members:group_verification", args=[group.slug]),
    )


@login_required
@require_POST
def verification_letters(request: MemberRequest, slug: str) -> HttpResponse:
    group, _viewer = _managed_group(request, slug)
    try:
        letters = services.verification_letters_issue(actor=request.user, group=group)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("members:group_verification", slug=group.slug)
    pdf = letters_pdf(
        letters,
        organisation=group.organisation.name,
        verify_url=site_url(reverse("members:verify_code"))
        or reverse("members:verify_code"),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="letters-{group.slug}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def verify_code(request: MemberRequest) -> HttpResponse:
    waiting = selectors.postal_code_organisations(request.user)
    form = VerificationCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = get_object_or_404(
            Organisation,
            pk=request.POST.get("organisation"),
            pk__in=[o.pk for o in waiting],
        )
        try:
            services.verification_code_redeem(
                user=request.user,
                organisation=organisation,
                code=form.cleaned_data["code"],
            )
        except ValidationError as error:
            form.add_error("code", error.message_dict.get("code", error.messages))
        else:
            messages.success(
                request,
                _("You are verified: you can vote in %(org)s's ballots.")
                % {"org": organisation.name},
            )
            return redirect("core:dashboard")
    return render(
        request,
        "members/verify_code.html",
        {"form": form, "waiting": waiting},
        status=400 if form.errors else 200,
    )
