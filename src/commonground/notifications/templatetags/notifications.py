"""``{% notification_badge %}`` and ``{% follow_button target %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType

from .. import selectors

register = template.Library()


@register.inclusion_tag("notifications/partials/badge.html", takes_context=True)
def notification_badge(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"count": selectors.unread_count(user), "poll": True}


@register.inclusion_tag("notifications/partials/follow_button.html", takes_context=True)
def follow_button(context: dict[str, Any], target: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "show": bool(getattr(user, "is_authenticated", False)),
        "following": selectors.is_following(user, target),
        "content_type_id": ContentType.objects.get_for_model(target).pk,
        "object_id": target.pk,
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }
