"""Who may write, send and read newsletters, as named predicates.

``viewer`` is what a user is to a group (``commonground.members.selectors.Viewer``):
for writing, the newsletter's own group; for reading, its audience group.
"""

from __future__ import annotations

from typing import Any

from .models import Newsletter

# A newsletter members may read on the web: once it has gone (or is going) out.
_PUBLISHED = (Newsletter.Status.SENDING, Newsletter.Status.SENT)


def can_manage_newsletters(viewer: Any) -> bool:
    """Write, test, schedule, send, cancel and see reports: organisers and admins of
    the group or of a group above it (roles apply to the whole subtree)."""
    return bool(viewer.can_manage)


def can_read_online(
    newsletter: Newsletter, *, audience_viewer: Any, received: bool
) -> bool:
    """The web version, signed in: members of the audience group (its whole subtree)
    and anyone it was sent to, once it went out. Organisers use the preview."""
    if newsletter.status not in _PUBLISHED:
        return False
    return bool(received or audience_viewer.is_member)
