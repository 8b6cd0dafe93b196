"""A group's decisions page: its proposals and ballots, and what the viewer may start."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import rules, selectors
from .lookups import group_for_viewer


def group_decisions(request: HttpRequest, slug: str) -> HttpResponse:
    group, viewer = group_for_viewer(request, slug)
    return render(
        request,
        "decisions/group.html",
        {
            "group": group,
            "viewer": viewer,
            "decisions": selectors.group_decisions(group, request.user),
            "can_run": rules.can_run_elections(viewer),
            "can_propose": rules.can_take_part(viewer),
        },
    )
