"""One register row, from cells to a checked person or the reasons it fails.

A ``RowParser`` holds what every row of an import is checked against (the mapping,
the organisation's groups, its postcode table and rule, the date order) and turns a
row into a ``ParsedRow`` or a list of ``RowError`` (line, column, reason). It
remembers the emails it has seen, so a repeated email names both lines. Nothing here
touches the database.

Accepted values:

- email: required, one address, checked like every address on the platform;
- dates: 2024-03-01 (also with a time, as CiviCRM and Action Network write it),
  01/03/2024 (day first unless the import says month first), 01.03.2024; a spreadsheet
  date cell; not in the future, not before 1900;
- status: active, lapsed, suspended or left, or a common synonym (``STATUS_WORDS``);
  empty (or no status column): a new member is active, an existing one keeps theirs;
- branch: a group of the organisation, by slug or by name (any case); empty (or no
  branch column): the postcode table's branch, else the member's branch in the
  register, else the organisation's top-level group (``group_id`` 0 here).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.members.models import Membership

from . import postcodes
from .columns import CUSTOM
from .reading import column_letter

Status = Membership.Status

# Words registers use for a membership's state -> the platform's status. CiviCRM
# counts "Grace" as a current member (still within the renewal grace period), so it
# is active; "Expired" is lapsed; "Cancelled" and "Deceased" have left.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["active", "current", "new", "grace", "member", "paid", "good standing"],
        Status.ACTIVE,
    ),
    **dict.fromkeys(
        ["lapsed", "expired", "overdue", "unpaid", "arrears", "in arrears"],
        Status.LAPSED,
    ),
    **dict.fromkeys(["suspended", "on hold", "hold"], Status.SUSPENDED),
    **dict.fromkeys(
        ["left", "cancelled", "canceled", "resigned", "former", "deceased", "ended"],
        Status.LEFT,
    ),
    # An export of the platform's register can hold these too.
    "applied": Status.APPLIED,
    "rejected": Status.REJECTED,
}

EMAIL_LIMIT = 254  # the account's email field
LIMITS = {"name": 80, "dues_tier": 60, "external_id": 100, "postcode": 16}
CUSTOM_VALUE_LIMIT = 500
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: .*)?$")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str  # the spreadsheet letter, "" for the whole row
    header: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "header": self.header,
            "message": self.message,
        }


@dataclass
class ParsedRow:
    line: int
    email: str
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    postcode: str = ""
    group_id: int = 0
    status: str | None = None
    joined: dt.date | None = None
    dues_tier: str = ""
    external_id: str = ""
    custom: dict[str, str] = field(default_factory=dict)


def accepted_date_formats(day_first: bool) -> str:
    slashed = "DD/MM/YYYY" if day_first else "MM/DD/YYYY"
    return f"YYYY-MM-DD, {slashed}, DD.MM.YYYY"


def parse_date(text: str, *, day_first: bool) -> dt.date:
    """A join date in one of the accepted formats; ``ValueError`` otherwise."""
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SLASHED.match(text):
        first, second, year = (int(part) for part in match.groups())
        day, month = (first, second) if day_first else (second, first)
    elif match := _DOTTED.match(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(text)
    return dt.date(year, month, day)


class RowParser:
    """Checks rows of one import (see the module docstring for what is accepted)."""

    def __init__(
        self,
        *,
        headers: list[str],
        mapping: list[str],
        directory: Any,
        areas: dict[str, int],
        postcode_pattern: re.Pattern[str],
        day_first: bool,
    ) -> None:
        self.headers = headers
        self.columns = {
            key: index for index, key in enumerate(mapping) if key and key != CUSTOM
        }
        self.custom = [i for i, key in enumerate(mapping) if key == CUSTOM]
        self.directory = directory
        self.areas = areas
        self.postcode_pattern = postcode_pattern
        self.day_first = day_first
        self.today = timezone.localdate()
        self.seen: dict[str, int] = {}  # email -> the line it first appeared on

    def _cell(self, cells: list[str], key: str) -> str:
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return " ".join(cells[index].split())

    def _error(self, line: int, key: str, message: str) -> RowError:
        index = self.columns[key]
        return RowError(line, column_letter(index), self.headers[index], message)

    def parse(self, line: int, cells: list[str]) -> ParsedRow | list[RowError] | None:
        """The checked row, its errors, or None for a blank row (skipped)."""
        if not any(cell.strip() for cell in cells):
            return None
        errors: list[RowError] = []
        row = ParsedRow(line=line, email=self._email(line, cells, errors))
        self._names(row, cells, errors)
        row.postcode = self._postcode(line, cells, errors)
        row.group_id = self._branch(line, cells, row.postcode, errors)
        row.status = self._status(line, cells, errors)
        row.joined = self._joined(line, cells, errors)
        for key in ("dues_tier", "external_id"):
            value = self._cell(cells, key)
            if len(value) > LIMITS[key]:
                errors.append(self._too_long(line, key))
            setattr(row, key, value)
        row.custom = self._custom(line, cells, errors)
        return errors or row

    def _too_long(self, line: int, key: str) -> RowError:
        return self._error(
            line,
            key,
            _("Longer than %(limit)d characters.") % {"limit": LIMITS[key]},
        )

    def remember(self, line: int, cells: list[str]) -> None:
        """Note a row's email without checking the row (a batch committed earlier,
        when an import resumes), so a later duplicate is still found."""
        email = self._cell(cells, "email").lower()
        if email:
            self.seen.setdefault(email, line)

    def _email(self, line: int, cells: list[str], errors: list[RowError]) -> str:
        email = self._cell(cells, "email").lower()
        if not email:
            errors.append(self._error(line, "email", _("The email is missing.")))
            return ""
        try:
            if len(email) > EMAIL_LIMIT:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            message = _("“%(value)s” is not a valid email address.")
            errors.append(self._error(line, "email", message % {"value": email}))
            return email
        first = self.seen.setdefault(email, line)
        if first != line:
            message = _("%(email)s is also on line %(first)d: each person once.")
            errors.append(
                self._error(line, "email", message % {"email": email, "first": first})
            )
        return email

    def _names(self, row: ParsedRow, cells: list[str], errors: list[RowError]) -> None:
        if "name" in self.columns:
            row.name = self._cell(cells, "name")
            key = "name"
        else:
            row.given_name = self._cell(cells, "first_name")
            row.family_name = self._cell(cells, "last_name")
            row.name = f"{row.given_name} {row.family_name}".strip()
            key = "first_name" if "first_name" in self.columns else "last_name"
        if len(row.name) > LIMITS["name"] and key in self.columns:
            errors.append(self._too_long(row.line, key))

    def _postcode(self, line: int, cells: list[str], errors: list[RowError]) -> str:
        value = self._cell(cells, "postcode")
        if not value:
            return ""
        if not self.postcode_pattern.match(value) or len(value) > LIMITS["postcode"]:
            errors.append(
                self._error(
                    line,
                    "postcode",
                    _("“%(value)s” is not a postcode under this import's rule.")
                    % {"value": value},
                )
            )
            return ""
        return postcodes.normalise(value)

    def _branch(
        self, line: int, cells: list[str], postcode: str, errors: list[RowError]
    ) -> int:
        value = self._cell(cells, "branch")
        if not value:
            # 0: no branch named; the import keeps a member's branch, else the top group.
            return (
                postcodes.branch_for(postcode, self.areas) if postcode else None
            ) or 0
        key = value.lower()
        group = self.directory.by_slug.get(key)
        if group is None and key in self.directory.by_name:
            group = self.directory.by_name[key]
            if group is None:  # two groups share the name
                message = _("Several groups are named “%(value)s”: use its slug.")
                errors.append(self._error(line, "branch", message % {"value": value}))
                return 0
        if group is None:
            message = _("No group “%(value)s” in this organisation.")
            errors.append(self._error(line, "branch", message % {"value": value}))
            return 0
        if group.archived_at is not None:
            message = _("The group “%(value)s” is archived and takes no new members.")
            errors.append(self._error(line, "branch", message % {"value": value}))
            return 0
        return int(group.pk)

    def _status(
        self, line: int, cells: list[str], errors: list[RowError]
    ) -> str | None:
        value = self._cell(cells, "status")
        if not value:
            return None
        status = STATUS_WORDS.get(value.lower())
        if status is None:
            errors.append(
                self._error(
                    line,
                    "status",
                    _(
                        "Unknown status “%(value)s”: use active, lapsed, suspended or "
                        "left (or Current, Grace, Expired, Cancelled)."
                    )
                    % {"value": value},
                )
            )
            return None
        return status

    def _joined(
        self, line: int, cells: list[str], errors: list[RowError]
    ) -> dt.date | None:
        value = self._cell(cells, "joined")
        if not value:
            return None
        try:
            joined = parse_date(value, day_first=self.day_first)
        except ValueError:
            message = _("“%(value)s” is not a date we can read: use %(formats)s.")
            formats = accepted_date_formats(self.day_first)
            errors.append(
                self._error(
                    line, "joined", message % {"value": value, "formats": formats}
                )
            )
            return None
        if joined > self.today or joined.year < 1900:
            message = _("The join date %(value)s is in the future or before 1900.")
            errors.append(self._error(line, "joined", message % {"value": value}))
            return None
        return joined

    def _custom(
        self, line: int, cells: list[str], errors: list[RowError]
    ) -> dict[str, str]:
        custom = {}
        for index in self.custom:
            value = cells[index].strip() if index < len(cells) else ""
            if len(value) > CUSTOM_VALUE_LIMIT:
                errors.append(
                    RowError(
                        line,
                        column_letter(index),
                        self.headers[index],
                        _("Longer than %(limit)d characters.")
                        % {"limit": CUSTOM_VALUE_LIMIT},
                    )
                )
            elif value:
                custom[self.headers[index]] = value
        return custom
