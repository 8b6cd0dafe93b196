"""What the assemblies app erases when a member deletes their account."""

from __future__ import annotations

from typing import Any

from ..models import Registrant


def member_forget(user: Any) -> None:
    """Their registrations lose name, address and household; the pseudonym and
    feature answers stay, because published draws must still re-run."""
    Registrant.objects.filter(user=user).update(
        user=None, name="", email="", household_key=""
    )
