"""The panel's discussion: threads on the assembly and on each session.

Named in the assemblies capability entry (``discussion_rules``). Only the seated
panel members and the organisers read and write them (``deliberation_rules.
can_discuss``); everyone else, signed in or not, finds no thread at all.
Organisers moderate (a group moderator who is not on the panel cannot read it,
so cannot moderate it either). The thread belongs to no group (``group_for`` is
None): a reported comment must not reach the group's moderation queue, where
moderators outside the panel would read it; organisers moderate in the thread.
"""

from __future__ import annotations

from typing import Any

from commonground.members.models import Group

from .. import deliberation_rules as panel_rules
from .. import deliberation_selectors as panel_selectors
from ..models import Assembly, Session


def _assembly_of(target: Assembly | Session) -> Assembly:
    return target if isinstance(target, Assembly) else target.assembly


class PanelDiscussion:
    """The panel's own thread: on the assembly, or on one of its sessions."""

    def can_read(self, user: Any, target: Assembly | Session) -> bool:
        assembly = _assembly_of(target)
        return panel_rules.can_discuss(panel_selectors.panel_access(user, assembly))

    def can_post(self, user: Any, target: Assembly | Session) -> bool:
        return self.can_read(user, target)

    def can_moderate(self, user: Any, target: Assembly | Session) -> bool:
        access = panel_selectors.panel_access(user, _assembly_of(target))
        return panel_rules.can_discuss(access) and panel_rules.is_organiser(access)

    def moderating_role(self, user: Any, target: Assembly | Session) -> str:
        return "organiser"

    def group_for(self, target: Assembly | Session) -> Group | None:
        return None


DISCUSSION_RULES: dict[type, PanelDiscussion] = {
    Assembly: PanelDiscussion(),
    Session: PanelDiscussion(),
}
