"""Official Glasgow City Council 2017 stage sheets, Scottish STV, every stage (spec §8).

Ward 2's ballots are a space-padded BLT text file; Ward 7's are BLT text held
one line per cell in column A of a spreadsheet.  Each stage of the official
"Candidate Votes Per Stage" report (pdftotext) is compared to 5 decimals:
each candidate's change ("Transfer Value" in the 2017 layout) and votes, and
the non-transferable votes, where the official sheets fold rounding losses in.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commonground.engines.tally import count, load_ballots
from commonground.engines.tally._blt import read_blt
from commonground.engines.tally._result import parse_decimal
from support import shared_data

NUMBER = r"(-?[\d,]+\.\d{5})"
ROW = re.compile(rf"{NUMBER}\s+{NUMBER}(?:\s+(Elected|Excluded))?\s*$")

WARDS = {
    "ward2": (
        "PreferenceProfile_Report_Ward_2_Newlands-Auldburn_05052017_163151.txt",
        "CandidateVotesPerStage_Report_Ward_2_Newlands-Auldburn_05052017_150229.pdftotext.txt",
        1816,
        ["Josephine DOCHERTY", "Stephen CURRAN", "Kyle THORNTON"],
    ),
    "ward7": (
        "PreferenceProfile_Report_Ward_7_Langside_05052017_163223.xlsx",
        "CandidateVotesPerStage_Report_Ward_7_Langside_05052017_150423.pdftotext.txt",
        2150,
        ["Susan AITKEN", "Anna RICHARDSON", "Archie GRAHAM", "Tanya WISELY"],
    ),
}


def _number(text: str) -> int:
    return parse_decimal(text.replace(",", ""), 5)


def _official_stages(text: str) -> list[dict]:
    """Per stage: candidate rows (change, votes) in sheet order, and NT votes."""
    stages: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        if re.match(r"^Stage \d+\s*$", line):
            current = {"rows": [], "non_transferable": None}
            stages.append(current)
            continue
        if current is None or current["non_transferable"] is not None:
            continue
        match = ROW.search(line)
        if not match:
            continue
        change, votes = _number(match.group(1)), _number(match.group(2))
        if line.startswith("Non-transferable"):
            current["non_transferable"] = (change, votes)
        else:
            current["rows"].append((change, votes))
    return stages


def _election(folder: Path, name: str):
    path = folder / name
    if path.suffix == ".xlsx":
        openpyxl = pytest.importorskip("openpyxl")
        workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            cells = [
                row[0] if row and row[0] is not None else ""
                for row in workbook.worksheets[0].iter_rows(values_only=True)
            ]
        finally:
            workbook.close()
        text = "\n".join(str(cell) for cell in cells)
        return read_blt(text.encode("utf-8"), path)
    return load_ballots(path)


@pytest.mark.parametrize("ward", sorted(WARDS))
def test_every_official_stage_is_reproduced_to_five_decimals(ward: str):
    folder = shared_data("stv", "glasgow2017")
    ballots, sheet, quota, winners = WARDS[ward]
    election = _election(folder, ballots)
    result = count(election, method="stv", rules="scottish")
    official = _official_stages((folder / sheet).read_text(encoding="utf-8"))

    assert result.quota == quota * 10**5
    assert [w.split("  ")[0].strip() for w in result.winners] == winners
    assert len(result.rounds) == len(official)
    names = election.candidates
    for number, (ours, theirs) in enumerate(
        zip(result.rounds, official, strict=True), start=1
    ):
        assert len(theirs["rows"]) == len(names), f"stage {number}"
        for name, (change, votes) in zip(names, theirs["rows"], strict=True):
            assert ours.tallies[name] == votes, f"stage {number}, {name}"
            if number > 1:
                assert ours.transfers.get(name, 0) == change, f"stage {number}, {name}"
        non_transferable = ours.exhausted + ours.rounding_loss_total
        assert non_transferable == theirs["non_transferable"][1], f"stage {number}"
        if number > 1:
            previous = result.rounds[number - 2]
            before = previous.exhausted + previous.rounding_loss_total
            assert non_transferable - before == theirs["non_transferable"][0]
