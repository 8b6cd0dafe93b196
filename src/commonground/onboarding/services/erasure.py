"""A member who deletes their account leaves no register data behind."""

from __future__ import annotations

from typing import Any

from ..models import RegisterEntry


def register_entries_erase(user: Any) -> None:
    """Delete the member's register entries (postcode, dues tier, custom fields...)
    in every organisation; runs inside the account deletion's transaction."""
    RegisterEntry.objects.filter(user=user).delete()
