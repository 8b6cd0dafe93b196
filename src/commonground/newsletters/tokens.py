"""Signed links in newsletter emails that work without signing in.

Unsubscribing reuses ``commonground.notifications.tokens`` (member, kind, group); the
newsletter's link adds the recipient row's id so the report can count it. The web
version link names the newsletter and the member it was sent to, under its own salt,
so neither token can stand in for the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

WEB_SALT = "commonground.newsletters.web"


@dataclass(frozen=True)
class WebVersion:
    newsletter_id: int
    member_id: int


def web_version_token(*, newsletter_id: int, member_id: int) -> str:
    return signing.dumps([newsletter_id, member_id], salt=WEB_SALT)


def read_web_version_token(token: str) -> WebVersion:
    """The token's contents; ``signing.BadSignature`` if it was not signed by us."""
    data = signing.loads(token, salt=WEB_SALT)
    try:
        newsletter_id, member_id = (int(value) for value in data)
    except (TypeError, ValueError) as error:
        raise signing.BadSignature("malformed token") from error
    return WebVersion(newsletter_id=newsletter_id, member_id=member_id)
