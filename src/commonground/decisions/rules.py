"""Who may do what, as named predicates over a ``Viewer`` (commonground.members.selectors)."""

from __future__ import annotations

from typing import Any

from commonground.members.models import Role

ELECTION_RUNNERS = frozenset({Role.ORGANISER, Role.ADMIN, Role.RETURNING_OFFICER})


def can_see_group_decisions(viewer: Any) -> bool:
    """Who may see a group's proposals, ballots and results: the one answer.

    A public group's decisions are public: anyone, signed in or not, may read its
    proposals, ballots and published results (a movement that decides in the open
    can be checked by anyone; voting and taking part still need membership). A
    private group's decisions are seen by the active members of its subtree and by
    those who run them there: organisers, admins and returning officers (roles held
    on the group or an ancestor). Views answer 404 to everyone else.
    """
    return bool(
        viewer.group.is_public or viewer.is_member or viewer.roles & ELECTION_RUNNERS
    )


def can_run_elections(viewer: Any) -> bool:
    return bool(viewer.roles & ELECTION_RUNNERS)


def can_take_part(viewer: Any) -> bool:
    """Propose, support, amend, nominate, second: active members of the group's subtree."""
    return bool(viewer.is_member)


def can_edit_proposal(user: Any, proposal: Any) -> bool:
    """Edit a proposal: its author and co-authors, while it is a draft (published,
    it changes only through amendments)."""
    if not user.is_authenticated or proposal.status != "draft":
        return False
    return bool(
        user.pk == proposal.author_id
        or any(coauthor.pk == user.pk for coauthor in proposal.coauthors.all())
    )
