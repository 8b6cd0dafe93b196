"""Reading bounce reports: a mail provider's signed webhook, and RFC 3464 delivery
status notifications (the bounce emails mail servers send back).

Plain data in, plain :class:`Bounce` records out; ``services.responses`` records them.

    >>> signature = "sha256=" + hmac.new(b"s3cret", b"{}", "sha256").hexdigest()
    >>> signature_valid(b"{}", signature, "s3cret")
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
KINDS = (HARD, SOFT, COMPLAINT)


@dataclass(frozen=True)
class Bounce:
    email: str
    message_id: str  # "<...@...>" of the email that bounced, or ""
    kind: str  # HARD, SOFT or COMPLAINT
    reason: str = ""


def normalise_message_id(value: str) -> str:
    """``<id@host>`` whatever the spacing and brackets it came with ("" if empty)."""
    value = "".join(value.split()).strip("<>")
    return f"<{value}>" if value else ""


# The webhook ------------------------------------------------------------------------


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    """Whether ``header`` is ``sha256=<hex HMAC-SHA256 of body under secret>``.

    Without a secret nothing is valid: the webhook stays shut until one is set.
    """
    if not secret or not header:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = header.strip().removeprefix("sha256=")
    return hmac.compare_digest(expected, given)


def parse_webhook(body: bytes) -> Bounce:
    """``{"email": ..., "message_id": ..., "type": "hard"|"soft"|"complaint"}``;
    ``ValueError`` when it is not that."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError("the body is not JSON") from error
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    email = data.get("email")
    kind = data.get("type")
    message_id = data.get("message_id") or ""
    reason = data.get("reason") or ""
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise ValueError("email: an address is required")
    if kind not in KINDS:
        raise ValueError("type: one of hard, soft, complaint")
    if not isinstance(message_id, str) or not isinstance(reason, str):
        raise ValueError("message_id and reason must be strings")
    return Bounce(
        email=email.strip(),
        message_id=normalise_message_id(message_id)[:250],
        kind=kind,
        reason=reason[:200],
    )


# RFC 3464 delivery status notifications ---------------------------------------------


def _original_message_id(report: Message) -> str:
    """The Message-ID of the returned message (a message/rfc822 part, or its headers
    alone as text/rfc822-headers)."""
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(original, Message):
                return normalise_message_id(str(original.get("Message-ID", "")))
        if content_type == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(
                text.decode("utf-8", errors="replace")
                if isinstance(text, bytes)
                else str(text)
            )
            return normalise_message_id(str(headers.get("Message-ID", "")))
    return ""


def _recipient_fields(report: Message) -> list[Message]:
    """The per-recipient field groups of the message/delivery-status part."""
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            groups = part.get_payload()
            if isinstance(groups, list):
                # The first group is about the message, each later one a recipient.
                return [group for group in groups[1:] if isinstance(group, Message)]
    return []


def _kind(action: str, status: str) -> str | None:
    """A failed delivery with a 5.x.x status is permanent; 4.x.x or "delayed" is
    transient. Delivered, relayed and expanded messages did not bounce."""
    if action == "failed":
        return SOFT if status.startswith("4") else HARD
    if action == "delayed":
        return SOFT
    return None


def bounces_from_dsn(raw: bytes) -> list[Bounce]:
    """The bounces an RFC 3464 report tells of (empty if it is not one)."""
    report = message_from_bytes(raw, policy=policy.compat32)
    if report.get_content_type() != "multipart/report":
        return []
    message_id = _original_message_id(report)
    found = []
    for fields in _recipient_fields(report):
        action = str(fields.get("Action", "")).strip().lower()
        status = str(fields.get("Status", "")).strip()
        kind = _kind(action, status)
        recipient = str(
            fields.get("Final-Recipient") or fields.get("Original-Recipient") or ""
        )
        # "rfc822; someone@example.org": the address type, then the address.
        email = parseaddr(recipient.partition(";")[2] or recipient)[1]
        if kind is None or "@" not in email:
            continue
        diagnostic = " ".join(str(fields.get("Diagnostic-Code", "")).split())
        found.append(
            Bounce(
                email=email,
                message_id=message_id,
                kind=kind,
                reason=(f"{status} {diagnostic}".strip())[:200],
            )
        )
    return found
