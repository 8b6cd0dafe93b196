"""Signed unsubscribe tokens: member id, kind and group, salted, no sign-in needed."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

SALT = "commonground.notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    member_id: int
    kind: str
    group_id: int | None


def unsubscribe_token(*, member_id: int, kind: str, group_id: int | None) -> str:
    return signing.dumps({"m": member_id, "k": kind, "g": group_id}, salt=SALT)


def read_unsubscribe_token(token: str) -> Unsubscribe:
    """The token's contents; ``signing.BadSignature`` if it was not signed by us."""
    data = signing.loads(token, salt=SALT)
    try:
        return Unsubscribe(
            member_id=int(data["m"]), kind=str(data["k"]), group_id=data["g"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise signing.BadSignature("malformed token") from error
