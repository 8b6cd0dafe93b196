"""Thin views: the centre, reading, preferences, following and unsubscribing."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .models import Notification
from .registry import kind_named
from .tokens import read_unsubscribe_token


def _back(request: HttpRequest, default: str = "notifications:centre") -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(default)


@login_required
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notifications/centre.html",
        {"days": selectors.centre_days(request.user)},
    )


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notifications/partials/badge.html",
        {"count": selectors.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.notification_mark_read(
        member=request.user, notification_id=notification_id
    )
    if getattr(request, "htmx", False):
        notification = get_object_or_404(
            Notification, pk=notification_id, recipient=request.user, in_app=True
        )
        return render(
            request, "notifications/partials/item.html", {"notification": notification}
        )
    return _back(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(member=request.user)
    messages.success(
        request, _("All notifications marked as read (%(count)d).") % {"count": count}
    )
    return _back(request)


def _member_groups(request: HttpRequest) -> list[tuple[int | None, str]]:
    """ "All groups", then the groups the member belongs to or was told about, by
    name. Through the app registry: notifications sits below members and imports
    none of its code."""
    ids: set[Any] = set(
        Notification.objects.filter(
            recipient_id=request.user.pk, group_id__isnull=False
        )
        .values_list("group_id", flat=True)
        .distinct()
    )
    rows: list[tuple[int | None, str]] = [(None, _("All groups"))]
    member_id = request.user.pk
    assert member_id is not None  # login_required
    if apps.is_installed("commonground.members"):
        membership_model = apps.get_model("members", "Membership")
        ids |= set(
            membership_model.objects.filter(
                user_id=member_id, status="active"
            ).values_list("group_id", flat=True)
        )
        group_model = apps.get_model("members", "Group")
        rows += [
            (pk, name)
            for pk, name in group_model.objects.filter(pk__in=ids)
            .order_by("name")
            .values_list("pk", "name")
        ]
    return rows


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    groups = _member_groups(request)
    member_id = request.user.pk
    assert member_id is not None  # login_required
    errors: dict[str, str] = {}
    if request.method == "POST":
        for key in request.POST:
            channel = request.POST.get(key, "")
            if "|" not in key:
                continue
            kind, _sep, group = key.partition("|")
            try:
                group_id = int(group) if group else None
                current = services.channels_for(
                    kind_named(kind), [member_id], group_id
                )[member_id]
                if channel == current:
                    continue  # unchanged: a default stays a default
                services.preference_set(
                    member=request.user,
                    kind=kind,
                    group_id=group_id,
                    channel=channel,
                )
            except LookupError:
                continue
            except ValueError:
                continue
            except ValidationError as error:
                errors[key] = " ".join(error.message_dict.get("channel", []))
        if not errors:
            messages.success(request, _("Your notification choices are saved."))
            return redirect("notifications:preferences")
    rows = selectors.preference_rows(request.user, groups)
    return render(
        request,
        "notifications/preferences.html",
        {"rows": rows, "errors": errors, "kinds": [c.kind for c in rows[0][1]]},
        status=400 if errors else 200,
    )


@login_required
@require_POST
def follow(request: HttpRequest, content_type_id: int, object_id: int) -> HttpResponse:
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        raise Http404 from None
    if model is None:
        raise Http404
    target = get_object_or_404(model, pk=object_id)
    following = request.POST.get("follow") == "1"
    services.follow_set(member=request.user, target=target, following=following)
    messages.success(
        request,
        _("You follow this now.") if following else _("You no longer follow this."),
    )
    return _back(request)


@csrf_exempt  # RFC 8058: mail clients POST without a session or a CSRF token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = read_unsubscribe_token(token)
        label = (
            _("digest emails")
            if data.kind.startswith("digest.")
            else str(kind_named(data.kind).label)
        )
    except (signing.BadSignature, LookupError):
        return render(
            request,
            "notifications/unsubscribe_invalid.html",
            status=400,
        )
    if request.method == "POST":
        channel = services.unsubscribe(
            member_id=data.member_id, kind=data.kind, group_id=data.group_id
        )
        return render(
            request,
            "notifications/unsubscribed.html",
            {"label": label, "moved_to_digest": channel == "weekly"},
        )
    return render(
        request,
        "notifications/unsubscribe_confirm.html",
        {"label": label, "token": token},
    )
