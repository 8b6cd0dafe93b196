"""Discussion rules: threads on proposals and hustings (Q&A) on ballots and elections.

Named in the decisions capability entry (``DecisionsConfig.ready()``).
"""

from __future__ import annotations

from typing import Any

from commonground.members.models import Group

from . import rules, selectors
from .models import Election, Proposal


class ProposalDiscussion:
    """Whoever may see the proposal reads its thread; members of its group post."""

    def can_read(self, user: Any, target: Proposal) -> bool:
        return selectors.proposal_for_viewer(user, target.pk) is not None

    def can_post(self, user: Any, target: Proposal) -> bool:
        if target.status == Proposal.Status.DRAFT:
            return False
        viewer = selectors.visible_group(user, target.group)
        return viewer is not None and rules.can_take_part(viewer)

    def group_for(self, target: Proposal) -> Group | None:
        return target.group


class HustingsDiscussion:
    """Questions to candidates and answers: members of the group post, all who see read."""

    def can_read(self, user: Any, target: Election) -> bool:
        return selectors.visible_group(user, target.group) is not None

    def can_post(self, user: Any, target: Election) -> bool:
        viewer = selectors.visible_group(user, target.group)
        return viewer is not None and rules.can_take_part(viewer)

    def group_for(self, target: Election) -> Group | None:
        return target.group
