"""The request type of views behind ``login_required``, whose user is a member."""

from __future__ import annotations

from commonground.core.http import HtmxRequest

from .models import User


class MemberRequest(HtmxRequest):
    """A request behind ``login_required``: ``user`` is a member, never anonymous."""

    user: User  # type: ignore[assignment]
