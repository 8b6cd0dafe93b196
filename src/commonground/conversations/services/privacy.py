"""A member deletes their account: their answers and statements stay, pseudonymous.

Their participant rows lose the link to them (the map and the exports keep a number
that now names no one), and their reports go. Called inside the account deletion's
transaction through the capability's ``erase_personal_data``.
"""

from __future__ import annotations

from typing import Any

from ..models import Participant, StatementReport


def member_forget(user: Any) -> None:
    Participant.objects.filter(user=user).update(user=None)
    StatementReport.objects.filter(reporter=user).delete()
