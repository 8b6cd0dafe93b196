"""Cast-vote-record readers for the RCTab rule set: CDF JSON, ES&S xlsx, generic CSV.

Each reader keeps what RCTab's rules need: the rank numbers as written (skipped
ranks stay gaps), every mark of a rank (two or more marks, or the explicit
overvote label, make an overvote) and the raw text of each mark (for the
duplicate rule).  Errors name the file and the JSON pointer, sheet and cell, or
line and column.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import TallyInputError
from .._limits import MAX_RANK_NUMBER

# An xlsx file is compressed: a small file can hold any number of rows. Reading
# stops with an error past this many (docs/reliability.md).
MAX_SHEET_ROWS = 10_000_000

OVERVOTE = "\x00overvote"
"""Mark standing for an explicit overvote label."""

UNDECLARED = "\x00undeclared"
"""Raw mark of a CDF write-in selection (resolved to the UWI pseudo-candidate)."""

Rank = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class RawRecord:
    """One cast-vote record: ``ranks`` is sparse, ascending (rank, raw marks)."""

    location: str
    ranks: tuple[Rank, ...]


def _sorted_ranks(marks_by_rank: dict[int, list[str]]) -> tuple[Rank, ...]:
    return tuple((rank, tuple(marks_by_rank[rank])) for rank in sorted(marks_by_rank))


# --------------------------------------------------------------------------- CDF


def _load_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TallyInputError(path, "file", "file", f"cannot read: {error}") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise TallyInputError(
            path, f"byte {error.start}", "encoding", "not valid UTF-8"
        ) from None
    except json.JSONDecodeError as error:
        raise TallyInputError(
            path, f"line {error.lineno}", "JSON", f"not valid JSON: {error.msg}"
        ) from None
    except ValueError:  # a number beyond Python's 4,300-digit conversion limit
        raise TallyInputError(
            path, "file", "JSON", "a number in the file is too long"
        ) from None
    except RecursionError:
        raise TallyInputError(
            path, "file", "JSON", "the file nests arrays or objects too deeply"
        ) from None


def _field(path: Path, obj: Any, pointer: str, key: str, kind: type) -> Any:
    if not isinstance(obj, dict):
        raise TallyInputError(path, pointer or "/", key, "expected a JSON object here")
    if key not in obj:
        raise TallyInputError(path, pointer or "/", key, "missing")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise TallyInputError(
            path, f"{pointer}/{key}", key, f"expected a JSON {kind.__name__}"
        )
    return value


def _optional_list(path: Path, obj: Any, pointer: str, key: str) -> list[Any]:
    if not isinstance(obj, dict):
        raise TallyInputError(path, pointer or "/", key, "expected a JSON object here")
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TallyInputError(path, f"{pointer}/{key}", key, "expected a JSON list")
    return value


def _text_field(path: Path, obj: Any, pointer: str, key: str) -> str:
    value = _field(path, obj, pointer, key, object)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise TallyInputError(path, f"{pointer}/{key}", key, "expected a string")


def _cdf_contests(
    path: Path, data: Any
) -> tuple[dict[str, str], list[tuple[str, Any]]]:
    """Candidate names by ``@id`` and every (pointer, contest) of the file."""
    names: dict[str, str] = {}
    contests: list[tuple[str, Any]] = []
    elections = _field(path, data, "", "Election", list)
    for e_number, election in enumerate(elections):
        pointer = f"/Election/{e_number}"
        for c_number, candidate in enumerate(
            _optional_list(path, election, pointer, "Candidate")
        ):
            c_pointer = f"{pointer}/Candidate/{c_number}"
            names[_text_field(path, candidate, c_pointer, "@id")] = _text_field(
                path, candidate, c_pointer, "Name"
            )
        for k_number, contest in enumerate(
            _optional_list(path, election, pointer, "Contest")
        ):
            contests.append((f"{pointer}/Contest/{k_number}", contest))
    return names, contests


def _cdf_selection_marks(
    path: Path, names: dict[str, str], contest: Any, pointer: str
) -> dict[str, str]:
    marks: dict[str, str] = {}
    selections = _field(path, contest, pointer, "ContestSelection", list)
    for s_number, selection in enumerate(selections):
        s_pointer = f"{pointer}/ContestSelection/{s_number}"
        selection_id = _text_field(path, selection, s_pointer, "@id")
        if str(selection.get("IsWriteIn", "")).lower() == "true":
            marks[selection_id] = UNDECLARED
            continue
        ids = _field(path, selection, s_pointer, "CandidateIds", list)
        if not ids:
            raise TallyInputError(
                path, f"{s_pointer}/CandidateIds", "CandidateIds", "empty"
            )
        candidate_id = str(ids[0])
        if candidate_id not in names:
            raise TallyInputError(
                path,
                f"{s_pointer}/CandidateIds/0",
                "CandidateIds",
                f"no Candidate with @id {candidate_id!r}",
            )
        marks[selection_id] = names[candidate_id]
    return marks


def read_cdf_json_records(
    path: str | Path, contest_name: str | None = None
) -> tuple[list[str], list[RawRecord]]:
    """Read a NIST SP 1500-103 CDF JSON file.

    Returns the contest's candidate names (file order) and one record per ``CVR[]``
    entry (its current snapshot).  ``contest_name`` selects the contest by ``Name``;
    ``None`` requires a file with one contest.
    """
    path = Path(path)
    data = _load_json(path)
    names, contests = _cdf_contests(path, data)
    if contest_name is None:
        if len(contests) != 1:
            raise TallyInputError(
                path,
                "/Election",
                "Contest",
                f"{len(contests)} contests; choose one by name (--contest)",
            )
        pointer, contest = contests[0]
    else:
        found = [
            (p, c)
            for p, c in contests
            if isinstance(c, dict) and str(c.get("Name", "")) == contest_name
        ]
        if not found:
            raise TallyInputError(
                path, "/Election", "Contest", f"no contest named {contest_name!r}"
            )
        pointer, contest = found[0]
    contest_id = _text_field(path, contest, pointer, "@id")
    selection_marks = _cdf_selection_marks(path, names, contest, pointer)
    candidates = [m for m in selection_marks.values() if m != UNDECLARED]
    records: list[RawRecord] = []
    cvrs = _field(path, data, "", "CVR", list)
    for number, cvr in enumerate(cvrs):
        record = _cdf_record(path, f"/CVR/{number}", cvr, contest_id, selection_marks)
        if record is not None:
            records.append(record)
    return candidates, records


def _cdf_record(
    path: Path, pointer: str, cvr: Any, contest_id: str, selection_marks: dict[str, str]
) -> RawRecord | None:
    """The record's marks in the contest, or None when it holds no such contest."""
    current = _text_field(path, cvr, pointer, "CurrentSnapshotId")
    found = False
    snapshots = _field(path, cvr, pointer, "CVRSnapshot", list)
    marks_by_rank: dict[int, list[str]] = {}
    for n_number, snapshot in enumerate(snapshots):
        n_pointer = f"{pointer}/CVRSnapshot/{n_number}"
        if _text_field(path, snapshot, n_pointer, "@id") != current:
            continue
        for k_number, cvr_contest in enumerate(
            _optional_list(path, snapshot, n_pointer, "CVRContest")
        ):
            k_pointer = f"{n_pointer}/CVRContest/{k_number}"
            if _text_field(path, cvr_contest, k_pointer, "ContestId") != contest_id:
                continue
            found = True
            selections = _optional_list(
                path, cvr_contest, k_pointer, "CVRContestSelection"
            )
            for s_number, selection in enumerate(selections):
                s_pointer = f"{k_pointer}/CVRContestSelection/{s_number}"
                _cdf_selection(
                    path, s_pointer, selection, selection_marks, marks_by_rank
                )
        break
    else:
        raise TallyInputError(
            path, pointer, "CurrentSnapshotId", f"no CVRSnapshot with @id {current!r}"
        )
    if not found:
        return None
    return RawRecord(pointer, _sorted_ranks(marks_by_rank))


def _rank_value(path: Path, pointer: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TallyInputError(path, pointer, "Rank", "expected a positive integer")
    text = str(value)
    if len(text) > len(str(MAX_RANK_NUMBER)) + 2:  # cheap refusal of huge numbers
        text = str(MAX_RANK_NUMBER + 1)
    try:
        rank = int(text, 10)
    except ValueError:
        raise TallyInputError(
            path, pointer, "Rank", "expected a positive integer"
        ) from None
    if not 1 <= rank <= MAX_RANK_NUMBER:
        raise TallyInputError(
            path, pointer, "Rank", f"expected an integer from 1 to {MAX_RANK_NUMBER:,}"
        )
    return rank


def _cdf_selection(
    path: Path,
    pointer: str,
    selection: Any,
    selection_marks: dict[str, str],
    marks_by_rank: dict[int, list[str]],
) -> None:
    selection_id = _text_field(path, selection, pointer, "ContestSelectionId")
    if selection_id not in selection_marks:
        raise TallyInputError(
            path,
            f"{pointer}/ContestSelectionId",
            "ContestSelectionId",
            f"no ContestSelection with @id {selection_id!r}",
        )
    mark = selection_marks[selection_id]
    if "Rank" in selection:
        rank = _rank_value(path, f"{pointer}/Rank", selection["Rank"])
        marks_by_rank.setdefault(rank, []).append(mark)
        return
    positions = _field(path, selection, pointer, "SelectionPosition", list)
    for p_number, position in enumerate(positions):
        p_pointer = f"{pointer}/SelectionPosition/{p_number}"
        if not isinstance(position, dict):
            raise TallyInputError(
                path, p_pointer, "SelectionPosition", "expected an object"
            )
        if "CVRWriteIn" in position:
            # A write-in position makes this and the selection's later positions
            # undeclared write-ins, as RCTab reads them.
            mark = UNDECLARED
        if str(position.get("HasIndication", "")).lower() == "no":
            continue
        if str(position.get("IsAllocable", "")).lower() == "no":
            continue
        if "Rank" not in position:
            raise TallyInputError(path, p_pointer, "Rank", "missing")
        rank = _rank_value(path, f"{p_pointer}/Rank", position["Rank"])
        marks_by_rank.setdefault(rank, []).append(mark)


# --------------------------------------------------------------------------- ES&S


def _column_letters(column: int) -> str:
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _general_text(value: Any) -> str:
    """Cell value as Excel's "General" format shows it (29.0 -> "29")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


SHEET_NAMESPACE = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG = SHEET_NAMESPACE + "row"
_CELL_TAG = SHEET_NAMESPACE + "c"
_VALUE_TAG = SHEET_NAMESPACE + "v"
_TEXT_TAG = SHEET_NAMESPACE + "t"
_INLINE_TAG = SHEET_NAMESPACE + "is"


def _column_number(reference: str) -> int:
    number = 0
    for character in reference:
        if "A" <= character <= "Z":
            number = number * 26 + ord(character) - 64
        else:
            break
    return number


def _cell_text(cell: Any, shared_strings: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE_TAG)
        if inline is None:
            return ""
        return "".join(t.text or "" for t in inline.iter(_TEXT_TAG))
    value = cell.findtext(_VALUE_TAG)
    if value is None or value == "":
        return ""
    if kind == "s":
        return shared_strings[int(value)]
    if kind == "b":
        return "TRUE" if value.strip() == "1" else "FALSE"
    if kind == "n":
        try:
            return str(int(value))
        except ValueError:
            return _general_text(float(value))
    return value  # "str" (formula result), "e" (error), "d" (ISO date)


def iter_sheet_rows(
    path: Path,
) -> Generator[tuple[str, int, dict[int, str]], None, None]:
    """(sheet title, row number, {column: text}) for every ``<row>`` of sheet 1.

    openpyxl locates the first worksheet and its shared strings; the sheet XML
    is then streamed row by row.  Rows absent from the XML are not invented
    (the sheet dimension may claim a million rows); rows present but empty are
    returned empty.
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl import load_workbook

    try:
        handle = path.open("rb")
    except OSError as error:
        raise TallyInputError(path, "file", "file", f"cannot read: {error}") from None
    with handle:
        try:
            with warnings.catch_warnings():
                # Workbooks written by election systems carry extensions openpyxl
                # does not model ("Unknown extension is not supported"); cell data
                # is intact.
                warnings.filterwarnings(
                    "ignore", category=UserWarning, module="openpyxl"
                )
                workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - any failure of the xlsx parser
            raise TallyInputError(
                path, "file", "xlsx", f"cannot read workbook: {error}"
            ) from None
        try:
            if not workbook.worksheets:
                raise TallyInputError(path, "file", "xlsx", "the workbook has no sheet")
            sheet = workbook.worksheets[0]
            title = sheet.title
            shared_strings = list(sheet._shared_strings)  # noqa: SLF001
            row_number = 0
            try:
                with sheet._get_source() as source:  # noqa: SLF001 - row-exact reading
                    rows_read = 0
                    for _, element in iterparse(source):
                        if element.tag != _ROW_TAG:
                            continue
                        rows_read += 1
                        if rows_read > MAX_SHEET_ROWS:
                            raise TallyInputError(
                                path,
                                f"sheet {title}",
                                "rows",
                                f"more than {MAX_SHEET_ROWS:,} rows "
                                "(docs/reliability.md)",
                            )
                        reference = element.get("r")
                        row_number = int(reference) if reference else row_number + 1
                        cells: dict[int, str] = {}
                        column = 0
                        for cell in element.iter(_CELL_TAG):
                            where = cell.get("r")
                            column = _column_number(where) if where else column + 1
                            cells[column] = _cell_text(cell, shared_strings)
                        element.clear()
                        yield title, row_number, cells
            except (TallyInputError, GeneratorExit):
                raise
            except Exception as error:  # noqa: BLE001 - malformed sheet XML
                raise TallyInputError(
                    path,
                    f"sheet {title}, row {row_number + 1}",
                    "xlsx",
                    f"cannot read the sheet: {error}",
                ) from None
        finally:
            workbook.close()


def java_trim(text: str) -> str:
    """``String.trim()``: strip characters up to U+0020 at both ends."""
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def read_ess_xlsx_records(
    path: str | Path,
    *,
    first_vote_row: int,
    first_vote_column: int,
    max_rankings: int,
    overvote_delimiter: str = "",
    overvote_label: str = "",
    skipped_rank_label: str = "",
    undeclared_write_in_label: str = "",
    treat_blank_as_undeclared_write_in: bool = False,
) -> list[RawRecord]:
    """Read an ES&S cast-vote-record spreadsheet as RCTab does.

    Every ``<row>`` at or after ``first_vote_row`` is one record.  Column
    ``first_vote_column + k`` is rank ``k + 1`` up to ``max_rankings``; later
    columns are ignored.  A cell is trimmed and split on ``overvote_delimiter``;
    each part is a mark: ``OVERVOTE`` for ``overvote_label``, ``UNDECLARED`` for
    ``undeclared_write_in_label``, else the text (a candidate name or alias).
    The skipped-rank label and blank cells are no mark; with
    ``treat_blank_as_undeclared_write_in`` every blank rank up to
    ``max_rankings`` is an undeclared write-in.
    """
    path = Path(path)
    records: list[RawRecord] = []
    last_column = first_vote_column + max_rankings - 1
    blank = (UNDECLARED,) if treat_blank_as_undeclared_write_in else ()
    # Cell text -> marks; the same few texts repeat on every row.
    known: dict[str, tuple[str, ...] | None] = {"": blank}

    def marks_of(text: str) -> tuple[str, ...] | None:
        """Marks of a cell, or None when a split part is blank or skipped."""
        trimmed = java_trim(text)
        if not trimmed:
            return blank
        parts = [trimmed]
        if overvote_delimiter:
            parts = [java_trim(p) for p in trimmed.split(overvote_delimiter)]
        marks: list[str] = []
        for part in parts:
            if len(parts) > 1 and (not part or part == skipped_rank_label):
                return None
            if part == skipped_rank_label:
                continue
            if overvote_label and part == overvote_label:
                marks.append(OVERVOTE)
            elif undeclared_write_in_label and part == undeclared_write_in_label:
                marks.append(UNDECLARED)
            else:
                marks.append(part)
        return tuple(marks)

    with closing(iter_sheet_rows(path)) as rows:
        for title, row_number, cells in rows:
            if row_number < first_vote_row:
                continue
            ranks: list[Rank] = []
            for column in range(first_vote_column, last_column + 1):
                text = cells.get(column, "")
                if text in known:
                    marks = known[text]
                else:
                    marks = known[text] = marks_of(text)
                if marks is None:
                    raise TallyInputError(
                        path,
                        f"sheet {title}, cell {_column_letters(column)}{row_number}",
                        "overvoteDelimiter",
                        f"blank or skipped-rank part in {java_trim(text)!r}",
                    )
                if marks:
                    ranks.append((column - first_vote_column + 1, marks))
            records.append(RawRecord(f"sheet {title}, row {row_number}", tuple(ranks)))
    return records


# --------------------------------------------------------------------------- CSV


def read_generic_csv_records(
    path: str | Path, *, first_vote_column: int
) -> tuple[list[str], list[RawRecord]]:
    """Read RCTab's generic CSV: header names candidates, cells are rank numbers.

    Row 1 is the header; every later row is one record (as RCTab reads it,
    whatever ``firstVoteRowIndex`` says).  Columns from ``first_vote_column``
    are candidates; a cell holds the rank given to that column's candidate.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise TallyInputError(path, "file", "file", f"cannot read: {error}") from None
    except UnicodeDecodeError as error:
        raise TallyInputError(
            path, f"byte {error.start}", "encoding", "not valid UTF-8"
        ) from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as error:
        raise TallyInputError(path, "file", "CSV", str(error)) from None
    if not rows:
        raise TallyInputError(path, "line 1", "header", "missing")
    header = rows[0]
    names: list[str] = []
    for column in range(first_vote_column, len(header) + 1):
        name = header[column - 1].strip()
        if not name:
            raise TallyInputError(
                path, f"line 1, column {column}", "header", "blank candidate name"
            )
        names.append(name)
    records: list[RawRecord] = []
    for line_number, row in enumerate(rows, start=1):
        if line_number < 2:
            continue
        marks_by_rank: dict[int, list[str]] = {}
        for offset, name in enumerate(names):
            column = first_vote_column + offset
            cell = row[column - 1].strip() if column - 1 < len(row) else ""
            if not cell:
                continue
            try:
                rank = int(cell, 10)
            except ValueError:
                rank = 0
            if rank < 1:
                raise TallyInputError(
                    path,
                    f"line {line_number}, column {column}",
                    name,
                    f"rank {cell!r} is not a positive integer",
                )
            marks_by_rank.setdefault(rank, []).append(name)
        records.append(RawRecord(f"line {line_number}", _sorted_ranks(marks_by_rank)))
    return names, records
