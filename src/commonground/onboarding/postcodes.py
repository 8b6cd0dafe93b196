"""Postcodes: which are valid, how they are written, and which branch they fall in.

Validity follows the organisation's rule (``PostcodeRule``): by default any postcode
of 2 to 10 letters and digits, with spaces or hyphens between them (this fits most
countries' formats); "UK" accepts only UK postcodes; "custom" is the organisation's
own regular expression. A postcode is stored in capitals with single spaces, a UK
one with its space before the last three characters ("ls14ab" -> "LS1 4AB").

Branches: the postcode-to-branch table holds prefixes in capitals without spaces.
A UK postcode matches its sector ("LS6 1"), district ("LS6") or area ("LS"), the
most precise first, so district LS1 never catches LS10 1AA; any other postcode
matches its own leading characters, the longest first ("10115" -> "101" -> "10").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .models import PostcodeRule

GENERIC_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9]|[ -](?=[A-Za-z0-9])){1,9}"
UK_PATTERN = r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}"
_UK_COMPACT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")


def pattern_for(rule: str, custom: str = "") -> re.Pattern[str]:
    """The compiled, whole-string pattern of a rule (``custom`` for the custom rule)."""
    if rule == PostcodeRule.UK:
        text = UK_PATTERN
    elif rule == PostcodeRule.CUSTOM and custom:
        text = custom
    else:
        text = GENERIC_PATTERN
    return re.compile(rf"^(?:{text})$")


def normalise(postcode: str) -> str:
    """Capitals, single spaces; a UK postcode with its one space before the inward code."""
    text = " ".join(postcode.split()).upper()
    compact = text.replace(" ", "")
    if _UK_COMPACT.match(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    return text


def normalise_prefix(prefix: str) -> str:
    """A table prefix as stored: capitals, no spaces ("ls6 1" -> "LS61")."""
    return "".join(prefix.split()).upper()


def is_valid_prefix(prefix: str) -> bool:
    return bool(_PREFIX.match(prefix))


def candidate_prefixes(postcode: str) -> list[str]:
    """The table keys a postcode may match, most precise first."""
    compact = "".join(postcode.split()).upper().replace("-", "")
    if not compact:
        return []
    if _UK_COMPACT.match(compact):
        outward, inward = compact[:-3], compact[-3:]
        area = re.match(r"[A-Z]+", outward)
        keys = [compact, outward + inward[0], outward]
        return keys + ([area.group(0)] if area else [])
    return [compact[:length] for length in range(len(compact), 0, -1)]


def branch_for(postcode: str, areas: Mapping[str, int]) -> int | None:
    """The group id of the longest matching prefix in the table, or None."""
    for key in candidate_prefixes(postcode):
        if key in areas:
            return areas[key]
    return None
