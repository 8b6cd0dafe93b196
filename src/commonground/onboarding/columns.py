"""The register's columns: the platform fields a column can fill, the guess from a
header's name, and the checks on a whole mapping.

The guesses know the headers that spreadsheets, CiviCRM ("Contact ID", "First Name",
"Postal Code", "Member Since", "Membership Status", "Membership Type") and Action
Network ("first_name", "last_name", "email", "zip_code", "uuid") export. A header
that names no platform field is kept as a custom field of the same name; the admin
can change every choice.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commonground.core.capabilities import Label

IGNORE = ""
CUSTOM = "custom"

# Field key -> what the mapping form calls it. The order is the form's.
FIELDS: dict[str, Label] = {
    IGNORE: gettext_lazy("Don't import"),
    "email": gettext_lazy("Email (required)"),
    "name": gettext_lazy("Full name"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "postcode": gettext_lazy("Postcode"),
    "branch": gettext_lazy("Branch (group slug or name)"),
    "joined": gettext_lazy("Join date"),
    "status": gettext_lazy("Membership status"),
    "dues_tier": gettext_lazy("Dues tier"),
    "external_id": gettext_lazy("ID in the other system"),
    CUSTOM: gettext_lazy("Keep as a custom field"),
}

# The export writes these headers, so a re-import of an export maps itself.
EXPORT_HEADERS: dict[str, str] = {
    "email": "Email",
    "name": "Name",
    "postcode": "Postcode",
    "branch": "Branch",
    "joined": "Join date",
    "status": "Status",
    "dues_tier": "Dues tier",
    "external_id": "External ID",
}

# Header, lower case with only letters and digits kept -> field key.
_GUESSES: dict[str, str] = {
    **dict.fromkeys(
        ["email", "emailaddress", "mail", "primaryemail", "emailprimary"], "email"
    ),
    **dict.fromkeys(
        ["name", "fullname", "displayname", "contactname", "membername"], "name"
    ),
    **dict.fromkeys(["firstname", "givenname", "forename", "first"], "first_name"),
    **dict.fromkeys(["lastname", "surname", "familyname", "last"], "last_name"),
    **dict.fromkeys(
        ["postcode", "postalcode", "zip", "zipcode", "postcodezip", "post"],
        "postcode",
    ),
    **dict.fromkeys(
        ["branch", "branchslug", "group", "chapter", "localgroup", "local"],
        "branch",
    ),
    **dict.fromkeys(
        [
            "joindate",
            "joined",
            "joinedon",
            "datejoined",
            "membersince",
            "startdate",
            "membershipstartdate",
        ],
        "joined",
    ),
    **dict.fromkeys(["status", "membershipstatus", "memberstatus"], "status"),
    **dict.fromkeys(
        ["duestier", "dues", "tier", "membershiptype", "duesrate", "rate"],
        "dues_tier",
    ),
    **dict.fromkeys(
        [
            "externalid",
            "contactid",
            "id",
            "uuid",
            "externalidentifier",
            "actionnetworkid",
            "memberid",
            "membershipnumber",
        ],
        "external_id",
    ),
}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def guess_mapping(headers: list[str]) -> list[str]:
    """A field key per column; each platform field goes to the first column that
    names it, and every other column is kept as a custom field."""
    taken: set[str] = set()
    mapping = []
    for header in headers:
        field = _GUESSES.get(_key(header), CUSTOM)
        if field != CUSTOM and field in taken:
            field = CUSTOM
        taken.add(field)
        mapping.append(field)
    return mapping


def mapping_problems(mapping: list[str]) -> list[str]:
    """What stops a mapping from being used, as sentences for the admin."""
    problems = []
    if "email" not in mapping:
        problems.append(_("Choose the column that holds the email address."))
    for field in FIELDS:
        if field not in (IGNORE, CUSTOM) and mapping.count(field) > 1:
            problems.append(
                _("Only one column can be “%(field)s”.") % {"field": FIELDS[field]}
            )
    if "name" in mapping and ({"first_name", "last_name"} & set(mapping)):
        problems.append(
            _("Choose either a full-name column or first and last name columns.")
        )
    return problems
