"""CDF JSON and ES&S xlsx files as plain :class:`Election` objects (spec §6).

Used by ``load_ballots`` for ``--input-format cdf-json|ess-xlsx``: a skipped
rank is an empty group ``()``, several marks at one rank (or the explicit
``overvote`` label, as a group of every candidate) an equal ranking/overvote.
"""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path

from .._election import Election
from .._errors import TallyInputError
from ._config import UWI
from ._records import (
    OVERVOTE,
    UNDECLARED,
    RawRecord,
    iter_sheet_rows,
    read_cdf_json_records,
)

RANK_HEADER = re.compile(
    r"(?i)^\s*(?:(?:choice|rank)\s*#?\s*(\d+)|(\d+)\s*(?:st|nd|rd|th)?\s+(?:choice|rank)\b.*)\s*$"
)
OVERVOTE_LABEL = "overvote"
UNDERVOTE_LABEL = "undervote"


def _election(
    path: Path, candidates: list[str], records: list[RawRecord], source_format: str
) -> Election:
    index = {name: number for number, name in enumerate(candidates)}
    every = tuple(range(len(candidates)))
    rankings: list[list[tuple[int, ...]]] = []
    for record in records:
        groups: list[tuple[int, ...]] = []
        expected = 1
        for rank, marks in record.ranks:
            groups.extend(() for _ in range(rank - expected))
            expected = rank + 1
            if OVERVOTE in marks:
                groups.append(every)
                continue
            group: list[int] = []
            for mark in marks:
                number = index[UWI if mark == UNDECLARED else mark]
                if number not in group:
                    group.append(number)
            groups.append(tuple(group))
        rankings.append(groups)
    return Election.from_rankings(
        candidates,
        rankings,
        source_file=str(path),
        source_format=source_format,
    )


def read_cdf_json(path: str | Path, contest: str | None = None) -> Election:
    """Ranked ballots of one contest of a NIST CDF JSON cast-vote-record file."""
    path = Path(path)
    candidates, records = read_cdf_json_records(path, contest)
    names = list(dict.fromkeys(candidates))
    if any(UNDECLARED in marks for r in records for _, marks in r.ranks):
        names.append(UWI)
    return _election(path, names, records, "cdf-json")


def read_ess_xlsx(path: str | Path) -> Election:
    """Ranked ballots of an ES&S cast-vote-record spreadsheet.

    Row 1 is the header; rank columns are headed ``Choice N``/``Rank N`` (also
    ``1st Choice``); ``overvote`` and ``undervote`` cells are the ES&S labels.
    """
    path = Path(path)
    rank_columns: list[int] = []
    records: list[RawRecord] = []
    names: dict[str, None] = {}
    with closing(iter_sheet_rows(path)) as rows:
        for title, row_number, cells in rows:
            if row_number == 1:
                rank_columns = [c for c in sorted(cells) if RANK_HEADER.match(cells[c])]
                if not rank_columns:
                    raise TallyInputError(
                        path,
                        f"sheet {title}, row 1",
                        "header",
                        "no rank columns (headed 'Choice N' or 'Rank N')",
                    )
                continue
            if not rank_columns:
                raise TallyInputError(
                    path, f"sheet {title}, row 1", "header", "missing"
                )
            ranks: list[tuple[int, tuple[str, ...]]] = []
            for rank, column in enumerate(rank_columns, start=1):
                text = cells.get(column, "").strip()
                if not text or text.lower() == UNDERVOTE_LABEL:
                    continue
                if text.lower() == OVERVOTE_LABEL:
                    ranks.append((rank, (OVERVOTE,)))
                    continue
                names.setdefault(text, None)
                ranks.append((rank, (text,)))
            records.append(RawRecord(f"sheet {title}, row {row_number}", tuple(ranks)))
    if not rank_columns:
        raise TallyInputError(path, "sheet 1, row 1", "header", "missing")
    return _election(path, list(names), records, "ess-xlsx")
