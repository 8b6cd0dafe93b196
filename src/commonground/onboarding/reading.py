"""Reading an uploaded register: CSV (UTF-8, with or without a byte-order mark) or
XLSX (the first worksheet), streamed row by row so memory stays flat.

Encodings: a CSV must be UTF-8. A file in another encoding (Windows-1252 or Latin-1,
as older Excel and some CRMs save) is refused, naming the line of the first byte that
is not UTF-8, rather than guessed: a wrong guess turns "Zoë" into "ZoÃ«" in every
account without anyone noticing. Line numbers count the header as line 1, the way a
spreadsheet numbers its rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

MAX_COLUMNS = 200
SAMPLE_ROWS = 3
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class FileRefused(ValueError):
    """The file cannot be read; ``str()`` says why and what to do, for the admin;
    ``line`` is where (1 when it is the whole file)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Upload:
    file_format: str  # "csv" or "xlsx"
    delimiter: str  # CSV only
    headers: list[str]
    samples: list[list[str]]


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def inspect_upload(name: str, content: bytes) -> Upload:
    """Check the file can be read and return its header and first rows.

    Raises ``FileRefused`` for an empty file, an old .xls, UTF-16 text, a CSV that is
    not UTF-8 (naming the line), or a file without a header row.
    """
    if not content.strip():
        raise FileRefused(_("The file is empty."))
    if content.startswith(_OLE_MAGIC):
        raise FileRefused(
            _(
                "This is an old Excel (.xls) file. Save it as .xlsx or as CSV UTF-8 "
                "and upload it again."
            )
        )
    if content.startswith(_ZIP_MAGIC):
        file_format, delimiter = "xlsx", ""
    else:
        check_utf8(content)
        file_format, delimiter = "csv", _sniff_delimiter(content)
    rows = records(content, file_format, delimiter, with_header=True)
    try:
        header = next(rows)[1]
    except StopIteration:
        raise FileRefused(_("The file has no header row.")) from None
    headers = [
        cell.strip() or _("Column %(letter)s") % {"letter": column_letter(i)}
        for i, cell in enumerate(header[:MAX_COLUMNS])
    ]
    if not any(cell.strip() for cell in header):
        raise FileRefused(_("The first row must name the columns; it is empty."))
    samples = []
    for _line, cells in rows:
        if any(cells):
            samples.append(cells[: len(headers)])
        if len(samples) == SAMPLE_ROWS:
            break
    return Upload(file_format, delimiter, headers, samples)


def check_utf8(content: bytes) -> None:
    """Refuse text that is not UTF-8, naming the line and the byte."""
    if content.startswith(_UTF16_BOMS):
        raise FileRefused(
            _(
                "The file is in UTF-16 (Excel's “Unicode text”). Save it as "
                "“CSV UTF-8” and upload it again."
            )
        )
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise FileRefused(
            _(
                "The file is not in UTF-8: line %(line)d has a byte (0x%(byte)02X) "
                "that UTF-8 does not allow. It was probably saved as Windows-1252 or "
                "Latin-1. Save it as “CSV UTF-8” (in Excel: File, Save As, CSV UTF-8) "
                "and upload it again."
            )
            % {"line": line, "byte": content[error.start]}
        ) from None


def _sniff_delimiter(content: bytes) -> str:
    """Comma, semicolon (Excel in much of Europe) or tab: the commonest in line 1."""
    first_line = content.split(b"\n", 1)[0]
    counts = {d: first_line.count(d.encode()) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def records(
    content: bytes, file_format: str, delimiter: str, *, with_header: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """(line, cells as text) for each row; the header (line 1) only if asked."""
    rows = (
        _xlsx_rows(content) if file_format == "xlsx" else _csv_rows(content, delimiter)
    )
    for index, cells in enumerate(rows, start=1):
        if index == 1 and not with_header:
            continue
        yield index, cells


def _csv_rows(content: bytes, delimiter: str) -> Iterator[list[str]]:
    # utf-8-sig drops the byte-order mark Excel writes at the start of CSV UTF-8.
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter or ",")
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # a field of over 128 KiB, say
            raise FileRefused(
                _("Line %(line)d cannot be read: %(error)s")
                % {"line": row + 1, "error": error},
                line=row + 1,
            ) from None
        row += 1
        yield cells


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # "Workbook contains no default style": harmless, from CRM-made files.
        warnings.simplefilter("ignore", UserWarning)
        try:
            workbook = load_workbook(
                io.BytesIO(content), read_only=True, data_only=True
            )
        except Exception as error:  # openpyxl raises many kinds for a bad archive
            raise FileRefused(
                _("This file could not be read as an Excel (.xlsx) workbook.")
            ) from error
        try:
            sheet = workbook.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in row]
        finally:
            workbook.close()


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
