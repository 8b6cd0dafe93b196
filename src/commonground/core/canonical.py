"""Canonical JSON: the one byte-exact form every hash, seal and signature is taken over.

Keys sorted, no spaces, UTF-8 text (not ``\\u`` escapes), no NaN or infinity, no final
newline. The audit chain, election seals, ballot papers and stored results all use
it, so writing a value and checking it later can never disagree on the encoding.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text.

    >>> canonical_json({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
    """
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def canonical_sha256(value: Any) -> str:
    """The SHA-256 (hex) of ``value``'s canonical JSON, encoded as UTF-8."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
