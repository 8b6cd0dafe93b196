"""A whole branch tree from a CSV file, with a dry run.

The file has a header and the columns ``path``, ``kind`` and ``name`` (any order,
any case), optionally ``description``, ``join_policy`` (open / approval) and
``public`` (yes / no). A path lists web addresses (slugs) from the organisation's
top down, separated by "/": ``northern-people/yorkshire/leeds`` creates ``leeds``
under ``yorkshire``. A parent must exist already or come from another row (rows
may be in any order). A row whose group exists already, at that place, is left as
it is, so the same file can be applied again and changes nothing.

:func:`group_tree_plan` checks every row and says what would happen, naming the
line and column of every problem; :func:`group_tree_apply` refuses a file with any
problem and otherwise creates every group in one transaction.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Group, Organisation, User
from ..selectors import is_organisation_admin, viewer_for
from .groups import SLUG_PATTERN, group_create

REQUIRED = ("path", "kind", "name")
OPTIONAL = ("description", "join_policy", "public")
TRUE_WORDS = {"yes", "y", "true", "1", "public"}
FALSE_WORDS = {"no", "n", "false", "0", "private"}
MAX_ROWS = 5000


@dataclass
class TreeRow:
    line: int
    path: str
    slug: str
    parent_slug: str
    kind: str
    name: str
    description: str = ""
    join_policy: str = Group.JoinPolicy.APPROVAL
    is_public: bool = True
    action: str = "create"  # create | exists
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)


@dataclass
class TreePlan:
    rows: list[TreeRow]
    file_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return len(self.file_errors) + sum(len(row.errors) for row in self.rows)

    @property
    def to_create(self) -> int:
        return sum(1 for row in self.rows if row.action == "create" and not row.errors)

    @property
    def existing(self) -> int:
        return sum(1 for row in self.rows if row.action == "exists")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValidationError(
            _(
                "The file is not UTF-8 text: line %(line)d has a byte it cannot "
                "read. Save it as “CSV UTF-8” and upload it again."
            )
            % {"line": line}
        ) from None


def _read_rows(text: str) -> tuple[list[TreeRow], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    missing = [column for column in REQUIRED if column not in headers]
    if missing:
        return [], [
            _("Line 1: the header lacks the column(s) %(columns)s.")
            % {"columns": ", ".join(missing)}
        ]
    rows: list[TreeRow] = []
    for record in reader:
        if len(rows) >= MAX_ROWS:
            return rows, [_("The file has more than %(max)d rows.") % {"max": MAX_ROWS}]
        value = {k: (record.get(h) or "").strip() for k, h in headers.items()}
        if not any(value.values()):
            continue
        parts = [part.strip().lower() for part in value["path"].strip("/").split("/")]
        row = TreeRow(
            line=reader.line_num,
            path="/".join(parts),
            slug=parts[-1],
            parent_slug=parts[-2] if len(parts) > 1 else "",
            kind=value["kind"].lower().replace(" ", "_"),
            name=" ".join(value["name"].split()),
            description=value.get("description", ""),
        )
        _read_options(row, value)
        rows.append(row)
    return rows, []


def _read_options(row: TreeRow, value: dict[str, str]) -> None:
    policy = value.get("join_policy", "").lower()
    if policy:
        if policy in Group.JoinPolicy.values:
            row.join_policy = policy
        else:
            row.errors.append(("join_policy", _("Write open or approval.")))
    public = value.get("public", "").lower()
    if public:
        if public in TRUE_WORDS | FALSE_WORDS:
            row.is_public = public in TRUE_WORDS
        else:
            row.errors.append(("public", _("Write yes or no.")))


def _check(
    row: TreeRow, organisation: Organisation, actor: User, planned: dict
) -> None:
    if not all(SLUG_PATTERN.match(part) for part in row.path.split("/")):
        row.errors.append(
            ("path", _("Use lower-case letters, digits and hyphens between the “/”."))
        )
        return
    if row.kind not in Group.Kind.values:
        row.errors.append(
            (
                "kind",
                _("Unknown kind; use one of: %(kinds)s.")
                % {"kinds": ", ".join(Group.Kind.values)},
            )
        )
    elif (row.kind == Group.Kind.COALITION) != (
        organisation.kind == Organisation.Kind.COALITION
    ):
        row.errors.append(
            ("kind", _("Coalition-wide groups belong to coalitions, and only they."))
        )
    if not row.name or len(row.name) > 120:
        row.errors.append(("name", _("Give a name of 1 to 120 characters.")))
    existing = Group.objects.filter(slug=row.slug).select_related("parent").first()
    if existing is not None:
        parent_slug = existing.parent.slug if existing.parent else ""
        if (
            existing.organisation_id != organisation.pk
            or parent_slug != row.parent_slug
        ):
            row.errors.append(
                (
                    "path",
                    _("“%(slug)s” is already used by another group.")
                    % {"slug": row.slug},
                )
            )
        else:
            row.action = "exists"
        return
    if row.slug in planned and planned[row.slug] is not row:
        row.errors.append(
            (
                "path",
                _("“%(slug)s” is on line %(line)d too.")
                % {"slug": row.slug, "line": planned[row.slug].line},
            )
        )
        return
    _check_parent(row, organisation, actor, planned)


def _check_parent(
    row: TreeRow, organisation: Organisation, actor: User, planned: dict
) -> None:
    if not row.parent_slug:
        if not is_organisation_admin(actor, organisation):
            row.errors.append(
                ("path", _("Only the organisation's admins add top-level groups."))
            )
        return
    parent = Group.objects.filter(
        slug=row.parent_slug, organisation=organisation
    ).first()
    if parent is None:
        if row.parent_slug not in planned:
            row.errors.append(
                (
                    "path",
                    _("No group “%(slug)s” to put it under.")
                    % {"slug": row.parent_slug},
                )
            )
        return
    if parent.archived_at is not None:
        row.errors.append(
            ("path", _("“%(slug)s” is archived.") % {"slug": parent.slug})
        )
    elif not viewer_for(actor, parent).can_manage:
        row.errors.append(
            ("path", _("You do not organise “%(slug)s”.") % {"slug": parent.slug})
        )


def group_tree_plan(
    *, actor: User, organisation: Organisation, data: bytes
) -> TreePlan:
    """What applying the file would do, and every problem with its line and column."""
    try:
        rows, file_errors = _read_rows(_decode(data))
    except ValidationError as error:
        return TreePlan(rows=[], file_errors=list(error.messages))
    except csv.Error as error:
        return TreePlan(
            rows=[], file_errors=[_("Not a readable CSV file: %(e)s") % {"e": error}]
        )
    planned: dict[str, TreeRow] = {}
    for row in rows:
        planned.setdefault(row.slug, row)  # the first line naming a group owns it
    for row in rows:
        if not row.errors:
            _check(row, organisation, actor, planned)
    return TreePlan(rows=rows, file_errors=file_errors)


def _depth(row: TreeRow) -> int:
    return row.path.count("/")


@transaction.atomic
def group_tree_apply(
    *, actor: User, organisation: Organisation, data: bytes
) -> list[Group]:
    """Create every new group of the file, parents first, in one transaction."""
    plan = group_tree_plan(actor=actor, organisation=organisation, data=data)
    if plan.problems:
        raise ValidationError(
            _("The file has %(count)d problem(s); nothing was created.")
            % {"count": plan.problems}
        )
    created: dict[str, Group] = {}
    for row in sorted(plan.rows, key=_depth):
        if row.action != "create":
            continue
        parent = created.get(row.parent_slug) or (
            Group.objects.get(slug=row.parent_slug) if row.parent_slug else None
        )
        try:
            created[row.slug] = group_create(
                actor=actor,
                organisation=organisation,
                name=row.name,
                slug=row.slug,
                kind=row.kind,
                parent=parent,
                description=row.description,
                join_policy=row.join_policy,
                is_public=row.is_public,
            )
        except (ValidationError, PermissionDenied) as error:
            raise ValidationError(
                _("Line %(line)d: %(problem)s")
                % {"line": row.line, "problem": " ".join(_messages(error))}
            ) from error
    return list(created.values())


def _messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return list(error.messages)
    return [str(error)]
