"""The objects a decisions view works on, found for the viewer: what the viewer may not
see answers 404, whether it exists or not (no guessing)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from commonground.members.models import Group, Membership, RoleAssignment
from commonground.members.selectors import Viewer, group_by_slug

from .. import rules, selectors
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
MAX_ID = 2**63 - 1


def election_for_cast(request: HttpRequest, pk: int) -> Election:
    """The election a member casts in, reading only what the cast needs (a page shown
    afterwards reads it in full with ``election_for_viewer``), seen through the same
    rule as every other decisions page: 404 if not visible.

    One statement: the election and its group, with what the rule needs of the viewer
    as two EXISTS subqueries, the same conditions ``viewer_for`` reads in two queries
    of its own (an active membership in the group's subtree; a role held on the group
    or an ancestor, i.e. on a group whose path starts the group's path). The rule
    itself is still ``can_see_group_decisions``. Plain SQL: compiling the ORM's
    subqueries cost as much CPU as the round trips they saved.
    """
    if not 0 < pk <= MAX_ID:  # the ORM answers "none" to an id out of range
        raise Http404("No such ballot")
    user = request.user
    runners = sorted(rules.ELECTION_RUNNERS)
    # Only table names from the models are interpolated (S608 is a false alarm).
    sql = (
        "SELECT e.id, e.group_id, e.method, e.max_score, e.allow_revote,"  # noqa: S608
        " e.nominations_open_at, e.nominations_close_at, e.opens_at, e.closes_at,"
        " g.path AS cast_group_path, g.is_public AS cast_group_is_public,"
        f" EXISTS(SELECT 1 FROM {Membership._meta.db_table} m"
        f"  JOIN {Group._meta.db_table} mg ON mg.id = m.group_id"
        "  WHERE m.user_id = %s AND m.status = %s"
        "  AND mg.path LIKE g.path || '%%') AS viewer_is_member,"
        f" EXISTS(SELECT 1 FROM {RoleAssignment._meta.db_table} r"
        f"  JOIN {Group._meta.db_table} rg ON rg.id = r.group_id"
        f"  WHERE r.user_id = %s AND r.role IN ({', '.join(['%s'] * len(runners))})"
        "  AND g.path LIKE rg.path || '%%') AS viewer_runs_elections"
        f" FROM {Election._meta.db_table} e"
        f" JOIN {Group._meta.db_table} g ON g.id = e.group_id"
        " WHERE e.id = %s"
    )
    params = [
        user.pk,
        Membership.Status.ACTIVE,
        user.pk,
        *runners,
        pk,
    ]
    election = next(iter(Election.objects.raw(sql, params)), None)
    if election is None:
        raise Http404("No such ballot")
    row: Any = election
    # Only these three are read; any other field loads on access, as with ``only``.
    known = {
        "id": election.group_id,
        "path": row.cast_group_path,
        "is_public": bool(row.cast_group_is_public),
    }
    fields = [f.attname for f in Group._meta.concrete_fields if f.attname in known]
    group = Group.from_db(Election.objects.db, fields, [known[name] for name in fields])
    election.group = group
    viewer = Viewer(
        user=user,
        group=group,
        is_subtree_member=bool(row.viewer_is_member),
        roles=set(rules.ELECTION_RUNNERS) if row.viewer_runs_elections else set(),
    )
    if not rules.can_see_group_decisions(viewer):
        raise Http404("No such ballot")
    return election


def proposal_for_viewer(request: HttpRequest, pk: int) -> tuple[Proposal, Any]:
    found = selectors.proposal_for_viewer(request.user, pk)
    if found is None:
        raise Http404("No such proposal")
    return found
