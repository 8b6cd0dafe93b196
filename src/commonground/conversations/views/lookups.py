"""The objects a conversations view works on, found for the viewer: what the viewer
may not see answers 404, whether it exists or not (no guessing)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from commonground.members.models import Group
from commonground.members.selectors import group_by_slug, viewer_for

from .. import rules, selectors
from ..models import Conversation, Statement
from ..rules import Access


def group_for_viewer(request: HttpRequest, slug: str) -> tuple[Group, Any]:
    try:
        group = group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = viewer_for(request.user, group)
    if not rules.can_see_group_conversations(viewer):
        raise Http404("No such group")
    return group, viewer


def conversation_for_viewer(
    request: HttpRequest, pk: int
) -> tuple[Conversation, Access]:
    found = selectors.conversation_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such conversation")
    return found


def statement_for_viewer(request: HttpRequest, pk: int) -> tuple[Statement, Access]:
    found = selectors.statement_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such statement")
    return found
