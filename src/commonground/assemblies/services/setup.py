"""Setting an assembly up: its settings, its quotas (entered, or computed from a CSV
of population shares), and opening recruitment.

Only the convening group's organisers do this, and settings and quotas change only
while the assembly is a draft: once people register against the quotas, they hold.
Every change is written to the group's log.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.discussion.richtext import render_markdown
from commonground.members.models import Group
from commonground.members.selectors import viewer_for

from .. import rules
from ..models import (
    Algorithm,
    Assembly,
    Category,
    Feature,
    Kind,
    Recruitment,
    Status,
)
from ..models.assembly import (
    DESCRIPTION_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from . import clock, locks
from .errors import AssemblyRefused

# Column names of the published pool file: no feature may be called so.
RESERVED_KEYS = frozenset({"id", "household"})
# Addresses the app's own pages use: no assembly may be called so.
RESERVED_SLUGS = frozenset({"groups", "confirm", "me"})
MAX_FEATURES = 12
MAX_CATEGORIES = 50
MAX_PANEL_SIZE = 2_000
SHARES_MAX_BYTES = 200_000


@dataclass(frozen=True)
class AssemblySettings:
    """Everything an organiser chooses about an assembly."""

    title: str
    question: str
    panel_size: int
    slug: str = ""
    description: str = ""
    kind: str = Kind.MEMBERS
    recruitment: str = Recruitment.OPEN_CALL
    invitation_size: int = 0
    one_per_household: bool = False
    exclusions: str = ""
    recruitment_closes_at: datetime | None = None
    draw_at: datetime | None = None
    deliberation_starts_at: datetime | None = None
    deliberation_ends_at: datetime | None = None
    algorithm: str = Algorithm.LEXIMIN
    seed_source: str = ""


SETTING_NAMES = tuple(f.name for f in fields(AssemblySettings))
CHOICES = {"kind": Kind, "recruitment": Recruitment, "algorithm": Algorithm}


@dataclass(frozen=True)
class CategorySpec:
    value: str
    label: str
    minimum: int
    maximum: int


@dataclass(frozen=True)
class FeatureSpec:
    key: str
    label: str
    categories: tuple[CategorySpec, ...] = field(default_factory=tuple)


def _one_line(text: str) -> str:
    return " ".join(str(text).replace("\x00", "").split())


def _clean(spec: AssemblySettings) -> dict[str, Any]:
    values = {name: getattr(spec, name) for name in SETTING_NAMES}
    errors: dict[str, str] = {}
    values["title"] = _one_line(values["title"])
    if not values["title"]:
        errors["title"] = _("Give the assembly a title.")
    elif len(values["title"]) > TITLE_MAX_LENGTH:
        errors["title"] = _("Keep the title under %(max)d characters.") % {
            "max": TITLE_MAX_LENGTH
        }
    values["question"] = _one_line(values["question"])
    if not values["question"]:
        errors["question"] = _("Ask the question the assembly answers.")
    elif len(values["question"]) > QUESTION_MAX_LENGTH:
        errors["question"] = _("Keep the question under %(max)d characters.") % {
            "max": QUESTION_MAX_LENGTH
        }
    values["description"] = str(values["description"]).replace("\x00", "").strip()
    if len(values["description"]) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = _("Keep the description under %(max)d characters.") % {
            "max": DESCRIPTION_MAX_LENGTH
        }
    values["exclusions"] = str(values["exclusions"]).replace("\x00", "").strip()
    size = values["panel_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        errors["panel_size"] = _("The panel needs at least one seat.")
    elif size > MAX_PANEL_SIZE:
        errors["panel_size"] = _("A panel has at most %(max)d seats.") % {
            "max": MAX_PANEL_SIZE
        }
    for name, choices in CHOICES.items():
        if values[name] not in choices.values:
            errors[name] = _("Choose one of the offered options.")
    if values["recruitment"] == Recruitment.INVITATION:
        if values["kind"] != Kind.MEMBERS:
            errors["recruitment"] = _(
                "Only a members' assembly can invite a sample of members."
            )
        elif not values["invitation_size"] or values["invitation_size"] < 1:
            errors["invitation_size"] = _("Say how many members to invite.")
    else:
        values["invitation_size"] = 0
    values["seed_source"] = str(values["seed_source"]).replace("\x00", "").strip()
    order = [
        ("recruitment_closes_at", values["recruitment_closes_at"]),
        ("draw_at", values["draw_at"]),
        ("deliberation_starts_at", values["deliberation_starts_at"]),
        ("deliberation_ends_at", values["deliberation_ends_at"]),
    ]
    known = [(name, when) for name, when in order if when is not None]
    for (_first, earlier), (later_name, later) in zip(known, known[1:], strict=False):
        if later < earlier:
            errors[later_name] = _(
                "The timetable runs in order: recruitment closes, the draw, then "
                "deliberation starts and ends."
            )
            break
    if errors:
        raise ValidationError(errors)
    return values


def _require_manager(actor: Any, assembly: Assembly) -> None:
    if not rules.can_manage(viewer_for(actor, assembly.group)):
        raise PermissionDenied(_("Only the group's organisers can run its assemblies."))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _unique_slug(wanted: str, title: str) -> str:
    base = slugify(wanted or title)[:70] or "assembly"
    if base in RESERVED_SLUGS:
        base = f"{base}-assembly"
    slug, n = base, 1
    while Assembly.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def assembly_create(
    *, actor: Any, group: Group, settings: AssemblySettings
) -> Assembly:
    """Create a draft assembly convened by ``group``."""
    if not rules.can_create_assembly(viewer_for(actor, group)):
        raise PermissionDenied(
            _("Only the group's organisers can create an assembly here.")
        )
    values = _clean(settings)
    if (
        values["slug"]
        and Assembly.objects.filter(slug=slugify(values["slug"])).exists()
    ):
        raise ValidationError({"slug": _("Another assembly has this address.")})
    values["slug"] = _unique_slug(values["slug"], values["title"])
    try:
        with transaction.atomic():
            assembly = Assembly.objects.create(
                group=group,
                created_by=actor,
                description_html=str(render_markdown(values["description"]))
                if values["description"]
                else "",
                **values,
            )
    except IntegrityError:
        raise ValidationError(
            {"slug": _("Another assembly has this address.")}
        ) from None
    audit_record(
        actor=actor,
        action="assembly.created",
        target=assembly,
        group=group,
        data={
            name: _jsonable(values[name])
            for name in SETTING_NAMES
            if name not in {"description", "exclusions"}
        },
    )
    return assembly


@transaction.atomic
def assembly_update(
    *, actor: Any, assembly: Assembly, settings: AssemblySettings
) -> Assembly:
    """Change settings while a draft; each change is logged with old and new value.

    After recruitment opens only the timetable, the algorithm and the announced
    source of the random number may change, until the pool is frozen.
    """
    assembly = locks.assembly_for_update(assembly.pk)
    _require_manager(actor, assembly)
    values = _clean(settings)
    values["slug"] = slugify(values["slug"]) or assembly.slug
    if values["slug"] in RESERVED_SLUGS:
        raise ValidationError({"slug": _("This address is taken by the site.")})
    if assembly.status == Status.DRAFT:
        changeable = set(SETTING_NAMES)
    elif assembly.status == Status.RECRUITING:
        changeable = {
            "recruitment_closes_at",
            "draw_at",
            "deliberation_starts_at",
            "deliberation_ends_at",
            "algorithm",
            "seed_source",
            "description",
        }
    else:
        changeable = {"deliberation_starts_at", "deliberation_ends_at", "description"}
    changes: dict[str, list[Any]] = {}
    for name in SETTING_NAMES:
        old, new = getattr(assembly, name), values[name]
        if old == new:
            continue
        if name not in changeable:
            raise AssemblyRefused(
                _("This setting can no longer change: %(name)s.")
                % {
                    "name": str(
                        getattr(Assembly._meta.get_field(name), "verbose_name", name)
                    )
                }
            )
        if (
            name == "slug"
            and Assembly.objects.filter(slug=new).exclude(pk=assembly.pk).exists()
        ):
            raise ValidationError({"slug": _("Another assembly has this address.")})
        setattr(assembly, name, new)
        changes[name] = [_jsonable(old), _jsonable(new)]
    if not changes:
        return assembly
    if "description" in changes:
        assembly.description_html = (
            str(render_markdown(assembly.description)) if assembly.description else ""
        )
        changes["description"] = ["…", "…"]
    assembly.save()
    audit_record(
        actor=actor,
        action="assembly.setting_changed",
        target=assembly,
        group=assembly.group,
        data={"changes": changes},
    )
    return assembly


def _check_quotas(specs: list[FeatureSpec], panel_size: int) -> None:
    if not specs:
        raise ValidationError(_("Give at least one feature with its categories."))
    if len(specs) > MAX_FEATURES:
        raise ValidationError(_("At most %(max)d features.") % {"max": MAX_FEATURES})
    keys: set[str] = set()
    for spec in specs:
        where = spec.label or spec.key
        if not spec.key or spec.key != slugify(spec.key) or spec.key in RESERVED_KEYS:
            raise ValidationError(
                _(
                    "Feature %(name)s: its key must be lower-case letters, digits "
                    "and hyphens, and not 'id' or 'household'."
                )
                % {"name": where}
            )
        if spec.key in keys:
            raise ValidationError(
                _("Two features have the key %(key)s.") % {"key": spec.key}
            )
        keys.add(spec.key)
        if not spec.categories:
            raise ValidationError(
                _("Feature %(name)s has no categories.") % {"name": where}
            )
        if len(spec.categories) > MAX_CATEGORIES:
            raise ValidationError(
                _("Feature %(name)s has more than %(max)d categories.")
                % {"name": where, "max": MAX_CATEGORIES}
            )
        values: set[str] = set()
        for category in spec.categories:
            label = f"{where}: {category.label or category.value}"
            if not category.value or category.value != slugify(category.value):
                raise ValidationError(
                    _(
                        "%(name)s: the value key must be lower-case letters, digits "
                        "and hyphens."
                    )
                    % {"name": label}
                )
            if category.value in values:
                raise ValidationError(
                    _("Feature %(name)s has the value %(value)s twice.")
                    % {"name": where, "value": category.value}
                )
            values.add(category.value)
            if category.minimum < 0 or category.maximum < category.minimum:
                raise ValidationError(
                    _("%(name)s: the minimum must be between 0 and the maximum.")
                    % {"name": label}
                )
            if category.maximum > panel_size:
                raise ValidationError(
                    _("%(name)s: the maximum is more than the %(size)d seats.")
                    % {"name": label, "size": panel_size}
                )
        if sum(c.minimum for c in spec.categories) > panel_size:
            raise ValidationError(
                _(
                    "Feature %(name)s: the minimums add up to more than the "
                    "%(size)d seats."
                )
                % {"name": where, "size": panel_size}
            )
        if sum(c.maximum for c in spec.categories) < panel_size:
            raise ValidationError(
                _(
                    "Feature %(name)s: the maximums add up to fewer than the "
                    "%(size)d seats."
                )
                % {"name": where, "size": panel_size}
            )


@transaction.atomic
def quotas_set(*, actor: Any, assembly: Assembly, features: list[FeatureSpec]) -> None:
    """Replace the assembly's features and categories (while it is a draft)."""
    assembly = locks.assembly_for_update(assembly.pk)
    _require_manager(actor, assembly)
    if assembly.status != Status.DRAFT:
        raise AssemblyRefused(_("The quotas are fixed once recruitment has opened."))
    _check_quotas(features, assembly.panel_size)
    Feature.objects.filter(assembly=assembly).delete()
    for order, spec in enumerate(features):
        feature = Feature.objects.create(
            assembly=assembly, key=spec.key, label=spec.label or spec.key, order=order
        )
        Category.objects.bulk_create(
            Category(
                feature=feature,
                value=c.value,
                label=c.label or c.value,
                minimum=c.minimum,
                maximum=c.maximum,
                order=i,
            )
            for i, c in enumerate(spec.categories)
        )
    audit_record(
        actor=actor,
        action="assembly.quotas_changed",
        target=assembly,
        group=assembly.group,
        data={
            "quotas": [
                [spec.key, c.value, c.minimum, c.maximum]
                for spec in features
                for c in spec.categories
            ]
        },
    )


def quotas_from_shares(text: str, panel_size: int) -> list[FeatureSpec]:
    """Quotas from a CSV of population shares, for a panel of ``panel_size``.

    Columns: ``feature``, ``value``, ``share`` (a percentage such as ``48.5`` or
    ``48.5%``, or a fraction of 1; the shares of one feature are scaled to add up
    to 1), and optionally ``feature_label`` and ``value_label``. A value with share
    s of its feature gets between floor(s × seats) and ceil(s × seats) seats, so
    every feature can always be met. Errors name the line and the column.
    """
    if len(text.encode("utf-8")) > SHARES_MAX_BYTES:
        raise ValidationError(_("The file is too large (at most 200 kB)."))
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [name.strip().casefold() for name in next(reader)]
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except csv.Error as error:
        raise ValidationError(_("Line 1: %(error)s") % {"error": error}) from None
    for needed in ("feature", "value", "share"):
        if needed not in header:
            raise ValidationError(
                _("Line 1: the column '%(column)s' is missing.") % {"column": needed}
            )
    at = {name: header.index(name) for name in header}
    shares: dict[str, list[tuple[str, str, float]]] = {}
    feature_labels: dict[str, str] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise ValidationError(
                    _("Line %(line)d: %(found)d columns, expected %(expected)d.")
                    % {"line": line, "found": len(row), "expected": len(header)}
                )
            cell = {name: row[index].strip() for name, index in at.items()}
            key = slugify(cell["feature"])
            value = slugify(cell["value"])
            for column, slug in (("feature", key), ("value", value)):
                if not slug:
                    raise ValidationError(
                        _("Line %(line)d, column '%(column)s': it is empty.")
                        % {"line": line, "column": column}
                    )
            raw = cell["share"].rstrip("%").strip().replace(",", ".")
            try:
                share = float(raw)
            except ValueError:
                share = -1.0
            if not math.isfinite(share) or share < 0:
                raise ValidationError(
                    _(
                        "Line %(line)d, column 'share': '%(text)s' is not a "
                        "non-negative number."
                    )
                    % {"line": line, "text": cell["share"][:40]}
                )
            if key in RESERVED_KEYS:
                raise ValidationError(
                    _("Line %(line)d, column 'feature': '%(key)s' is reserved.")
                    % {"line": line, "key": key}
                )
            feature_labels.setdefault(key, cell.get("feature_label") or cell["feature"])
            entries = shares.setdefault(key, [])
            if any(existing == value for existing, _l, _s in entries):
                raise ValidationError(
                    _("Line %(line)d, column 'value': '%(value)s' appears twice.")
                    % {"line": line, "value": cell["value"][:40]}
                )
            entries.append((value, cell.get("value_label") or cell["value"], share))
    except csv.Error as error:
        raise ValidationError(
            _("Line %(line)d: %(error)s") % {"line": reader.line_num, "error": error}
        ) from None
    specs: list[FeatureSpec] = []
    for key, entries in shares.items():
        total = sum(share for _v, _l, share in entries)
        if total <= 0:
            raise ValidationError(
                _("Feature '%(key)s': the shares add up to nothing.") % {"key": key}
            )
        categories = []
        for value, label, share in entries:
            expected = share / total * panel_size
            low = math.floor(expected + 1e-9)
            high = math.ceil(expected - 1e-9)
            categories.append(CategorySpec(value, label[:120], low, high))
        specs.append(FeatureSpec(key, feature_labels[key][:120], tuple(categories)))
    return specs


@transaction.atomic
def recruitment_open(*, actor: Any, assembly: Assembly) -> Assembly:
    """Open recruitment: registration (or the invitation) starts, quotas hold."""
    assembly = locks.assembly_for_update(assembly.pk)
    _require_manager(actor, assembly)
    if assembly.status != Status.DRAFT:
        raise AssemblyRefused(_("Recruitment is already open."))
    if not Feature.objects.filter(assembly=assembly).exists():
        raise AssemblyRefused(_("Set the quotas before opening recruitment."))
    closes = assembly.recruitment_closes_at
    if closes is not None and closes <= clock.now():
        raise AssemblyRefused(
            _("The recruitment closing time has passed: choose a later one first.")
        )
    assembly.status = Status.RECRUITING
    assembly.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="assembly.recruitment_opened",
        target=assembly,
        group=assembly.group,
    )
    return assembly
