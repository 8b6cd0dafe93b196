"""The register going out: CSV in the layout the import reads (so re-importing an
export changes nothing), and OSDI people (JSON, the Open Supporter Data Interface
format Action Network reads).

Each export is for the organisation's admins only and recorded in the audit log
("register.exported", with the format and the number of rows). The rows are
streamed from the database in chunks, never held all at once. Members who deleted
their account are left out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction

from commonground.audit.services import audit_record

from .. import rules
from ..columns import EXPORT_HEADERS
from ..models import RegisterEntry, RegisterSettings

FORMATS = ("csv", "osdi")
CHUNK = 2000
# OSDI email statuses (osdi:email_address.status).
_SUBSCRIBED, _UNSUBSCRIBED, _BOUNCING = "subscribed", "unsubscribed", "bouncing"


def _entries(organisation: Any) -> Iterator[RegisterEntry]:
    return (
        RegisterEntry.objects.filter(
            organisation=organisation, user__deleted_at__isnull=True
        )
        .select_related("user", "membership__group")
        .order_by("pk")
        .iterator(chunk_size=CHUNK)
    )


@transaction.atomic
def register_export(
    *, actor: Any, organisation: Any, group: Any, file_format: str
) -> Iterable[str]:
    """Record the export and return its text, in pieces to stream."""
    rules.require_register_admin(actor, organisation)
    if file_format not in FORMATS:
        raise ValueError(f"unknown export format {file_format!r}")
    count = RegisterEntry.objects.filter(
        organisation=organisation, user__deleted_at__isnull=True
    ).count()
    audit_record(
        actor=actor,
        action="register.exported",
        group=group,
        data={"format": file_format, "rows": count},
    )
    custom_names = list(
        RegisterSettings.objects.filter(organisation=organisation)
        .values_list("custom_field_names", flat=True)
        .first()
        or []
    )
    if file_format == "csv":
        return _csv(organisation, custom_names)
    return _osdi(organisation, count)


class _Line:
    """A file-like object whose ``write`` hands the text back (for csv.writer)."""

    def write(self, text: str) -> str:
        return text


def _csv(organisation: Any, custom_names: list[str]) -> Iterator[str]:
    writer = csv.writer(_Line())
    # The byte-order mark makes Excel read the file as UTF-8; the import accepts it.
    yield "\ufeff" + writer.writerow([*EXPORT_HEADERS.values(), *custom_names])
    for entry in _entries(organisation):
        membership = entry.membership
        yield writer.writerow(
            [
                entry.user.email,
                entry.user.display_name,
                entry.postcode,
                membership.group.slug if membership else "",
                entry.joined_on.isoformat() if entry.joined_on else "",
                membership.status if membership else "left",
                entry.dues_tier,
                entry.external_id,
                *(entry.custom_fields.get(name, "") for name in custom_names),
            ]
        )


def _osdi(organisation: Any, count: int) -> Iterator[str]:
    yield f'{{"total_records": {count}, "_embedded": {{"osdi:people": ['
    for index, entry in enumerate(_entries(organisation)):
        yield ("," if index else "") + json.dumps(
            osdi_person(entry), ensure_ascii=False
        )
    yield "]}}\n"


def _names(entry: RegisterEntry) -> tuple[str, str]:
    """Given and family name: as imported while they still make the account's name,
    else the account's name split before its last word."""
    display = entry.user.display_name
    if (entry.given_name or entry.family_name) and display == (
        f"{entry.given_name} {entry.family_name}".strip()
    ):
        return entry.given_name, entry.family_name
    given, _space, family = display.rpartition(" ")
    return (given, family) if given else (family, "")


def osdi_person(entry: RegisterEntry) -> dict[str, Any]:
    """One member as an OSDI person.

    The email status is "bouncing" when mail to it bounced for good, "unsubscribed"
    when the member has left, else "subscribed". The register's custom fields go in
    ``custom_fields`` with the branch, status, dues tier and join date beside them.
    """
    user, membership = entry.user, entry.membership
    status = membership.status if membership else "left"
    if user.email_bounced_at is not None:
        email_status = _BOUNCING
    else:
        email_status = _UNSUBSCRIBED if status == "left" else _SUBSCRIBED
    given, family = _names(entry)
    custom = {
        **entry.custom_fields,
        "branch": membership.group.slug if membership else "",
        "membership_status": status,
        "dues_tier": entry.dues_tier,
        "join_date": entry.joined_on.isoformat() if entry.joined_on else "",
    }
    external = entry.external_id
    identifiers = [f"commonground:{user.pk}"]
    if external:
        identifiers.append(external if ":" in external else f"register:{external}")
    return {
        "identifiers": identifiers,
        "given_name": given,
        "family_name": family,
        "email_addresses": [
            {"address": user.email, "primary": True, "status": email_status}
        ],
        "postal_addresses": (
            [{"postal_code": entry.postcode, "primary": True}] if entry.postcode else []
        ),
        "custom_fields": {key: value for key, value in custom.items() if value},
        "created_date": user.date_joined.isoformat(),
        "modified_date": entry.updated_at.isoformat(),
    }
