"""Thread page, posting and moderation over HTTP (full pages, or htmx fragments)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from commonground.core.actions import RefusalPage, run_action
from commonground.members.models import Group
from commonground.members.selectors import viewer_for

from . import rules, selectors, services
from .forms import CommentForm, ReasonForm
from .models import Comment


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def load_target(key: str, object_id: str) -> models.Model:
    """The target named by "<app_label>.<model>" and its pk; 404 if it cannot have a
    discussion or does not exist."""
    try:
        model = apps.get_model(key)
    except (LookupError, ValueError):
        raise Http404("No such discussion") from None
    if not rules.has_rule(model):
        raise Http404("No such discussion")
    try:
        target: models.Model = model._default_manager.get(pk=object_id)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such discussion") from None
    return target


def thread_url(target: models.Model) -> str:
    return reverse("discussion:thread", args=[selectors.target_key(target), target.pk])


def _readable_target(request: HttpRequest, key: str, object_id: str) -> models.Model:
    target = load_target(key, object_id)
    if not rules.can_read(request.user, target):
        raise Http404("No such discussion")
    return target


def _back_to(request: HttpRequest, next_url: str, fallback: str) -> str:
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return fallback


def _at_comment(url: str, comment: Comment) -> str:
    """``url`` with its fragment replaced by the comment's anchor."""
    return f"{url.split('#')[0]}#comment-{comment.pk}"


def _errors_fragment(
    request: HttpRequest, form_id: str, errors: list[str], status: int
) -> HttpResponse:
    response = render(
        request, "discussion/partials/errors.html", {"errors": errors}, status=status
    )
    response["HX-Retarget"] = f"#{form_id}-errors"
    response["HX-Reswap"] = "innerHTML"
    return response


@require_http_methods(["GET", "POST"])
def thread(request: HttpRequest, key: str, object_id: str) -> HttpResponse:
    target = _readable_target(request, key, object_id)
    if request.method == "POST":
        return _post(request, target)
    return render(request, "discussion/thread_page.html", {"target": target})


def _post(request: HttpRequest, target: models.Model) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={thread_url(target)}")
    form = CommentForm(request.POST)
    form_id = request.POST.get("form_id", "")
    form_id = form_id if form_id.replace("-", "").isalnum() else "discussion"
    status, errors = 400, []
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = Comment.objects.filter(pk=form.cleaned_data["parent"]).first()
            if parent is None:
                form.add_error(None, _("That comment no longer exists."))
        if form.is_valid():
            try:
                comment = services.comment_post(
                    author=request.user,
                    target=target,
                    body=form.cleaned_data["body"],
                    parent=parent,
                )
            except services.CommentRateLimited as error:
                status, errors = 429, [str(error)]
            except PermissionDenied as error:
                status, errors = 403, [str(error)]
            except ValidationError as error:
                errors = error.messages
            else:
                return _posted(request, target, comment, form.cleaned_data["next"])
    errors = errors or [
        str(e) for field_errors in form.errors.values() for e in field_errors
    ]
    if _is_htmx(request):
        response = _errors_fragment(request, form_id, errors, status)
    else:
        response = render(
            request,
            "discussion/thread_page.html",
            {
                "target": target,
                "post_errors": errors,
                "posted_body": request.POST.get("body", ""),
            },
            status=status,
        )
    if status == 429:
        response["Retry-After"] = str(services.RATE_LIMIT_WINDOW)
    return response


def _posted(
    request: HttpRequest, target: models.Model, comment: Comment, next_url: str
) -> HttpResponse:
    if _is_htmx(request):
        node = selectors.build_tree([comment], can_moderate=False, root_list_id="")[0]
        context: dict[str, Any] = {
            "node": node,
            "thread": selectors.Thread(
                target=target,
                key=selectors.target_key(target),
                object_id=str(target.pk),
                dom_id=request.POST.get("thread_id", "discussion"),
                nodes=[],
                count=0,
                can_post=True,
                can_moderate=rules.can_moderate(request.user, target),
            ),
            "next_url": _back_to(request, next_url, thread_url(target)),
            "just_posted": True,
        }
        return render(request, "discussion/partials/comment.html", context, status=201)
    messages.success(request, _("Your comment is posted."))
    back = _back_to(request, next_url, thread_url(target))
    return redirect(_at_comment(back, comment))


MODERATION: dict[str, tuple[Callable[..., object], str, str | Promise]] = {
    "remove": (
        services.comment_remove,
        "moderator",
        gettext_lazy("The comment is removed."),
    ),
    "restore": (
        services.comment_restore,
        "moderator",
        gettext_lazy("The comment is shown again."),
    ),
    "dismiss": (
        services.comment_dismiss_reports,
        "moderator",
        gettext_lazy("The reports are dismissed; the comment stays."),
    ),
    "report": (
        services.comment_report,
        "reporter",
        gettext_lazy("Thank you: the moderators will look at it."),
    ),
}


@login_required
@require_POST
def comment_action(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    if action not in MODERATION:
        raise Http404("No such action")
    comment = get_object_or_404(
        Comment.objects.select_related("content_type"), pk=comment_id
    )
    target = load_target(
        f"{comment.content_type.app_label}.{comment.content_type.model}",
        comment.object_id,
    )
    if not rules.can_read(request.user, target):
        raise Http404("No such comment")
    service, actor_arg, success = MODERATION[action]
    form = ReasonForm(request.POST)
    back = thread_url(target)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for errs in form.errors.values() for e in errs)
        )
        return redirect(back)
    back = _back_to(request, form.cleaned_data["next"], back)
    return run_action(
        request,
        lambda: service(
            **{actor_arg: request.user},
            comment=comment,
            reason=form.cleaned_data["reason"],
        ),
        success_message=str(success),
        redirect_to=_at_comment(back, comment),
        forbidden_page=RefusalPage(template="discussion/refused.html", back=back),
    )


@login_required
def moderation_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """Reported and report-hidden comments in a group's subtree, for its moderators."""
    group = Group.objects.filter(slug=slug).first()
    viewer = viewer_for(request.user, group) if group is not None else None
    if viewer is None or not viewer.roles & rules.MODERATING_ROLES:
        raise Http404("No such page")
    return render(
        request,
        "discussion/moderation_queue.html",
        {"group": group, "viewer": viewer, "items": selectors.moderation_queue(group)},
    )
