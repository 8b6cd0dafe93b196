"""Ballot file readers (spec §6): BLT, simple CSV (ranked or grid), PrefLib.

``load_ballots`` reads and validates a whole file before anything is counted;
any problem raises :class:`TallyInputError` naming file, location and field.
CDF JSON and ES&S xlsx files are read by the ``rctab`` subpackage's readers.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._election import (
    MAX_BALLOT_WEIGHT,
    BallotTable,
    Election,
    Ranking,
    aggregate_matrix,
)
from ._errors import TallyConfigurationError, TallyInputError

Progress = Callable[[int, int], None]
FORMATS = ("auto", "blt", "csv", "cdf-json", "ess-xlsx", "preflib")

_RANK_HEADER = re.compile(r"^\s*(?:rank|choice)\s*(\d+)\s*$", re.IGNORECASE)


def load_ballots(
    path: str | Path,
    input_format: str = "auto",
    contest: str | None = None,
    *,
    progress: Progress | None = None,
) -> Election:
    """Read a ballot file into an :class:`Election`.

    ``input_format`` is ``blt``, ``csv``, ``cdf-json``, ``ess-xlsx``,
    ``preflib`` or ``auto`` (by extension, then by content: a first line
    ``C S`` is BLT).  ``contest`` picks the contest of a CDF file holding
    several.  ``progress(done_bytes, total_bytes)`` is called while reading.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".blt", delete=False) as f:
    ...     _ = f.write('2 1\\n3 1 2 0\\n1 2 0\\n0\\n"Ann"\\n"Bo"\\n"Demo"\\n')
    >>> load_ballots(f.name).candidates
    ('Ann', 'Bo')
    >>> os.unlink(f.name)
    """
    path = Path(path)
    if input_format not in FORMATS:
        raise TallyConfigurationError(
            path, "option", "input-format", f"unknown format {input_format!r}"
        )
    if not path.is_file():
        raise TallyInputError(path, "file", "path", "no such file")
    if input_format == "auto":
        input_format = _detect(path)
    if input_format == "cdf-json":
        return _rctab_reader("read_cdf_json", path, contest=contest)
    if input_format == "ess-xlsx":
        return _rctab_reader("read_ess_xlsx", path)
    data = _read_bytes(path, progress)
    if input_format == "blt":
        return read_blt(data, path)
    if input_format == "preflib":
        return read_preflib(data, path)
    return read_csv(data, path)


def _read_bytes(path: Path, progress: Progress | None) -> bytes:
    try:
        if progress is None:
            return path.read_bytes()
        total = path.stat().st_size
        chunks: list[bytes] = []
        done = 0
        with path.open("rb") as handle:
            while True:
                chunk = handle.read(1 << 22)
                if not chunk:
                    break
                chunks.append(chunk)
                done += len(chunk)
                progress(done, total)
        return b"".join(chunks)
    except OSError as error:
        raise TallyInputError(
            path, "file", "path", error.strerror or str(error)
        ) from None


def _rctab_reader(name: str, path: Path, **kwargs: Any) -> Election:
    try:
        from . import rctab
    except ImportError:
        rctab = None  # type: ignore[assignment]
    reader = getattr(rctab, name, None) if rctab is not None else None
    if reader is None:
        raise TallyConfigurationError(
            path, "file", "input-format", "this input format is not available"
        )
    election = reader(path, **kwargs)
    assert isinstance(election, Election)
    return election


def _detect(path: Path) -> str:
    suffix = path.suffix.lower()
    by_suffix = {
        ".blt": "blt",
        ".csv": "csv",
        ".json": "cdf-json",
        ".xlsx": "ess-xlsx",
        ".soi": "preflib",
        ".toc": "preflib",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise TallyInputError(
            path, "file", "path", error.strerror or str(error)
        ) from None
    text = head.decode("utf-8", "surrogateescape").lstrip("\ufeff")
    for line in text.splitlines():
        if line.strip():
            if re.fullmatch(r"\s*\d+\s+\d+\s*,?\s*", line):
                return "blt"
            break
    raise TallyInputError(
        path,
        "file",
        "input-format",
        "cannot tell the format from the name or content; use --input-format",
    )


def _decode(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


# ---------------------------------------------------------------------------
# BLT


def _unquote_tokens(line: str) -> list[str] | None:
    """Quoted tokens of a line (``""`` inside = one quote), or None if unquoted."""
    stripped = line.strip()
    if not stripped.startswith('"'):
        return None
    tokens: list[str] = []
    i = 0
    n = len(stripped)
    while i < n:
        while i < n and stripped[i] in " \t,":
            i += 1
        if i >= n:
            break
        if stripped[i] != '"':
            # Unquoted trailing text after quoted tokens: keep as a token.
            tokens.append(stripped[i:].strip())
            break
        i += 1
        buffer: list[str] = []
        while True:
            if i >= n:
                return None
            ch = stripped[i]
            if ch == '"':
                if i + 1 < n and stripped[i + 1] == '"':
                    buffer.append('"')
                    i += 2
                    continue
                i += 1
                break
            buffer.append(ch)
            i += 1
        tokens.append("".join(buffer))
    return tokens


def _blt_name(line: str) -> str:
    tokens = _unquote_tokens(line)
    if tokens:
        return tokens[0]
    text = line.strip()
    return text[:-1].rstrip() if text.endswith(",") else text


class _LineError(Exception):
    """A problem in one BLT ballot line; the caller adds the line number."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def read_blt(data: bytes, path: str | Path = "<blt>") -> Election:
    """Parse BLT (ERS/OpenSTV/Droop) ballot text; names are kept byte-exact."""
    text = _decode(data)
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    stripped = [line.strip() for line in raw_lines]
    total = len(stripped)

    def next_line(position: int) -> int:
        while position < total and not stripped[position]:
            position += 1
        return position

    last_line = total
    while last_line > 0 and not stripped[last_line - 1]:
        last_line -= 1
    position = next_line(0)
    if position >= total:
        raise TallyInputError(path, "line 1", "header", "the file is empty")
    number = position + 1
    parts = _clean(stripped[position]).split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise TallyInputError(
            path, f"line {number}", "header", "expected 'CANDIDATES SEATS'"
        )
    count, seats = int(parts[0]), int(parts[1])
    if count < 1:
        raise TallyInputError(path, f"line {number}", "header", "no candidates")
    if seats < 1 or seats > count:
        raise TallyInputError(
            path, f"line {number}", "seats", f"{seats} seats for {count} candidates"
        )
    nicknames: dict[str, int] = {}
    withdrawn: set[int] = set()
    tie_order: list[int] | None = None

    def candidate(token: str, field: str) -> int:
        if token in nicknames:
            return nicknames[token]
        if not token.isdigit():
            raise _LineError(field, f"{token!r} is not a candidate number")
        value = int(token)
        if not 1 <= value <= count:
            raise _LineError(
                field, f"candidate number {value} is out of range 1..{count}"
            )
        return value - 1

    # Option lines between the header and the ballots.
    position = next_line(position + 1)
    while position < total:
        number = position + 1
        line = _clean(stripped[position])
        try:
            if line.startswith("-"):
                for token in line.split():
                    if not re.fullmatch(r"-\d+", token):
                        raise _LineError("withdrawn", f"bad entry {token!r}")
                    withdrawn.add(candidate(token[1:], "withdrawn"))
            elif line.startswith("["):
                match = re.fullmatch(r"\[\s*(\w+)\s*(.*?)\s*\]", line)
                if not match:
                    raise _LineError("option", "unterminated [option] line")
                keyword, arguments = match.group(1).lower(), match.group(2).split()
                if keyword == "nick":
                    if len(arguments) != count:
                        raise _LineError(
                            "nick", f"{len(arguments)} nicknames for {count} candidates"
                        )
                    nicknames = {nick: i for i, nick in enumerate(arguments)}
                elif keyword == "withdrawn":
                    withdrawn.update(candidate(t, "withdrawn") for t in arguments)
                elif keyword == "tie":
                    tie_order = [candidate(t, "tie") for t in arguments]
                    if len(set(tie_order)) != len(tie_order):
                        raise _LineError("tie", "a candidate is listed twice")
                # Other options ([droop ...], [undeclared ...]) change no count.
            else:
                break
        except _LineError as error:
            raise TallyInputError(
                path, f"line {number}", error.field, error.message
            ) from None
        position = next_line(position + 1)
    start = position
    end = _terminator(stripped, start)
    if end is None:
        raise TallyInputError(
            path,
            f"line {max(last_line, 1)}",
            "ballots",
            "missing the 0 line that ends the ballots",
        )

    def parse(line: str) -> tuple[Ranking, int]:
        tokens = line.split()
        if tokens and tokens[0].startswith("("):
            tokens = tokens[1:]
        if not tokens:
            raise _LineError("ballot", "empty ballot line")
        weight_text = tokens[0]
        if not weight_text.isdigit() or not 0 < int(weight_text) <= MAX_BALLOT_WEIGHT:
            raise _LineError(
                "weight",
                f"{weight_text!r} is not a positive integer up to {MAX_BALLOT_WEIGHT}",
            )
        if tokens[-1] != "0":
            raise _LineError("ballot", "the ballot does not end with 0")
        groups: list[tuple[int, ...]] = []
        for token in tokens[1:-1]:
            if token == "0":
                raise _LineError("ballot", "0 before the end of the ballot")
            if token == "-":
                groups.append(())
                continue
            groups.append(
                tuple(candidate(part, "preference") for part in token.split("="))
            )
        return tuple(groups), int(weight_text)

    # Identical ballot lines are parsed once: large files repeat them often.
    ballots: dict[Ranking, int] = {}
    for line, times in Counter(stripped[start:end]).items():
        if not line:
            continue
        try:
            key, weight = parse(_clean(line))
        except _LineError as error:
            where = stripped.index(line, start) + 1
            raise TallyInputError(
                path, f"line {where}", error.field, error.message
            ) from None
        ballots[key] = ballots.get(key, 0) + weight * times
    names: list[str] = []
    position = next_line(end + 1)
    for _ in range(count):
        if position >= total:
            raise TallyInputError(
                path,
                f"line {last_line}",
                "candidates",
                f"{len(names)} candidate names for {count} candidates",
            )
        name = _blt_name(_strip_comma(raw_lines[position]))
        if name in names:
            raise TallyInputError(
                path, f"line {position + 1}", "candidate", f"duplicate name {name!r}"
            )
        names.append(name)
        position = next_line(position + 1)
    title = ""
    if position < total:
        title = _blt_name(_strip_comma(raw_lines[position]))
    return Election(
        tuple(names),
        ballots,
        withdrawn=frozenset(withdrawn),
        title=title,
        tie_order=tuple(tie_order) if tie_order is not None else None,
        seats=seats,
        source_file=Path(str(path)).name,
        source_format="blt",
    )


def _clean(line: str) -> str:
    """A stripped line without one trailing comma."""
    return line[:-1].rstrip() if line.endswith(",") else line


def _terminator(stripped: list[str], start: int) -> int | None:
    """Index of the ``0`` line that ends the ballots, or None."""
    found = [_index(stripped, text, start) for text in ("0", "0,")]
    hits = [i for i in found if i is not None]
    if hits:
        return min(hits)
    for index in range(start, len(stripped)):
        if _clean(stripped[index]) == "0":
            return index
    return None


def _index(items: list[str], value: str, start: int) -> int | None:
    try:
        return items.index(value, start)
    except ValueError:
        return None


def _strip_comma(line: str) -> str:
    stripped = line.rstrip()
    return stripped[:-1] if stripped.endswith(",") else line


# ---------------------------------------------------------------------------
# Simple CSV


class _Rows:
    """Distinct data rows of a CSV file with their multiplicity.

    Identical lines are counted before they are parsed, so a million-line file
    with a few thousand distinct ballots parses only those few thousand.
    """

    def __init__(
        self,
        header: list[str],
        counted: dict[tuple[str, ...], int],
        locate: Callable[[tuple[str, ...]], int],
    ) -> None:
        self.header = header
        self.counted = counted
        self._locate = locate

    def line_of(self, key: tuple[str, ...]) -> int:
        """1-based row number where ``key`` first appears (only on errors)."""
        return self._locate(key)


def _csv_rows(data: bytes, path: str | Path) -> _Rows:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b'"' not in data:
        # No quoting anywhere: a line is a record and commas separate cells.
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        header_line = lines[0].decode("utf-8", "surrogateescape") if lines else ""
        body = lines[1:]
        counted: dict[bytes, int] = Counter(body)
        parsed: dict[tuple[str, ...], int] = {}
        raw_of: dict[tuple[str, ...], bytes] = {}
        for raw, times in counted.items():
            cells = tuple(raw.decode("utf-8", "surrogateescape").split(","))
            parsed[cells] = parsed.get(cells, 0) + times
            raw_of.setdefault(cells, raw)
        header = header_line.split(",") if header_line else []
        return _Rows(header, parsed, lambda key: body.index(raw_of[key]) + 2)
    text = data.decode("utf-8", "surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        all_rows = [tuple(row) for row in reader]
    except csv.Error as error:
        raise TallyInputError(
            path, f"line {reader.line_num}", "csv", str(error)
        ) from None
    header = list(all_rows[0]) if all_rows else []
    body_rows = all_rows[1:]
    return _Rows(header, Counter(body_rows), lambda key: body_rows.index(key) + 2)


def read_csv(data: bytes, path: str | Path = "<csv>") -> Election:
    """Read a simple CSV: ranked (``rank N`` columns) or a grid of integers."""
    rows = _csv_rows(data, path)
    if not rows.header or not any(cell.strip() for cell in rows.header):
        raise TallyInputError(path, "line 1", "header", "a header row is required")
    header = [cell.strip() for cell in rows.header]
    rank_columns: list[tuple[int, int]] = []
    weight_column = -1
    others: list[int] = []
    for column, title in enumerate(header):
        match = _RANK_HEADER.match(title)
        lowered = title.lower()
        if match:
            rank_columns.append((int(match.group(1)), column))
        elif lowered == "weight":
            weight_column = column
        elif lowered != "id":
            others.append(column)
    if rank_columns and others:
        title = header[others[0]]
        raise TallyInputError(
            path,
            f"row 1, column {others[0] + 1}",
            "header",
            f"{title!r} is neither a rank column nor weight/id",
        )
    if not rank_columns and not others:
        raise TallyInputError(path, "row 1", "header", "no candidate or rank columns")
    if rank_columns:
        return _read_ranked_rows(rows, path, rank_columns, weight_column)
    return _read_grid_rows(rows, path, header, others, weight_column)


def _checked_rows(
    rows: _Rows, path: str | Path, weight_column: int
) -> list[tuple[tuple[str, ...], int, int]]:
    """(cells, total weight, multiplicity) per distinct row; blank rows dropped."""
    width = len(rows.header)
    checked = []
    for cells, times in rows.counted.items():
        if len(cells) != width:
            if not any(cell.strip() for cell in cells):
                continue
            raise TallyInputError(
                path,
                f"row {rows.line_of(cells)}",
                "columns",
                f"{len(cells)} cells where the header has {width}",
            )
        weight = 1
        if weight_column >= 0:
            text = cells[weight_column].strip()
            if not text.isdigit() or not 0 < int(text) <= MAX_BALLOT_WEIGHT:
                raise TallyInputError(
                    path,
                    f"row {rows.line_of(cells)}, column {weight_column + 1}",
                    "weight",
                    f"{text!r} is not a positive integer up to {MAX_BALLOT_WEIGHT}",
                )
            weight = int(text)
        checked.append((cells, weight * times, times))
    return checked


def _read_ranked_rows(
    rows: _Rows,
    path: str | Path,
    rank_columns: list[tuple[int, int]],
    weight_column: int,
) -> Election:
    rank_columns.sort()
    numbers = [r for r, _ in rank_columns]
    if len(set(numbers)) != len(numbers):
        raise TallyInputError(path, "row 1", "header", "a rank number appears twice")
    columns = [c for _, c in rank_columns]
    names: dict[str, int] = {}
    matrix_rows: list[list[int]] = []
    row_weights: list[int] = []
    # Candidates are numbered in order of first appearance in the file: the
    # distinct rows keep the order in which they first appear.
    for cells, weight, _ in _checked_rows(rows, path, weight_column):
        marks: list[int] = []
        for column in columns:
            name = cells[column].strip()
            if not name:
                marks.append(-1)
                continue
            index = names.get(name)
            if index is None:
                index = names[name] = len(names)
            marks.append(index)
        matrix_rows.append(marks)
        row_weights.append(weight)
    if not names:
        raise TallyInputError(path, "row 2", "ballots", "no candidate is named")
    # One candidate per rank: keep the ballots as a padded matrix, so counting
    # uses the vectorised paths and never builds a tuple per ballot.
    matrix, weights = aggregate_matrix(
        np.array(matrix_rows, np.int64).reshape(len(matrix_rows), len(columns)),
        np.array(row_weights, np.int64),
        len(names),
    )
    return Election(
        tuple(names),
        BallotTable(matrix=matrix, weights=weights),
        source_file=Path(str(path)).name,
        source_format="csv",
    )


def _read_grid_rows(
    rows: _Rows,
    path: str | Path,
    header: list[str],
    columns: list[int],
    weight_column: int,
) -> Election:
    names = [header[c] for c in columns]
    for position, name in enumerate(names):
        if not name:
            raise TallyInputError(
                path,
                f"row 1, column {columns[position] + 1}",
                "header",
                "blank candidate name",
            )
    if len(set(names)) != len(names):
        raise TallyInputError(path, "row 1", "header", "a candidate appears twice")
    ballots: dict[tuple[int, ...], int] = {}
    for cells, weight, _ in _checked_rows(rows, path, weight_column):
        values: list[int] = []
        for column in columns:
            cell = cells[column].strip()
            if not cell:
                values.append(0)
                continue
            try:
                values.append(int(cell))
            except ValueError:
                raise TallyInputError(
                    path,
                    f"row {rows.line_of(cells)}, column {column + 1}",
                    header[column],
                    f"{cell!r} is not an integer",
                ) from None
        key = tuple(values)
        ballots[key] = ballots.get(key, 0) + weight
    return Election(
        tuple(names),
        ballots,
        kind="grid",
        source_file=Path(str(path)).name,
        source_format="csv",
    )


# ---------------------------------------------------------------------------
# PrefLib .soi / .toc


def read_preflib(data: bytes, path: str | Path = "<preflib>") -> Election:
    """Read PrefLib strict-order-incomplete or ties-order-complete data."""
    text = _decode(data)
    names: dict[int, str] = {}
    ballots: dict[Ranking, int] = {}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    pattern = re.compile(r"#\s*ALTERNATIVE NAME\s+(\d+)\s*:\s?(.*)$")
    entries: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            match = pattern.match(line)
            if match:
                label, name = int(match.group(1)), match.group(2).rstrip()
                if label in names or name in names.values():
                    raise TallyInputError(
                        path,
                        f"line {number}",
                        "alternative",
                        f"alternative {label} ({name!r}) is named twice",
                    )
                names[label] = name
            continue
        entries.append((number, line))
    if not names:
        raise TallyInputError(path, "line 1", "header", "no '# ALTERNATIVE NAME' lines")
    order = sorted(names)
    position = {label: i for i, label in enumerate(order)}
    for number, line in entries:
        count_text, sep, ranking_text = line.partition(":")
        if not sep or not count_text.strip().isdigit() or int(count_text) <= 0:
            raise TallyInputError(
                path, f"line {number}", "count", "expected 'COUNT: a,b,{c,d}'"
            )
        groups: list[tuple[int, ...]] = []
        for token in re.findall(r"\{[^}]*\}|[^,{}\s]+", ranking_text):
            labels = token.strip("{}").split(",") if token.startswith("{") else [token]
            group: list[int] = []
            for label in labels:
                label = label.strip()
                if not label.isdigit() or int(label) not in position:
                    raise TallyInputError(
                        path,
                        f"line {number}",
                        "preference",
                        f"{label!r} is not an alternative",
                    )
                group.append(position[int(label)])
            groups.append(tuple(group))
        key = tuple(groups)
        ballots[key] = ballots.get(key, 0) + int(count_text)
    return Election(
        tuple(names[label] for label in order),
        ballots,
        source_file=Path(str(path)).name,
        source_format="preflib",
    )
