"""Keyed hashes that keep ballots secret (docs/ballot-integrity.md).

Both use HMAC-SHA256 under ``settings.BALLOT_SECRET_KEY`` with a purpose label, so a
voter token can never be confused with a tracker code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from django.conf import settings

TRACKER_LENGTH = 16


def _mac(purpose: str, *parts: object) -> bytes:
    key = settings.BALLOT_SECRET_KEY.encode()
    message = "\x1f".join([purpose, *(str(part) for part in parts)]).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def voter_token(*, election_id: int, member_id: int) -> str:
    """The only link from a member to their ballot; useless without the server key."""
    return _mac("commonground-voter-token/1", election_id, member_id).hex()


def tracker_code(ballot_id: uuid.UUID) -> str:
    """The code shown to the voter: base32 of HMAC(ballot id), 16 characters."""
    digest = _mac("commonground-tracker/1", ballot_id)
    return base64.b32encode(digest).decode()[:TRACKER_LENGTH]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
