"""Thin views for setting a movement up: the first run, and organisers shaping the
group tree (add, rename, move, archive, a whole tree from CSV)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from commonground.core.actions import form_errors, refusal_message, run_action

from .. import selectors, services
from ..forms import (
    GroupCreateForm,
    GroupMoveForm,
    GroupRenameForm,
    GroupTreeForm,
    ReasonForm,
    SetupForm,
)
from ..http import MemberRequest
from ..models import Group
from .pages import _managed_group

MAX_TREE_FILE_BYTES = 2 * 1024 * 1024


def _setup_token_problem(form: SetupForm) -> str | None:
    """Why the set-up may not go ahead: on a server (DEBUG off) the installer proves
    access to its environment with COMMONGROUND_SETUP_TOKEN, so a stranger who finds
    an empty site first cannot make themselves its admin."""
    expected = getattr(settings, "SETUP_TOKEN", "")
    if not expected:
        return (
            None
            if settings.DEBUG
            else _(
                "Set COMMONGROUND_SETUP_TOKEN in the server's environment and restart "
                "it, or run “commonground manage createadmin” on the server."
            )
        )
    given = form.cleaned_data.get("setup_token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _("That set-up token is not the one on the server.")
    return None


@never_cache
def first_run(request: HttpRequest) -> HttpResponse:
    if not services.site_is_empty():
        return redirect("home")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        problem = _setup_token_problem(form)
        if problem:
            form.add_error("setup_token", problem)
        else:
            try:
                done = services.site_setup(
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    organisation_name=form.cleaned_data["organisation"],
                    slug=form.cleaned_data["slug"],
                )
            except ValidationError as error:
                form_errors(form, error, default_field="password")
            else:
                login(
                    request,
                    done.admin,
                    backend="allauth.account.auth_backends.AuthenticationBackend",
                )
                messages.success(
                    request, _("Your movement is set up. Add its groups next.")
                )
                return redirect("members:group_structure", slug=done.top_group.slug)
    needs_token = bool(getattr(settings, "SETUP_TOKEN", "")) or not settings.DEBUG
    return render(
        request,
        "members/setup.html",
        {"form": form, "needs_token": needs_token},
        status=400 if form.errors else 200,
    )


def _structure_context(group: Group, viewer: Any, **forms: Any) -> dict[str, Any]:
    return {
        "group": group,
        "viewer": viewer,
        "subtree": selectors.group_subtree(group),
        "create_form": forms.get("create_form")
        or GroupCreateForm(initial={"kind": Group.Kind.BRANCH, "is_public": True}),
        "rename_form": forms.get("rename_form")
        or GroupRenameForm(initial={"name": group.name}),
        "move_form": forms.get("move_form")
        or GroupMoveForm(
            parents=selectors.move_targets(viewer.user, group),
            initial={"parent": group.parent_id},
        ),
        "archive_form": forms.get("archive_form") or ReasonForm(),
        "tree_form": forms.get("tree_form") or GroupTreeForm(),
        "plan": forms.get("plan"),
    }


@login_required
@never_cache
def group_structure(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    return render(
        request, "members/group_structure.html", _structure_context(group, viewer)
    )


def _structure_refused(
    request: HttpRequest, group: Group, viewer: Any, form_name: str, form: Any
) -> HttpResponse:
    context = _structure_context(group, viewer, **{form_name: form})
    return render(request, "members/group_structure.html", context, status=400)


@login_required
@require_POST
def group_add(request: MemberRequest, slug: str) -> HttpResponse:
    parent, viewer = _managed_group(request, slug)
    form = GroupCreateForm(request.POST)
    if form.is_valid():
        try:
            child = services.group_create(
                actor=request.user,
                organisation=parent.organisation,
                parent=parent,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_errors(form, error, default_field="name")
        else:
            messages.success(request, _("%(name)s is created.") % {"name": child.name})
            return redirect("members:group_structure", slug=child.slug)
    return _structure_refused(request, parent, viewer, "create_form", form)


@login_required
@require_POST
def group_rename(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    form = GroupRenameForm(request.POST)
    if not form.is_valid():
        return _structure_refused(request, group, viewer, "rename_form", form)
    return run_action(
        request,
        lambda: services.group_rename(
            actor=request.user, group=group, name=form.cleaned_data["name"]
        ),
        success_message=_("The group is renamed."),
        redirect_to=reverse("members:group_structure", args=[group.slug]),
    )


@login_required
@require_POST
def group_move(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    form = GroupMoveForm(
        request.POST, parents=selectors.move_targets(request.user, group)
    )
    if not form.is_valid():
        return _structure_refused(request, group, viewer, "move_form", form)
    return run_action(
        request,
        lambda: services.group_move(
            actor=request.user, group=group, new_parent=form.cleaned_data["parent"]
        ),
        success_message=_("The group is moved, with its members, roles and history."),
        redirect_to=reverse("members:group_structure", args=[group.slug]),
    )


@login_required
@require_POST
def group_archive(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed_group(request, slug)
    if request.POST.get("restore") == "1":
        return run_action(
            request,
            lambda: services.group_unarchive(actor=request.user, group=group),
            success_message=_("The group is back from the archive."),
            redirect_to=reverse("members:group_structure", args=[group.slug]),
        )
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _structure_refused(request, group, viewer, "archive_form", form)
    return run_action(
        request,
        lambda: services.group_archive(
            actor=request.user, group=group, reason=form.cleaned_data["reason"]
        ),
        success_message=_("The group is archived."),
        redirect_to=reverse("members:group_structure", args=[group.slug]),
    )


@login_required
@require_POST
def group_tree(request: MemberRequest, slug: str) -> HttpResponse:
    """A CSV of groups: a dry run by default, created when ``apply`` is ticked."""
    group, viewer = _managed_group(request, slug)
    form = GroupTreeForm(request.POST, request.FILES)
    if not form.is_valid():
        return _structure_refused(request, group, viewer, "tree_form", form)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_TREE_FILE_BYTES:
        form.add_error("file", _("The file is larger than 2 MB."))
        return _structure_refused(request, group, viewer, "tree_form", form)
    data = upload.read()
    kwargs = {"actor": request.user, "organisation": group.organisation, "data": data}
    plan = services.group_tree_plan(**kwargs)
    if form.cleaned_data["apply"] and not plan.problems:
        try:
            created = services.group_tree_apply(**kwargs)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(
                request, _("%(count)d groups created.") % {"count": len(created)}
            )
            return redirect("members:group_structure", slug=group.slug)
    context = _structure_context(group, viewer, tree_form=form, plan=plan)
    return render(
        request,
        "members/group_structure.html",
        context,
        status=400 if plan.problems else 200,
    )
