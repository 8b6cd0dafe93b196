"""What visitors (people without an account) get by email, and the signed links in it.

Three links, each a signed, salted token (``django.core.signing``) naming one comment
or one address, never the address in clear:

- confirm a comment (``CONFIRM_DAYS`` valid): proves the commenter reads the
  mailbox they gave, after which the comment appears (or is held for a moderator);
- stop reply emails (no expiry: an unsubscribe link must keep working), one click;
- see or erase one's comments (``DATA_ACCESS_HOURS`` valid): the visitor's data
  export and erasure, asked for by address.

Emails are sent once the transaction commits, in the look of the group's
organisation, with the plain text first. Services call these; nothing here writes.
"""

from __future__ import annotations

import hashlib
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from commonground.core.capabilities import email_brand
from commonground.notifications.delivery import site_url

CONFIRM_SALT = "commonground.discussion.visitor-confirm"
UNSUBSCRIBE_SALT = "commonground.discussion.visitor-replies"
DATA_SALT = "commonground.discussion.visitor-data"
CONFIRM_DAYS = 3
DATA_ACCESS_HOURS = 24
SUBJECT_PREFIX = "[Common Ground] "


HOLD_CHOICES = ("first", "all", "none")


def visitor_hold() -> str:
    """Which confirmed visitor comments wait for a moderator, by the site setting
    ``COMMONGROUND_VISITOR_HOLD``: "first" (default), "all" or "none"."""
    hold = str(getattr(settings, "COMMONGROUND_VISITOR_HOLD", "first"))
    return hold if hold in HOLD_CHOICES else "first"


class BadLink(Exception):
    """A visitor's link that was not signed by us, was altered or has expired."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def email_digest(email: str) -> str:
    """A short keyed fingerprint of an address (``Comment.visitor_key``; tokens and
    rate limits use it, never the address)."""
    key = f"{settings.SECRET_KEY}:{email.strip().lower()}".encode()
    return hashlib.sha256(key).hexdigest()[:24]


def confirm_token(comment: Any) -> str:
    return signing.dumps({"c": comment.pk, "e": comment.visitor_key}, salt=CONFIRM_SALT)


def unsubscribe_token(comment: Any) -> str:
    return signing.dumps(
        {"c": comment.pk, "e": comment.visitor_key},
        salt=UNSUBSCRIBE_SALT,
    )


def data_token(email: str) -> str:
    return signing.dumps({"k": email_digest(email)}, salt=DATA_SALT)


def _load(token: str, salt: str, max_age: int | None) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink(expired=True) from None
    except signing.BadSignature:
        raise BadLink() from None
    if not isinstance(data, dict):
        raise BadLink()
    return data


def read_comment_token(
    token: str, *, salt: str, max_age: int | None
) -> tuple[int, str]:
    """(comment id, address fingerprint) from a confirm or unsubscribe token."""
    data = _load(token, salt, max_age)
    try:
        return int(data["c"]), str(data["e"])
    except (KeyError, TypeError, ValueError):
        raise BadLink() from None


def read_confirm_token(token: str) -> tuple[int, str]:
    return read_comment_token(
        token, salt=CONFIRM_SALT, max_age=CONFIRM_DAYS * 24 * 3600
    )


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    return read_comment_token(token, salt=UNSUBSCRIBE_SALT, max_age=None)


def read_data_token(token: str) -> str:
    """The address fingerprint (``Comment.visitor_key``) a data link is for."""
    data = _load(token, DATA_SALT, DATA_ACCESS_HOURS * 3600)
    key = data.get("k")
    if not isinstance(key, str) or len(key) != 24:
        raise BadLink()
    return key


# Emails ---------------------------------------------------------------------------


def _send(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    group_id: int | None,
    unsubscribe_url: str = "",
) -> None:
    brand = email_brand(group_id)
    prefix = f"[{brand['name']}] " if brand else SUBJECT_PREFIX
    sender = settings.DEFAULT_FROM_EMAIL
    if brand:
        sender = formataddr((brand["name"], parseaddr(sender)[1] or sender))
    context = {**context, "brand": brand, "unsubscribe_url": unsubscribe_url}
    headers = {"Auto-Submitted": "auto-generated"}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=prefix + subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=sender,
        to=[to],
        headers=headers,
    )
    message.attach_alternative(
        render_to_string(f"{template}.html", context), "text/html"
    )
    message.send(fail_silently=False)


def _after_commit(send: Any) -> None:
    transaction.on_commit(send)


def send_confirmation(comment: Any, target: Any, thread_path: str) -> None:
    """Email the link that confirms a visitor's comment (after commit)."""
    from django.utils.translation import gettext as _

    address = comment.visitor_email
    url = site_url(reverse("discussion:visitor_confirm", args=[confirm_token(comment)]))
    context = {
        "name": comment.visitor_name,
        "title": str(target),
        "excerpt": Truncator(comment.body).chars(300),
        "confirm_url": url,
        "thread_url": site_url(thread_path),
        "days": CONFIRM_DAYS,
    }
    _after_commit(
        lambda: _send(
            to=address,
            subject=_("Confirm your comment on “%(title)s”") % {"title": str(target)},
            template="discussion/email/visitor_confirm",
            context=context,
            group_id=comment.group_id,
        )
    )


def send_reply(parent: Any, reply: Any, target: Any, comment_path: str) -> None:
    """Tell a visitor who asked for replies that someone answered (after commit)."""
    from django.utils.translation import gettext as _

    address = parent.visitor_email
    unsubscribe = site_url(
        reverse("discussion:visitor_unsubscribe", args=[unsubscribe_token(parent)])
    )
    context = {
        "name": parent.visitor_name,
        "replier": reply.display_name,
        "title": str(target),
        "excerpt": Truncator(reply.body).chars(300),
        "url": site_url(comment_path),
    }
    _after_commit(
        lambda: _send(
            to=address,
            subject=_("%(name)s replied to your comment on “%(title)s”")
            % {"name": reply.display_name, "title": str(target)},
            template="discussion/email/visitor_reply",
            context=context,
            group_id=parent.group_id,
            unsubscribe_url=unsubscribe,
        )
    )


def send_data_link(email: str) -> None:
    """Email the link to see and erase one's visitor comments (after commit)."""
    from django.utils.translation import gettext as _

    url = site_url(reverse("discussion:visitor_data", args=[data_token(email)]))
    context = {"url": url, "hours": DATA_ACCESS_HOURS}
    _after_commit(
        lambda: _send(
            to=email,
            subject=_("Your comments: see them or erase them"),
            template="discussion/email/visitor_data",
            context=context,
            group_id=None,
        )
    )
