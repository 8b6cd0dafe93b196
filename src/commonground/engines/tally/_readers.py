"""Ballot file readers (spec §6): ``load_ballots``, simple CSV, PrefLib.

``load_ballots`` reads and validates a whole file before anything is counted;
any problem raises :class:`TallyInputError` naming file, location and field.
BLT files are read by :mod:`._blt`; CDF JSON and ES&S xlsx files by the
``rctab`` subpackage's readers.
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

from ._blt import decode_text, read_blt
from ._election import (
    MAX_BALLOT_WEIGHT,
    BallotTable,
    Election,
    Ranking,
    aggregate_matrix,
)
from ._errors import TallyConfigurationError, TallyInputError, quoted
from ._limits import MAX_INPUT_BYTES, MAX_RANK_NUMBER, parse_natural

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
    if not path.exists():
        raise TallyInputError(path, "file", "path", "no such file")
    if not path.is_file():
        raise TallyInputError(path, "file", "path", "not a regular file")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise TallyInputError(
            path,
            "file",
            "size",
            f"{size:,} bytes; ballot files are read up to {MAX_INPUT_BYTES:,} "
            "bytes (docs/reliability.md)",
        )
    if input_format == "auto":
        input_format = _detect(path)
    if input_format == "cdf-json":
        return _rctab_reader("read_cdf_json", path, contest=contest)
    if input_format == "ess-xlsx":
        return _rctab_reader("read_ess_xlsx", path)
    data = _read_bytes(path, progress)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TallyInputError(
            path,
            f"byte {nul + 1}",
            "file",
            f"binary data (a NUL byte): not a {input_format} text file",
        )
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
            rank = parse_natural(match.group(1), MAX_RANK_NUMBER)
            if rank is None:
                raise TallyInputError(
                    path,
                    f"row 1, column {column + 1}",
                    "header",
                    f"rank numbers run up to {MAX_RANK_NUMBER:,}",
                )
            rank_columns.append((rank, column))
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
            parsed = parse_natural(text, MAX_BALLOT_WEIGHT)
            if not parsed:
                raise TallyInputError(
                    path,
                    f"row {rows.line_of(cells)}, column {weight_column + 1}",
                    "weight",
                    f"{quoted(text)} is not a positive integer up to "
                    f"{MAX_BALLOT_WEIGHT}",
                )
            weight = parsed
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
            value = _grid_value(cell)
            if value is None:
                raise TallyInputError(
                    path,
                    f"row {rows.line_of(cells)}, column {column + 1}",
                    header[column][:40],
                    f"{quoted(cell)} is not an integer from "
                    f"-{MAX_RANK_NUMBER:,} to {MAX_RANK_NUMBER:,}",
                )
            values.append(value)
        key = tuple(values)
        ballots[key] = ballots.get(key, 0) + weight
    return Election(
        tuple(names),
        ballots,
        kind="grid",
        source_file=Path(str(path)).name,
        source_format="csv",
    )


def _grid_value(cell: str) -> int | None:
    """A grid cell (a score or a rank number) as an integer within
    +-MAX_RANK_NUMBER, or None."""
    negative = cell.startswith("-")
    value = parse_natural(
        cell[1:] if negative or cell.startswith("+") else cell, MAX_RANK_NUMBER
    )
    if value is None:
        return None
    return -value if negative else value


# ---------------------------------------------------------------------------
# PrefLib .soi / .toc


def read_preflib(data: bytes, path: str | Path = "<preflib>") -> Election:
    """Read PrefLib strict-order-incomplete or ties-order-complete data."""
    text = decode_text(data)
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
                label = parse_natural(match.group(1), MAX_RANK_NUMBER)
                name = match.group(2).rstrip()
                if label is None:
                    raise TallyInputError(
                        path,
                        f"line {number}",
                        "alternative",
                        f"alternatives are numbered up to {MAX_RANK_NUMBER:,}",
                    )
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
        times = parse_natural(count_text.strip(), MAX_BALLOT_WEIGHT)
        if not sep or not times:
            raise TallyInputError(
                path,
                f"line {number}",
                "count",
                f"expected 'COUNT: a,b,{{c,d}}' with a count from 1 to "
                f"{MAX_BALLOT_WEIGHT}",
            )
        groups: list[tuple[int, ...]] = []
        for token in re.findall(r"\{[^}]*\}|[^,{}\s]+", ranking_text):
            labels = token.strip("{}").split(",") if token.startswith("{") else [token]
            group: list[int] = []
            for label in labels:
                label = label.strip()
                alternative = parse_natural(label, MAX_RANK_NUMBER)
                if alternative is None or alternative not in position:
                    raise TallyInputError(
                        path,
                        f"line {number}",
                        "preference",
                        f"{quoted(label)} is not an alternative",
                    )
                group.append(position[alternative])
            groups.append(tuple(group))
        key = tuple(groups)
        ballots[key] = ballots.get(key, 0) + times
    return Election(
        tuple(names[label] for label in order),
        ballots,
        source_file=Path(str(path)).name,
        source_format="preflib",
    )
