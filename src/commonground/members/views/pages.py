"""Thin views of group pages, organiser tools and the member's own account pages."""

from __future__ import annotations

import json
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.capabilities import Label, group_overview

from .. import rules, selectors, services
from ..branding import brand_of
from ..forms import (
    DeleteAccountForm,
    GroupSettingsForm,
    OptionalReasonForm,
    OrganisationBrandingForm,
    ProfileForm,
    ReasonForm,
    RoleAssignForm,
)
from ..http import MemberRequest
from ..models import Group, Membership, Organisation, RoleAssignment


def _visible_group(request: HttpRequest, slug: str) -> tuple[Group, selectors.Viewer]:
    """The group and what the viewer is to it; 404 for a private group they may not see."""
    try:
        group = selectors.group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = selectors.viewer_for(request.user, group)
    if not group.is_public and not (viewer.is_member or viewer.can_manage):
        raise Http404("No such group")
    return group, viewer


def _members_only(request: HttpRequest, slug: str) -> tuple[Group, selectors.Viewer]:
    """A page for the group's members and managers only (the member list, the log)."""
    group, viewer = _visible_group(request, slug)
    if not rules.can_see_members(viewer):
        raise Http404("No such page")
    return group, viewer


def _managed_group(request: HttpRequest, slug: str) -> tuple[Group, selectors.Viewer]:
    group, viewer = _visible_group(request, slug)
    if not rules.can_manage_group(viewer):
        raise Http404("No such page")
    return group, viewer


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def group_directory(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/directory.html",
        {"organisations": selectors.organisations_with_groups()},
    )


def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The group's home: what needs the member now, recent activity, people in roles."""
    group, viewer = _visible_group(request, slug)
    return render(
        request,
        "members/group_detail.html",
        {
            "group": group,
            "viewer": viewer,
            "ancestors": selectors.group_ancestors(group),
            "my_groups": selectors.groups_of(request.user),
            "overview": group_overview(group, viewer),
            "people": selectors.group_people_in_roles(group),
            "children": selectors.group_children(group),
            "member_count": selectors.group_active_member_count(group),
            "affiliates": selectors.affiliate_brands(group.organisation)
            if group.organisation.kind == group.organisation.Kind.COALITION
            else [],
        },
    )


@login_required
def group_members(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _members_only(request, slug)
    return render(
        request,
        "members/group_members.html",
        {
            "group": group,
            "viewer": viewer,
            "listing": selectors.group_member_list(group),
        },
    )


def _membership_changed(
    request: MemberRequest, group: Group, notice: str, error: bool
) -> HttpResponse:
    """Full page: redirect with a message. htmx: the refreshed membership section."""
    if request.htmx:
        context = {
            "group": group,
            "viewer": selectors.viewer_for(request.user, group),
            "notice": notice,
        }
        return render(request, "members/partials/membership_section.html", context)
    (messages.error if error else messages.success)(request, notice)
    return redirect("members:group", slug=group.slug)


@login_required
@require_POST
def group_join(request: MemberRequest, slug: str) -> HttpResponse:
    group, _ = _visible_group(request, slug)
    try:
        membership = services.membership_join(user=request.user, group=group)
    except ValidationError as error:
        return _membership_changed(request, group, _error_text(error), error=True)
    if membership.status == Membership.Status.ACTIVE:
        notice = gettext("You are now a member of %(group)s.") % {"group": group.name}
    else:
        notice = gettext(
            "Your application to %(group)s is waiting for its organisers."
        ) % {"group": group.name}
    return _membership_changed(request, group, notice, error=False)


@login_required
@require_POST
def group_leave(request: MemberRequest, slug: str) -> HttpResponse:
    group, _ = _visible_group(request, slug)
    try:
        services.membership_leave(user=request.user, group=group)
    except ValidationError as error:
        return _membership_changed(request, group, _error_text(error), error=True)
    return _membership_changed(
        request,
        group,
        gettext("You have left %(group)s.") % {"group": group.name},
        error=False,
    )


@login_required
@never_cache
def group_manage(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    return render(request, "members/group_manage.html", _manage_context(group, viewer))


def _manage_context(
    group: Group, viewer: selectors.Viewer, **forms: object
) -> dict[str, object]:
    members = selectors.subtree_active_members(group)
    return {
        "group": group,
        "viewer": viewer,
        "memberships": selectors.group_memberships_for_organisers(group),
        "assignments": selectors.group_role_assignments(group),
        "role_form": forms.get("role_form") or RoleAssignForm(members=members),
        "settings_form": forms.get("settings_form")
        or GroupSettingsForm(
            initial={
                "description": group.description,
                "join_policy": group.join_policy,
                "is_public": group.is_public,
            }
        ),
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "failed_membership_id": forms.get("failed_membership_id"),
    }


MEMBERSHIP_ACTIONS: dict[
    str, tuple[Callable[..., Membership], type[forms.Form] | None, Label]
] = {
    "approve": (
        services.membership_approve,
        None,
        gettext_lazy("Application approved."),
    ),
    "decline": (
        services.membership_decline,
        OptionalReasonForm,
        gettext_lazy("Application declined."),
    ),
    "suspend": (
        services.membership_suspend,
        ReasonForm,
        gettext_lazy("Membership suspended."),
    ),
    "reinstate": (
        services.membership_reinstate,
        OptionalReasonForm,
        gettext_lazy("Membership reinstated."),
    ),
}


@login_required
@require_POST
def membership_action(
    request: HttpRequest, slug: str, membership_id: int, action: str
) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    if action not in MEMBERSHIP_ACTIONS:
        raise Http404("No such action")
    service, form_class, success = MEMBERSHIP_ACTIONS[action]
    membership = get_object_or_404(Membership, pk=membership_id, group=group)
    kwargs: dict[str, object] = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            context = _manage_context(
                group, viewer, reason_form=form, failed_membership_id=membership.pk
            )
            return render(request, "members/group_manage.html", context, status=400)
        kwargs["reason"] = form.cleaned_data["reason"]
    try:
        service(actor=request.user, membership=membership, **kwargs)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    except PermissionDenied:
        raise Http404("No such page") from None
    else:
        messages.success(request, str(success))
    return redirect("members:group_manage", slug=group.slug)


@login_required
@require_POST
def role_assign(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    members = selectors.subtree_active_members(group)
    form = RoleAssignForm(request.POST, members=members)
    if form.is_valid():
        try:
            services.role_assign(
                actor=request.user,
                group=group,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error("role", str(error))
        else:
            messages.success(request, gettext("Role assigned."))
            return redirect("members:group_manage", slug=group.slug)
    return render(
        request,
        "members/group_manage.html",
        _manage_context(group, viewer, role_form=form),
        status=400,
    )


@login_required
@require_POST
def role_revoke(request: MemberRequest, slug: str, assignment_id: int) -> HttpResponse:
    group, _ = _managed_group(request, slug)
    assignment = get_object_or_404(RoleAssignment, pk=assignment_id, group=group)
    form = OptionalReasonForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "The reason could not be read: " + form.errors.as_text()
        )
        return redirect("members:group_manage", slug=group.slug)
    try:
        services.role_revoke(
            actor=request.user,
            assignment=assignment,
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, gettext("Role removed."))
    return redirect("members:group_manage", slug=group.slug)


@login_required
@require_POST
def group_settings(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    form = GroupSettingsForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "members/group_manage.html",
            _manage_context(group, viewer, settings_form=form),
            status=400,
        )
    services.group_settings_update(actor=request.user, group=group, **form.cleaned_data)
    messages.success(request, gettext("Settings saved."))
    return redirect("members:group_manage", slug=group.slug)


def group_log(request: HttpRequest, slug: str) -> HttpResponse:
    group, viewer = _members_only(request, slug)
    return render(
        request,
        "members/group_log.html",
        {
            "group": group,
            "viewer": viewer,
            "entries": selectors.group_audit_entries(group),
        },
    )


@login_required
@never_cache
def profile(request: MemberRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    context = {
        "form": form,
        "administered_organisations": selectors.organisations_administered(
            request.user
        ),
    }
    if request.method == "POST":
        if form.is_valid():
            services.profile_update(user=request.user, **form.cleaned_data)
            messages.success(request, gettext("Your profile is saved."))
            return redirect("members:profile")
        return render(request, "members/profile.html", context, status=400)
    return render(request, "members/profile.html", context)


@login_required
@never_cache
def account_export(request: MemberRequest) -> HttpResponse:
    data = services.account_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-commonground-data.json"'
    return response


@login_required
@never_cache
def account_delete(request: MemberRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            user = request.user
            logout(request)
            services.account_delete(user=user)
            messages.success(
                request, "Your account is deleted and your details are removed."
            )
            return redirect("home")
        return render(
            request, "members/account_delete.html", {"form": form}, status=400
        )
    return render(request, "members/account_delete.html", {"form": form})


# Organisations: their admins' settings page and the stylesheet of their accent.


def _administered_organisation(request: MemberRequest, org_slug: str) -> Organisation:
    """The organisation, for its admins only; 404 for everyone else."""
    try:
        organisation = selectors.organisation_by_slug(org_slug)
    except Organisation.DoesNotExist:
        raise Http404("No such organisation") from None
    if not selectors.is_organisation_admin(request.user, organisation):
        raise Http404("No such page")
    return organisation


@login_required
@never_cache
def organisation_settings(request: MemberRequest, org_slug: str) -> HttpResponse:
    organisation = _administered_organisation(request, org_slug)
    initial = {"name": organisation.name, "accent_colour": organisation.accent_colour}
    form = OrganisationBrandingForm(
        request.POST or None, request.FILES or None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_branding_update(
                actor=request.user, organisation=organisation, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("The organisation's settings are saved."))
            return redirect("members:organisation_settings", org_slug=organisation.slug)
    context = {
        "organisation": organisation,
        "brand": brand_of(organisation),
        "form": form,
    }
    status = 400 if form.is_bound else 200
    return render(request, "members/organisation_settings.html", context, status=status)


def organisation_brand_css(request: HttpRequest, org_slug: str) -> HttpResponse:
    """``:root`` custom properties of the organisation's accent (CSP allows only
    same-origin stylesheets, so the colours come as a small versioned stylesheet)."""
    brand = selectors.brand_for_organisation_slug(org_slug)
    if brand is None:
        raise Http404("No such organisation")
    response = HttpResponse(brand.stylesheet, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
