"""Thin views: the group's newsletters, writing, preview, sending, reports, the web
version, one-click unsubscribe and the bounce webhook.

Organiser pages answer 404 to anyone who does not organise the newsletter's group
(or a group above it), and a newsletter is only found under its own group's URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from commonground.discussion.richtext import render_markdown
from commonground.members.http import MemberRequest
from commonground.members.models import Group
from commonground.members.selectors import Viewer, group_by_slug, viewer_for
from commonground.notifications.tokens import read_unsubscribe_token

from . import bounces, emails, rules, selectors, services
from .forms import ROLE_LABELS, STATUS_LABELS, NewsletterForm, ScheduleForm
from .models import Newsletter, Recipient
from .tokens import read_web_version_token

# Organiser pages -------------------------------------------------------------------


def _managed(request: HttpRequest, slug: str) -> tuple[Group, Viewer]:
    try:
        group = group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = viewer_for(request.user, group)
    if not rules.can_manage_newsletters(viewer):
        raise Http404("No such page")
    return group, viewer


def _managed_newsletter(
    request: HttpRequest, slug: str, newsletter_id: int
) -> tuple[Group, Viewer, Newsletter]:
    group, viewer = _managed(request, slug)
    try:
        newsletter = selectors.newsletter_in_group(group, newsletter_id)
    except Newsletter.DoesNotExist:
        raise Http404("No such newsletter") from None
    return group, viewer, newsletter


def _form_fields(form: NewsletterForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.fields}


@login_required
@require_GET
def group_newsletters(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed(request, slug)
    context = {
        "group": group,
        "viewer": viewer,
        "newsletters": selectors.group_newsletters(group),
    }
    return render(request, "newsletters/group.html", context)


@login_required
@require_GET
def audience_count(request: MemberRequest, slug: str) -> HttpResponse:
    """How many members an audience reaches; a fragment for htmx, else a page."""
    group, viewer = _managed(request, slug)
    form = NewsletterForm(request.GET, group=group)
    form.is_valid()
    data = form.cleaned_data
    count = None
    if {"audience_group", "statuses"} <= data.keys():
        count = selectors.audience_size(
            data["audience_group"], data["statuses"], data.get("roles", [])
        )
    template = "partials/audience_count.html" if request.htmx else "audience.html"
    context = {"group": group, "viewer": viewer, "count": count}
    return render(request, f"newsletters/{template}", context)


@login_required
@never_cache
def newsletter_new(request: MemberRequest, slug: str) -> HttpResponse:
    group, viewer = _managed(request, slug)
    form = NewsletterForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            newsletter = services.newsletter_create(
                actor=request.user, group=group, **_form_fields(form)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Check the preview below."))
            return redirect("newsletters:detail", group.slug, newsletter.pk)
    context = {"group": group, "viewer": viewer, "form": form, "newsletter": None}
    status = 400 if form.is_bound else 200
    return render(request, "newsletters/form.html", context, status=status)


@login_required
@never_cache
def newsletter_edit(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    group, viewer, newsletter = _managed_newsletter(request, slug, newsletter_id)
    if not newsletter.is_editable:  # gone out or cancelled: the preview says so
        return redirect("newsletters:detail", group.slug, newsletter.pk)
    initial = {name: getattr(newsletter, name) for name in NewsletterForm.base_fields}
    form = NewsletterForm(request.POST or None, group=group, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.newsletter_update(
                actor=request.user, newsletter=newsletter, **_form_fields(form)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("newsletters:detail", group.slug, newsletter.pk)
    context = {"group": group, "viewer": viewer, "form": form, "newsletter": newsletter}
    status = 400 if form.is_bound else 200
    return render(request, "newsletters/form.html", context, status=status)


def _detail_context(
    group: Group, viewer: Viewer, newsletter: Newsletter, **extra: Any
) -> dict[str, Any]:
    started = newsletter.started_at is not None
    return {
        "group": group,
        "viewer": viewer,
        "newsletter": newsletter,
        "preview": render_markdown(newsletter.body),
        "status_labels": [str(STATUS_LABELS.get(s, s)) for s in newsletter.statuses],
        "role_labels": [str(ROLE_LABELS.get(r, r)) for r in newsletter.roles],
        "from_name": newsletter.group.organisation.name,
        "audience_size": None
        if started
        else selectors.audience_size(
            newsletter.audience_group, newsletter.statuses, newsletter.roles
        ),
        "report": selectors.newsletter_report(newsletter) if started else None,
        "schedule_form": extra.get("schedule_form") or ScheduleForm(),
    }


@login_required
@require_GET
def newsletter_detail(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    """The preview, with what can be done next (test, schedule, send, cancel)."""
    group, viewer, newsletter = _managed_newsletter(request, slug, newsletter_id)
    return render(
        request, "newsletters/detail.html", _detail_context(group, viewer, newsletter)
    )


def _act(
    request: MemberRequest,
    slug: str,
    newsletter_id: int,
    action: Callable[[Newsletter], str],
) -> HttpResponse:
    """Run one organiser action on the newsletter; its message, or the refusal."""
    group, _viewer, newsletter = _managed_newsletter(request, slug, newsletter_id)
    try:
        messages.success(request, action(newsletter))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied:
        raise Http404("No such page") from None
    return redirect("newsletters:detail", group.slug, newsletter.pk)


@login_required
@require_POST
def newsletter_test(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    def send(newsletter: Newsletter) -> str:
        address = services.newsletter_send_test(
            actor=request.user, newsletter=newsletter
        )
        return _("A test copy went to %(address)s.") % {"address": address}

    return _act(request, slug, newsletter_id, send)


@login_required
@require_POST
def newsletter_schedule(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    """Schedule for a time (the form), or send now (a button named ``now``)."""
    group, viewer, newsletter = _managed_newsletter(request, slug, newsletter_id)
    form = ScheduleForm(request.POST)
    if "now" not in request.POST and not form.is_valid():
        context = _detail_context(group, viewer, newsletter, schedule_form=form)
        return render(request, "newsletters/detail.html", context, status=400)
    send_at = None if "now" in request.POST else form.cleaned_data["send_at"]
    try:
        services.newsletter_schedule(
            actor=request.user, newsletter=newsletter, send_at=send_at
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Sending has started.")
            if send_at is None
            else _("Newsletter scheduled."),
        )
    return redirect("newsletters:detail", group.slug, newsletter.pk)


@login_required
@require_POST
def newsletter_unschedule(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    def unschedule(newsletter: Newsletter) -> str:
        services.newsletter_unschedule(actor=request.user, newsletter=newsletter)
        return _("The newsletter is a draft again.")

    return _act(request, slug, newsletter_id, unschedule)


@login_required
@require_POST
def newsletter_cancel(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    def cancel(newsletter: Newsletter) -> str:
        stopped = services.newsletter_cancel(actor=request.user, newsletter=newsletter)
        return _("Newsletter cancelled; %(count)d emails will not go.") % {
            "count": stopped
        }

    return _act(request, slug, newsletter_id, cancel)


@login_required
@require_GET
def newsletter_report(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    group, viewer, newsletter = _managed_newsletter(request, slug, newsletter_id)
    context = {
        "group": group,
        "viewer": viewer,
        "newsletter": newsletter,
        "report": selectors.newsletter_report(newsletter),
    }
    return render(request, "newsletters/report.html", context)


# The web version -------------------------------------------------------------------


def _web_version(request: HttpRequest, newsletter: Newsletter) -> HttpResponse:
    context = {
        "newsletter": newsletter,
        "organisation": newsletter.group.organisation,
        "body": render_markdown(newsletter.body),
    }
    return render(request, "newsletters/read.html", context)


@login_required
@require_GET
def newsletter_online(
    request: MemberRequest, slug: str, newsletter_id: int
) -> HttpResponse:
    """The web version for signed-in members of the audience group."""
    try:
        newsletter = selectors.newsletter_by_id(newsletter_id)
    except Newsletter.DoesNotExist:
        raise Http404("No such newsletter") from None
    audience_viewer = viewer_for(request.user, newsletter.audience_group)
    received = selectors.has_received(newsletter, request.user)
    if newsletter.group.slug != slug or not rules.can_read_online(
        newsletter, audience_viewer=audience_viewer, received=received
    ):
        raise Http404("No such newsletter")
    return _web_version(request, newsletter)


@require_GET
def newsletter_read(request: HttpRequest, token: str) -> HttpResponse:
    """The web version from an email's signed link (no sign-in needed)."""
    try:
        link = read_web_version_token(token)
        newsletter = selectors.newsletter_by_id(link.newsletter_id)
    except (signing.BadSignature, Newsletter.DoesNotExist):
        raise Http404("No such newsletter") from None
    return _web_version(request, newsletter)


# Unsubscribing and bounces ---------------------------------------------------------


def _recipient(recipient_id: int, token: str) -> tuple[Recipient | None, str]:
    try:
        data = read_unsubscribe_token(token)
        if data.kind != emails.KIND:
            raise signing.BadSignature("not a newsletter link")
        recipient = selectors.recipient_for_link(
            recipient_id=recipient_id, member_id=data.member_id, group_id=data.group_id
        )
    except (signing.BadSignature, Recipient.DoesNotExist):
        return None, ""
    return recipient, recipient.newsletter.group.name


@csrf_exempt  # RFC 8058: mail clients POST without a session or a CSRF token
def unsubscribe(request: HttpRequest, recipient_id: int, token: str) -> HttpResponse:
    """GET asks (link scanners follow links); POST unsubscribes, one click."""
    recipient, group_name = _recipient(recipient_id, token)
    if recipient is None:
        return render(request, "newsletters/unsubscribe_invalid.html", status=400)
    context = {"group_name": group_name, "recipient_id": recipient_id, "token": token}
    if request.method != "POST":
        return render(request, "newsletters/unsubscribe_confirm.html", context)
    services.recipient_unsubscribe(recipient=recipient)
    return render(request, "newsletters/unsubscribed.html", context)


@require_POST
def resubscribe(request: HttpRequest, recipient_id: int, token: str) -> HttpResponse:
    recipient, group_name = _recipient(recipient_id, token)
    if recipient is None:
        return render(request, "newsletters/unsubscribe_invalid.html", status=400)
    services.recipient_resubscribe(recipient=recipient)
    context = {"group_name": group_name}
    return render(request, "newsletters/resubscribed.html", context)


@csrf_exempt  # a mail provider posts it; the HMAC signature of the body is the check
@require_POST
def bounce_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("X-Commonground-Signature", "")
    secret = getattr(settings, "BOUNCE_WEBHOOK_SECRET", "")
    if not bounces.signature_valid(request.body, signature, secret):
        return JsonResponse({"error": "bad or missing signature"}, status=403)
    try:
        bounce = bounces.parse_webhook(request.body)
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    outcome = services.bounce_record(bounce=bounce)
    return JsonResponse(
        {"newsletter": outcome.newsletter_id, "address_marked": outcome.address_marked}
    )
