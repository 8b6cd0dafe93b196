"""The objects an assemblies view works on, found for the viewer: what the viewer
may not see answers 404, whether it exists or not."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from commonground.members.models import Group
from commonground.members.selectors import group_by_slug, viewer_for

from .. import rules, selectors
from ..models import Assembly


def group_for_viewer(request: HttpRequest, slug: str) -> tuple[Group, Any]:
    try:
        group = group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = viewer_for(request.user, group)
    if not rules.can_see_group_assemblies(viewer):
        raise Http404("No such group")
    return group, viewer


def assembly_for_viewer(request: HttpRequest, slug: str) -> tuple[Assembly, Any]:
    assembly = selectors.assembly_by_slug(slug)
    if assembly is None:
        raise Http404("No such assembly")
    viewer = viewer_for(request.user, assembly.group)
    if not rules.can_see_assembly(viewer, assembly):
        raise Http404("No such assembly")
    return assembly, viewer


def assembly_for_manager(request: HttpRequest, slug: str) -> tuple[Assembly, Any]:
    assembly, viewer = assembly_for_viewer(request, slug)
    if not rules.can_manage(viewer):
        raise Http404("No such page")
    return assembly, viewer
