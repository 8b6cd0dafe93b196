"""The postcode-to-branch table: checked from an uploaded CSV, then replaced whole.

The CSV has two columns, a postcode prefix and a branch (a group's slug or name);
a first row naming the columns is optional. The check (the dry run) reports every
failing row with its line and column; the replace takes the checked rows from a
signed token, so what is applied is exactly what the admin saw, and checks them
again against the organisation's groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.services import enrolment_directory

from .. import postcodes, rules
from ..models import PostcodeArea
from ..parsing import RowError
from ..reading import FileRefused, check_utf8, records

_SALT = "onboarding.postcode-table"
TOKEN_MAX_AGE = 60 * 60
MAX_TABLE_BYTES = 2 * 1024 * 1024
_HEADER_WORDS = ("postcode", "prefix", "area", "outward", "district", "zip")


@dataclass
class PostcodeTableCheck:
    # (line, prefix, group) of each good row.
    areas: list[tuple[int, str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # The checked rows, signed, for the form that confirms the replace (when ok).
    token: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.areas) and not self.errors


def postcode_table_check(
    *, actor: Any, organisation: Any, content: bytes
) -> PostcodeTableCheck:
    """Check an uploaded table without changing anything."""
    rules.require_register_admin(actor, organisation)
    if len(content) > MAX_TABLE_BYTES:
        raise ValidationError(_("The table is larger than 2 MB."))
    try:
        check_utf8(content)
        delimiter = ";" if content.split(b"\n", 1)[0].count(b";") else ","
        rows = list(records(content, "csv", delimiter, with_header=True))
    except FileRefused as refused:
        raise ValidationError(str(refused)) from None
    first = rows[0][1] if rows else []
    if first and any(word in first[0].lower() for word in _HEADER_WORDS):
        rows = rows[1:]
    directory = enrolment_directory(organisation=organisation)
    check = PostcodeTableCheck()
    seen: dict[str, int] = {}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        _check_row(check, directory, seen, line, cells)
    if not check.areas and not check.errors:
        check.errors.append(RowError(1, "", "", _("The table has no rows.")))
    if check.ok:
        check.token = postcode_table_token(organisation=organisation, check=check)
    return check


def _check_row(
    check: PostcodeTableCheck,
    directory: Any,
    seen: dict[str, int],
    line: int,
    cells: list[str],
) -> None:
    prefix = postcodes.normalise_prefix(cells[0] if cells else "")
    branch = " ".join(cells[1].split()) if len(cells) > 1 else ""
    errors = len(check.errors)
    if not postcodes.is_valid_prefix(prefix):
        message = _("“%(value)s” is not a postcode prefix: 1 to 10 letters and digits.")
        check.errors.append(RowError(line, "A", "", message % {"value": cells[0]}))
    elif prefix in seen:
        message = _("%(prefix)s is also on line %(first)d.")
        check.errors.append(
            RowError(line, "A", "", message % {"prefix": prefix, "first": seen[prefix]})
        )
    seen.setdefault(prefix, line)
    group = directory.by_slug.get(branch.lower()) or directory.by_name.get(
        branch.lower()
    )
    if group is None or group.archived_at is not None:
        message = _("No open group “%(value)s” in this organisation.")
        check.errors.append(RowError(line, "B", "", message % {"value": branch}))
    if len(check.errors) == errors:
        check.areas.append((line, prefix, group))


def postcode_table_token(*, organisation: Any, check: PostcodeTableCheck) -> str:
    """The checked rows, signed, for the form that confirms the replace."""
    return signing.dumps(
        {
            "organisation": organisation.pk,
            "areas": [[p, g.pk] for _, p, g in check.areas],
        },
        salt=_SALT,
        compress=True,
    )


@transaction.atomic
def postcode_table_replace(
    *, actor: Any, organisation: Any, group: Any, token: str
) -> int:
    """Replace the organisation's table with the checked rows; their number."""
    rules.require_register_admin(actor, organisation)
    try:
        data = signing.loads(token, salt=_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError(
            _("The check is too old or was altered; upload the table again.")
        ) from None
    groups = enrolment_directory(organisation=organisation).groups
    areas = [(str(prefix), int(group_id)) for prefix, group_id in data["areas"]]
    if data["organisation"] != organisation.pk or any(
        group_id not in groups or not postcodes.is_valid_prefix(prefix)
        for prefix, group_id in areas
    ):
        raise ValidationError(_("The table names groups outside this organisation."))
    PostcodeArea.objects.filter(organisation=organisation).delete()
    PostcodeArea.objects.bulk_create(
        PostcodeArea(organisation=organisation, prefix=prefix, group_id=group_id)
        for prefix, group_id in areas
    )
    audit_record(
        actor=actor,
        action="register.postcode_areas_replaced",
        group=group,
        data={"areas": len(areas)},
    )
    return len(areas)
