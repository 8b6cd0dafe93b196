"""What the assemblies app erases when a member deletes their account."""

from __future__ import annotations

from typing import Any

from ..models import Registrant


def member_forget(user: Any) -> None:
    """Their registrations lose name, address and household; the pseudonym and
    feature answers stay, because published draws must still re-run. (The address
    becomes a unique placeholder: one per assembly is a constraint.)"""
    for registrant in Registrant.objects.filter(user=user).only("id"):
        Registrant.objects.filter(pk=registrant.pk).update(
            user=None,
            name="",
            email=f"erased-{registrant.pk}@invalid.example",
            household_key="",
        )
