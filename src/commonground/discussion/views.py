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
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from commonground.core.actions import RefusalPage, run_action
from commonground.core.clientip import client_address
from commonground.members.models import Group
from commonground.members.selectors import viewer_for

from . import rules, selectors, services, visitors
from .forms import CommentForm, ReasonForm, VisitorCommentForm, VisitorDataForm
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


def _target_page(target: models.Model) -> str:
    """Where a thread is read: its target's own page when it has one."""
    absolute = getattr(target, "get_absolute_url", None)
    return str(absolute()) if absolute is not None else thread_url(target)


def _visitor_post(request: HttpRequest, target: models.Model) -> HttpResponse:
    """A visitor's comment: stored unconfirmed and a link emailed; the page says so."""
    form = VisitorCommentForm(request.POST)
    errors: list[str] = []
    status = 400
    back = _target_page(target)
    if form.is_valid():
        data = form.cleaned_data
        parent = None
        if data["parent"]:
            parent = Comment.objects.filter(pk=data["parent"]).first()
        if data["parent"] and parent is None:
            errors = [_("That comment no longer exists.")]
        else:
            try:
                services.visitor_comment_post(
                    target=target,
                    name=data["name"],
                    email=data["email"],
                    body=data["body"],
                    parent=parent,
                    notify_replies=data["notify_replies"],
                    honeypot=data["website"],
                    address=client_address(request),
                )
            except services.HoneypotFilled:
                pass  # answered like a real comment: the robot learns nothing
            except services.VisitorRateLimited as error:
                status, errors = 429, [str(error)]
            except PermissionDenied as error:
                status, errors = 403, [str(error)]
            except ValidationError as error:
                errors = error.messages
            if not errors:
                messages.success(
                    request,
                    _(
                        "Almost there: we have emailed you a link. Your comment "
                        "appears once you follow it (within %(days)d days)."
                    )
                    % {"days": visitors.CONFIRM_DAYS},
                )
                return redirect(_back_to(request, data["next"], back).split("#")[0])
    errors = errors or [
        str(e) for field_errors in form.errors.values() for e in field_errors
    ]
    response = render(
        request,
        "discussion/thread_page.html",
        {
            "target": target,
            "post_errors": errors,
            "posted_body": request.POST.get("body", ""),
            "visitor_form": form,
        },
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(services.VISITOR_RATE_WINDOW)
    return response


def _post(request: HttpRequest, target: models.Model) -> HttpResponse:
    if not request.user.is_authenticated:
        if rules.visitors_may_post(target):
            return _visitor_post(request, target)
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
    "approve": (
        services.comment_approve,
        "moderator",
        gettext_lazy("The comment is approved and shown."),
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
    extra = {"rule": form.cleaned_data["rule"]} if action == "remove" else {}
    return run_action(
        request,
        lambda: service(
            **{actor_arg: request.user},
            comment=comment,
            reason=form.cleaned_data["reason"],
            **extra,
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


# Visitors' links -------------------------------------------------------------------


def _bad_link(request: HttpRequest, error: visitors.BadLink | None) -> HttpResponse:
    return render(
        request,
        "discussion/visitor_link_invalid.html",
        {"expired": bool(error and error.expired)},
        status=400,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def visitor_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: a page with one button (GET never changes anything, so a
    mail scanner opening the link confirms nothing); the button confirms."""
    try:
        comment_id, key = visitors.read_confirm_token(token)
    except visitors.BadLink as error:
        return _bad_link(request, error)
    comment = (
        Comment.objects.select_related("content_type")
        .filter(pk=comment_id, visitor_key=key, author__isnull=True)
        .first()
    )
    if comment is None:
        return _bad_link(request, None)
    target = load_target(
        f"{comment.content_type.app_label}.{comment.content_type.model}",
        comment.object_id,
    )
    if request.method == "POST":
        comment = services.visitor_comment_confirm(token=token)
        if comment.status == Comment.Status.VISIBLE:
            messages.success(request, _("Thank you: your comment is now shown."))
        elif comment.status == Comment.Status.HELD:
            messages.info(
                request,
                _(
                    "Thank you: your address is confirmed. A moderator reads first "
                    "comments before they appear; yours will be shown once approved."
                ),
            )
        back = _target_page(target)
        anchor = f"#comment-{comment.pk}" if comment.is_visible else ""
        return redirect(back + anchor)
    return render(
        request,
        "discussion/visitor_confirm.html",
        {"comment": comment, "target": target, "target_url": _target_page(target)},
    )


@csrf_exempt  # RFC 8058 one-click: the mail client posts without a session
@never_cache
@require_http_methods(["GET", "POST"])
def visitor_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop reply emails to a visitor's address: the signed token is the proof."""
    try:
        visitors.read_unsubscribe_token(token)
    except visitors.BadLink as error:
        return _bad_link(request, error)
    if request.method == "POST":
        try:
            services.visitor_replies_stop(token=token)
        except Comment.DoesNotExist:
            return _bad_link(request, None)
        return render(request, "discussion/visitor_unsubscribed.html")
    return render(request, "discussion/visitor_unsubscribe.html", {"token": token})


@never_cache
@require_http_methods(["GET", "POST"])
def visitor_data_request(request: HttpRequest) -> HttpResponse:
    """A visitor asks, by address, to see or erase their comments."""
    form = VisitorDataForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visitor_data_request(
                email=form.cleaned_data["email"], address=client_address(request)
            )
        except services.VisitorRateLimited as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "discussion/visitor_data_sent.html")
    status = 400 if form.is_bound else 200
    return render(
        request, "discussion/visitor_data_request.html", {"form": form}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
def visitor_data(request: HttpRequest, token: str) -> HttpResponse:
    """From the emailed link: the visitor's comments, as a page or a JSON download,
    and the button that erases their name and address from all of them."""
    from django.http import JsonResponse

    try:
        key = visitors.read_data_token(token)
    except visitors.BadLink as error:
        return _bad_link(request, error)
    if request.method == "POST":
        services.visitor_comments_erase(visitor_key=key)
        return render(request, "discussion/visitor_erased.html")
    if request.GET.get("format") == "json":
        response = JsonResponse(
            {"comments": selectors.visitor_comments_for_export(key)},
            json_dumps_params={"indent": 2, "ensure_ascii": False},
        )
        response["Content-Disposition"] = 'attachment; filename="my-comments.json"'
        return response
    return render(
        request,
        "discussion/visitor_data.html",
        {"comments": selectors.visitor_comments(key), "token": token},
    )
