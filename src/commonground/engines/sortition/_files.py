"""Reading the quotas and people CSV files, with file, line and field in errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from ._input_limits import MAX_QUOTA_NUMBER, check_file, quoted
from ._model import Person, Quota, SortitionInputError

#: accepted quota headers: ours, and the one of the Nature paper's data
QUOTA_HEADERS = (
    ("feature", "value", "min", "max"),
    ("category", "feature", "min", "max"),
)


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) of every non-blank data row."""
    source = str(path)
    check_file(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise SortitionInputError(
            f"cannot read file ({error.strerror})", source=source
        ) from None
    except UnicodeDecodeError:
        raise SortitionInputError("not UTF-8 text", source=source) from None
    if "\x00" in text:
        raise SortitionInputError(
            "binary data (a NUL character): not a CSV text file", source=source
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for fields in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in fields):
                continue
            if header is None:
                header = [cell.strip() for cell in fields]
                continue
            rows.append((line, [cell.strip() for cell in fields]))
    except csv.Error as error:
        raise SortitionInputError(
            f"malformed CSV ({error})", source=source, line=reader.line_num
        ) from None
    if header is None:
        raise SortitionInputError("the file is empty (no header row)", source=source)
    seen: set[str] = set()
    for name in header:
        if not name:
            raise SortitionInputError(
                "a column has an empty name", source=source, line=1
            )
        if name.casefold() in seen:
            raise SortitionInputError(
                "column name used twice", source=source, line=1, field=name
            )
        seen.add(name.casefold())
    for line, fields in rows:
        if len(fields) != len(header):
            raise SortitionInputError(
                f"{len(fields)} fields where the header has {len(header)}",
                source=source,
                line=line,
            )
    return header, rows


def _integer(text: str, source: str, line: int, field: str) -> int:
    if len(text) > len(str(MAX_QUOTA_NUMBER)) + 1:  # before Python's digit limit
        raise SortitionInputError(
            f"{quoted(text)} is not a whole number up to {MAX_QUOTA_NUMBER:,}",
            source=source,
            line=line,
            field=field,
        )
    try:
        value = int(text)
    except ValueError:
        raise SortitionInputError(
            f"{quoted(text)} is not a whole number",
            source=source,
            line=line,
            field=field,
        ) from None
    if value < 0:
        raise SortitionInputError(
            "must not be negative", source=source, line=line, field=field
        )
    if value > MAX_QUOTA_NUMBER:
        raise SortitionInputError(
            f"must be at most {MAX_QUOTA_NUMBER:,}",
            source=source,
            line=line,
            field=field,
        )
    return value


def read_quotas(path: str | Path) -> list[Quota]:
    """Quotas from ``feature,value,min,max`` (or ``category,feature,min,max``)."""
    path = Path(path)
    source = str(path)
    header, rows = _rows(path)
    lowered = tuple(name.casefold() for name in header)
    for expected in QUOTA_HEADERS:
        if set(expected) <= set(lowered):
            feature_at, value_at, min_at, max_at = (
                lowered.index(name) for name in expected
            )
            feature_name, value_name = header[feature_at], header[value_at]
            break
    else:
        raise SortitionInputError(
            "the header must have the columns feature,value,min,max "
            "(or category,feature,min,max)",
            source=source,
            line=1,
        )
    quotas: list[Quota] = []
    seen: dict[tuple[str, str], int] = {}
    for line, fields in rows:
        feature, value = fields[feature_at], fields[value_at]
        if not feature:
            raise SortitionInputError(
                "empty", source=source, line=line, field=feature_name
            )
        if not value:
            raise SortitionInputError(
                "empty", source=source, line=line, field=value_name
            )
        low = _integer(fields[min_at], source, line, header[min_at])
        high = _integer(fields[max_at], source, line, header[max_at])
        if high < low:
            raise SortitionInputError(
                f"max {high} is below min {low}",
                source=source,
                line=line,
                field=header[max_at],
            )
        key = (feature, value)
        if key in seen:
            raise SortitionInputError(
                f"{feature}={value} already has a quota on line {seen[key]}",
                source=source,
                line=line,
                field=value_name,
            )
        seen[key] = line
        quotas.append(Quota(feature, value, low, high))
    if not quotas:
        raise SortitionInputError("no quotas in the file", source=source)
    return quotas


def read_people(
    path: str | Path,
    quotas: Sequence[Quota],
    *,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
) -> list[Person]:
    """People with their feature values, checked against the quotas.

    The id is ``id_column`` when given, else a column named ``id`` when there is
    one, else the row number (1 for the first person, as in the paper's data).
    People with equal values in all ``household_columns`` share a household;
    a person whose household columns are all blank is in a household alone.
    """
    path = Path(path)
    source = str(path)
    header, rows = _rows(path)
    lowered = [name.casefold() for name in header]
    id_at: int | None = None
    if id_column is not None:
        if id_column.casefold() not in lowered:
            raise SortitionInputError(
                "no such id column", source=source, line=1, field=id_column
            )
        id_at = lowered.index(id_column.casefold())
    elif "id" in lowered:
        id_at = lowered.index("id")
    values_of: dict[str, set[str]] = {}
    for quota in quotas:
        values_of.setdefault(quota.feature, set()).add(quota.value)
    feature_at: dict[str, int] = {}
    for feature in values_of:
        if feature.casefold() not in lowered:
            raise SortitionInputError(
                "the quotas use this feature but the people file has no such column",
                source=source,
                line=1,
                field=feature,
            )
        feature_at[feature] = lowered.index(feature.casefold())
    house_at: list[int] = []
    for column in household_columns:
        if column.casefold() not in lowered:
            raise SortitionInputError(
                "no such household column", source=source, line=1, field=column
            )
        house_at.append(lowered.index(column.casefold()))
    people: list[Person] = []
    first_line: dict[str, int] = {}
    for number, (line, fields) in enumerate(rows, start=1):
        if id_at is None:
            person_id = str(number)
        else:
            person_id = fields[id_at]
            if not person_id:
                raise SortitionInputError(
                    "empty id", source=source, line=line, field=header[id_at]
                )
        if person_id in first_line:
            raise SortitionInputError(
                f"id {quoted(person_id)} already used on line {first_line[person_id]}",
                source=source,
                line=line,
                field=header[id_at] if id_at is not None else "id",
            )
        first_line[person_id] = line
        features: dict[str, str] = {}
        for feature, at in feature_at.items():
            value = fields[at]
            if value not in values_of[feature]:
                known = sorted(values_of[feature])
                shown = ", ".join(quoted(v)[1:-1] for v in known[:10])
                more = f" and {len(known) - 10} more" if len(known) > 10 else ""
                raise SortitionInputError(
                    f"value {quoted(value)} has no quota (known: {shown}{more})",
                    source=source,
                    line=line,
                    field=header[at],
                )
            features[feature] = value
        household: str | None = None
        if house_at:
            parts = [fields[at].casefold() for at in house_at]
            if any(parts):
                household = "\x1f".join(parts)
        people.append(Person(id=person_id, features=features, household=household))
    if not people:
        raise SortitionInputError("no people in the file", source=source)
    return people
