"""The opinion map page and the openData download."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .. import rules, selectors, services
from .lookups import conversation_for_viewer


@never_cache
def conversation_map(request: HttpRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    if not rules.can_see_map(access):
        raise Http404("No such map")
    if services.map_is_stale(conversation):
        # Queue a refresh (where tasks run eagerly, it runs now, before the read).
        services.map_refresh_soon(conversation.pk, now_if_idle=True)
    view = selectors.map_view(conversation, access)
    return render(
        request,
        "conversations/map.html",
        {
            "conversation": conversation,
            "group": conversation.group,
            "access": access,
            "view": view,
            "open": conversation.is_open_at(timezone.now()),
            "can_manage": rules.can_manage(access),
            "can_export": rules.can_export(access),
            "chart": view.page.chart if view.page else None,
            "me": view.my_position,
        },
    )


def conversation_export(request: HttpRequest, pk: int) -> HttpResponse:
    conversation, access = conversation_for_viewer(request, pk)
    if not rules.can_export(access):
        raise Http404("No such file")
    body = services.export_zip(actor=request.user, conversation=conversation)
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="conversation-{conversation.pk}-opendata.zip"'
    )
    return response
