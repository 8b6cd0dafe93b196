"""Who may do what in a panel's deliberation: one named predicate per question.

The deliberation part of the app's rules (``rules`` holds setup, recruiting and
the draw), kept apart so the two workflows can change independently. Predicates
take a ``PanelAccess``: what one user is to one assembly (its group's viewer and
their seat on the panel), resolved by ``deliberation_selectors.panel_access`` in
a fixed number of queries. Views, selectors, the discussion rule and services all
ask these; a page a viewer may not see answers 404 whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import rules
from .models import Assembly, Session, Status

# The panel has its space once it is drawn.
PANEL_STATUSES = frozenset({Status.DRAWN, Status.DELIBERATING, Status.CONCLUDED})
# Sessions may be planned from the moment recruiting opens (the public timetable).
TIMETABLE_STATUSES = frozenset(
    {
        Status.RECRUITING,
        Status.POOL_FROZEN,
        Status.DRAWN,
        Status.DELIBERATING,
        Status.CONCLUDED,
    }
)
# Recommendations are drafted and voted on while the panel deliberates.
WORKING_STATUSES = frozenset({Status.DRAWN, Status.DELIBERATING})


@dataclass
class PanelAccess:
    """What one user is to one assembly: ``viewer`` (``members.selectors.Viewer``
    of its group) and ``seat_id``, their seat on the panel when they hold one (a
    seated panel member whose registration is linked to their account)."""

    assembly: Assembly
    viewer: Any
    seat_id: int | None = None

    @property
    def user(self) -> Any:
        return self.viewer.user


def _signed_in(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "deleted_at", None) is None
        and getattr(user, "is_active", True)
    )


def is_on_panel(access: PanelAccess) -> bool:
    """A seated panel member, signed in with the account their seat is linked to."""
    return access.seat_id is not None and _signed_in(access.user)


def is_organiser(access: PanelAccess) -> bool:
    """The convening group's organisers and admins (they run the assembly)."""
    return rules.can_manage(access.viewer)


def can_enter_panel_space(access: PanelAccess) -> bool:
    """The panel's own pages (session details, its discussion, drafts and the
    vote): panel members and organisers, once the panel is drawn."""
    if access.assembly.status not in PANEL_STATUSES:
        return is_organiser(access) and access.assembly.status in TIMETABLE_STATUSES
    return is_on_panel(access) or is_organiser(access)


def can_see_timetable(access: PanelAccess) -> bool:
    """The sessions' titles, dates, places and speakers: anyone who may see the
    assembly (its public page)."""
    return access.assembly.status in TIMETABLE_STATUSES


def can_see_session_materials(access: PanelAccess, session: Session) -> bool:
    return bool(session.materials_public) or can_enter_panel_space(access)


def can_see_session_link(access: PanelAccess) -> bool:
    """The online meeting link: the panel and organisers only."""
    return can_enter_panel_space(access)


def can_schedule_sessions(access: PanelAccess) -> bool:
    return is_organiser(access) and access.assembly.status in TIMETABLE_STATUSES


def can_discuss(access: PanelAccess) -> bool:
    """Read and write the panel's discussion (on the assembly and its sessions)."""
    return access.assembly.status in PANEL_STATUSES and (
        is_on_panel(access) or is_organiser(access)
    )


def can_draft_recommendation(access: PanelAccess) -> bool:
    return access.assembly.status in WORKING_STATUSES and (
        is_on_panel(access) or is_organiser(access)
    )


def can_open_panel_vote(access: PanelAccess) -> bool:
    return is_organiser(access) and access.assembly.status in WORKING_STATUSES


def can_vote_as_panel(access: PanelAccess) -> bool:
    """Cast a ballot on the recommendations: panel members only (the ballot's
    roll is the panel, so the decisions app refuses anyone else as well)."""
    return is_on_panel(access)


def can_publish_recommendations(access: PanelAccess) -> bool:
    return is_organiser(access) and access.assembly.status in WORKING_STATUSES


def can_send_to_membership(access: PanelAccess) -> bool:
    """Send a published, adopted recommendation to the whole membership."""
    return is_organiser(access)
