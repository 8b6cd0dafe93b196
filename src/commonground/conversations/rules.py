"""Who may do what in conversations: one named predicate per question.

Predicates take an ``Access`` (what one user is to one conversation, resolved by
``selectors.access_for`` in a fixed number of queries, or by the vote path's single
statement) or, for group-level questions, a ``members.selectors.Viewer``. Views,
selectors, links and services all ask these; anything a viewer may not see answers
404 whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commonground.members.models import Role

from .models import Conversation, MapVisibility, Participation, StatementPolicy

MODERATING_ROLES = frozenset({Role.MODERATOR, Role.ORGANISER, Role.ADMIN})
MANAGING_ROLES = frozenset({Role.ORGANISER, Role.ADMIN})


@dataclass
class Access:
    """What one user is to one conversation.

    ``is_member``: an active member of the conversation's group or a group below it.
    ``is_affiliate_member``: the group belongs to a coalition and the user is an
    active member of one of its affiliated organisations. ``roles``: roles held on
    the group or a group above it. ``email_verified``: the primary address is
    confirmed. ``participant_id``/``participant_number``: their participant row, once
    they have voted or written a statement.
    """

    conversation: Conversation
    user: Any
    is_member: bool = False
    is_affiliate_member: bool = False
    email_verified: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    participant_id: int | None = None
    participant_number: int | None = None

    @property
    def signed_in(self) -> bool:
        return bool(
            self.user is not None
            and self.user.is_authenticated
            and getattr(self.user, "deleted_at", None) is None
            and getattr(self.user, "is_active", True)
        )


def can_take_part(access: Access) -> bool:
    """Vote and (when the conversation allows it) write statements.

    Active members of the group's subtree; for a coalition's group, active members
    of every affiliated organisation too; and, when the conversation is open to
    anyone verified, anyone signed in with a confirmed email address.
    """
    if not access.signed_in:
        return False
    if access.is_member or access.is_affiliate_member:
        return True
    return bool(
        access.conversation.participation == Participation.VERIFIED
        and access.email_verified
    )


def can_moderate(access: Access) -> bool:
    """Accept, reject and restore statements: the group's moderators and organisers."""
    return access.signed_in and bool(access.roles & MODERATING_ROLES)


def can_manage(access: Access) -> bool:
    """Change settings, close, import, export and turn statements into proposals."""
    return access.signed_in and bool(access.roles & MANAGING_ROLES)


def can_see_conversation(access: Access) -> bool:
    """See the question and its statements: participants, the group's moderators,
    anyone when the group is public or the map is public."""
    conversation = access.conversation
    return bool(
        conversation.group.is_public
        or conversation.map_visibility == MapVisibility.PUBLIC
        or can_take_part(access)
        or can_moderate(access)
    )


def can_see_map(access: Access) -> bool:
    """The opinion map: participants and moderators, or anyone when it is public."""
    return bool(
        access.conversation.map_visibility == MapVisibility.PUBLIC
        or can_take_part(access)
        or can_moderate(access)
    )


def can_export(access: Access) -> bool:
    """Download the Pol.is openData files: whoever may see the map (they carry
    participant numbers and times, never names)."""
    return can_see_map(access)


def can_vote(access: Access, now: datetime) -> bool:
    return can_take_part(access) and access.conversation.is_open_at(now)


def can_add_statement(access: Access, now: datetime) -> bool:
    """Write a statement while it is open: moderators always, participants when the
    conversation lets everyone write."""
    if not access.conversation.is_open_at(now):
        return False
    if can_moderate(access):
        return True
    return (
        access.conversation.statement_policy == StatementPolicy.EVERYONE
        and can_take_part(access)
    )


def can_report_statement(access: Access) -> bool:
    return can_take_part(access)


# Group level: over a ``members.selectors.Viewer`` -------------------------------------


def can_see_group_conversations(viewer: Any) -> bool:
    """The group's list of conversations: anyone for a public group, else its members
    and the people holding roles there."""
    return bool(viewer.group.is_public or viewer.is_member or viewer.roles)


def can_start_conversation(viewer: Any) -> bool:
    """Open a conversation (or import one): organisers and admins of a live group."""
    return bool(
        viewer.user.is_authenticated
        and viewer.roles & MANAGING_ROLES
        and viewer.group.archived_at is None
    )


def can_moderate_group(viewer: Any) -> bool:
    return bool(viewer.user.is_authenticated and viewer.roles & MODERATING_ROLES)
