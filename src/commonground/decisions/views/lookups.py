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


# What a cast reads of the election and its group: the times, the paper's shape and the
# re-vote option, and what the visibility rule needs. Sealing reads the row again.
CAST_FIELDS = (
    "method",
    "max_score",
    "allow_revote",
    "nominations_open_at",
    "nominations_close_at",
    "opens_at",
    "closes_at",
    "group__path",
    "group__is_public",
)


def election_for_cast(request: HttpRequest, pk: int) -> tuple[Election, Any]:
    """The election a member casts in, reading only what the cast needs (a page shown
    afterwards reads it in full with ``election_for_viewer``), seen through the same
    rule as every other decisions page: 404 if not visible."""
    election = (
        Election.objects.select_related("group").only(*CAST_FIELDS).filter(pk=pk)
    ).first()
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
