"""The objects a decisions view works on, found for the viewer: what the viewer may not
see answers 404, whether it exists or not (no guessing)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from commonground.members.models import Group
from commonground.members.selectors import group_by_slug

from .. import selectors
from ..models import Election, Proposal


def group_for_viewer(request: HttpRequest, slug: str) -> tuple[Group, Any]:
    try:
        group = group_by_slug(slug)
    except Group.DoesNotExist:
        raise Http404("No such group") from None
    viewer = selectors.visible_group(request.user, group)
    if viewer is None:
        raise Http404("No such group")
    return group, viewer


def election_for_viewer(request: HttpRequest, pk: int) -> tuple[Election, Any]:
    found = selectors.election_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such ballot")
    return found


def election_for_cast(request: HttpRequest, pk: int) -> tuple[Election, Any]:
    """The election a member casts in, with its group only (the ballot box needs no
    proposal or amendment; a page shown again after a refusal loads them lazily),
    seen through the same rule as every other decisions page: 404 if not visible."""
    election = Election.objects.select_related("group").filter(pk=pk).first()
    if election is None:
        raise Http404("No such ballot")
    viewer = selectors.visible_group(request.user, election.group)
    if viewer is None:
        raise Http404("No such ballot")
    return election, viewer


def proposal_for_viewer(request: HttpRequest, pk: int) -> tuple[Proposal, Any]:
    found = selectors.proposal_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such proposal")
    return found
