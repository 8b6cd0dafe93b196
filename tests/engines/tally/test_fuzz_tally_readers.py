"""Reader fuzzing, fast version (issue 3 point 4): any input loads or raises
``TallyInputError``, never another exception.

Each reader gets generated inputs that look like its format (so they reach deep
into the parser) with random corruption on top.  A loaded election must also be
countable: a valid file never becomes a crash later.  The long run (at least
100,000 inputs per reader, hypothesis and atheris) is ``scripts/fuzz_tally.py``,
which reuses the strategies defined here.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.engines.tally import (
    TallyError,
    TallyInputError,
    count,
    load_ballots,
    tabulate_rctab,
)

# --- shared pieces ---------------------------------------------------------------

# Pieces of names: punctuation the formats treat specially, accents, a soft
# hyphen, double-encoded text, a BOM, NUL, an emoji and a lone surrogate.
NAME_PIECES = st.sampled_from(
    [
        *"AbcÉ ñ,;\"'=()[]-0123456789#\t",
        "\u00ad",
        "Ã³",
        "\ufeff",
        "\x00",
        "😀",
        "\udcff",
    ]
)
names = st.lists(NAME_PIECES, max_size=8).map("".join)
plain_names = st.lists(st.sampled_from([*"ABCDEFabc"]), min_size=1, max_size=4).map(
    "".join
)
# Mostly well-formed values, so generated inputs often load and the corruption
# that follows reaches deep into the parser.
usual_names = st.one_of(plain_names, plain_names, names)
small_ints = st.integers(-3, 12)
odd_numbers = st.sampled_from(
    ["", "x", "1.5", "+2", "0x10", "1e3", "٣", "99999999999999999999", " 3 "]
)
numberish = st.one_of(small_ints.map(str), odd_numbers)
rank_numbers = st.one_of(
    st.integers(1, 6).map(str), st.integers(1, 6).map(str), odd_numbers
)
line_endings = st.sampled_from(["\n", "\r\n", "\r"])
weights = st.one_of(*[st.integers(1, 9).map(str)] * 4, numberish)


@st.composite
def corrupt(draw: st.DrawFn, data: bytes) -> bytes:
    """Sometimes flip, cut or splice bytes of an otherwise well-formed input."""
    choice = draw(st.integers(0, 5))
    if choice <= 2 or not data:
        return data
    position = draw(st.integers(0, len(data)))
    if choice == 3:
        return data[:position]
    if choice == 4:
        noise = draw(st.binary(max_size=8))
        return data[:position] + noise + data[position + len(noise) :]
    return data[:position] + draw(st.binary(max_size=16)) + data[position:]


# --- BLT -----------------------------------------------------------------------------


@st.composite
def blt_text(draw: st.DrawFn) -> bytes:
    candidates = draw(st.integers(0, 6))
    lines: list[str] = []
    seats = draw(st.one_of(st.integers(1, max(1, candidates)), st.integers(-1, 7)))
    header = f"{candidates} {seats}"
    lines.append(
        draw(
            st.sampled_from([header, header, header, header + ",", " " + header, "x 2"])
        )
    )
    option = draw(st.integers(0, 9))
    numbers = st.lists(
        st.one_of(
            st.integers(1, max(1, candidates)),
            st.integers(1, max(1, candidates)),
            st.integers(-candidates - 1, candidates + 2),
        ),
        max_size=4,
    )
    if option == 1:
        lines.append(" ".join(str(-abs(n)) for n in draw(numbers)))
    elif option in (2, 3, 4):
        keyword = ["withdrawn", "tie", "nick"][option - 2]
        items = [str(n) for n in draw(numbers)]
        lines.append(f"[{keyword} {' '.join(items)}]")
    for _ in range(draw(st.integers(0, 6))):
        marks = [str(n) for n in draw(numbers)]
        if marks and draw(st.integers(0, 3)) == 0:
            marks.insert(draw(st.integers(0, len(marks))), "=")
        prefix = draw(st.sampled_from(["", "", "", "(a1) ", "(", "() "]))
        ending = draw(st.sampled_from([" 0", " 0", " 0", " 0,", "", " 0 0", " 00"]))
        lines.append(f"{prefix}{draw(weights)} {' '.join(marks)}{ending}".strip())
    if draw(st.integers(0, 5)):
        lines.append("0")
    for _ in range(candidates + draw(st.sampled_from([0, 0, 0, -1, 1]))):
        name = draw(usual_names)
        form = draw(st.integers(0, 4))
        if form == 0:
            lines.append(name)
        elif form == 1:
            lines.append('"' + name.replace('"', '""') + '"')
        elif form == 2:
            lines.append(f'"{name}" "{draw(names)}"')
        elif form == 3:
            lines.append(f'"{name}')
        else:
            lines.append(f'"{name}"')
    if draw(st.booleans()):
        lines.append('"' + draw(names) + '"')
    for _ in range(draw(st.integers(0, 2))):
        lines.insert(
            draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  "]))
        )
    text = draw(line_endings).join(lines)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = b"\xef\xbb\xbf" + data
    return draw(corrupt(data))


# --- simple CSV --------------------------------------------------------------------


def csv_cell(value: str, quote: bool) -> str:
    if quote or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_text(draw: st.DrawFn) -> bytes:
    ranked = draw(st.booleans())
    people = draw(st.lists(usual_names, min_size=0, max_size=5, unique=True))
    if ranked:
        columns = [
            draw(st.sampled_from(["rank ", "Rank", "choice ", "CHOICE", "rank"]))
            + draw(st.one_of(st.just(str(i + 1)), rank_numbers))
            for i in range(draw(st.integers(0, 5)))
        ]
        cells = st.one_of(st.sampled_from(people) if people else names, names)
    else:
        columns = list(people)
        cells = st.one_of(st.integers(0, 5).map(str), numberish)
    extras = draw(st.lists(st.sampled_from(["weight", "id", "Weight", ""]), max_size=2))
    if draw(st.integers(0, 2)):
        extras = [e for e in extras if e in ("weight", "id", "Weight")]
    for extra in extras:
        columns.insert(draw(st.integers(0, len(columns))), extra)
    rows = [columns]
    for _ in range(draw(st.integers(0, 6))):
        width = len(columns) + draw(st.integers(-1, 1))
        row = []
        for column in range(max(0, width)):
            heading = columns[column] if column < len(columns) else ""
            if heading.lower() == "weight":
                row.append(draw(weights))
            elif heading.lower() == "id":
                row.append(draw(names))
            else:
                row.append(draw(st.one_of(st.just(""), cells)))
        rows.append(row)
    quote = draw(st.booleans())
    ending = draw(line_endings)
    text = ending.join(",".join(csv_cell(v, quote) for v in row) for row in rows)
    if draw(st.booleans()):
        text += ending
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = b"\xef\xbb\xbf" + data
    return draw(corrupt(data))


# --- NIST CDF JSON ---------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), small_ints, names, st.sampled_from(["true", "false"])
)


def maybe(draw: st.DrawFn, value: Any) -> Any:
    """Usually the value; sometimes a wrong type or nothing."""
    pick = draw(st.integers(0, 39))
    if pick == 0:
        return draw(json_scalars)
    if pick == 1:
        return [value]
    return value


@st.composite
def cdf_json(draw: st.DrawFn) -> bytes:
    people = draw(st.lists(usual_names, max_size=4))
    candidate_ids = [f"c{i}" for i in range(len(people))]
    selections = [
        maybe(
            draw,
            {
                "@id": f"s{i}",
                "CandidateIds": maybe(draw, [candidate_ids[i]]),
                "IsWriteIn": draw(st.sampled_from(["false", "true", False, None])),
            },
        )
        for i in range(len(people))
    ]
    contest = {
        "@id": "k1",
        "Name": draw(st.sampled_from(["Mayor", "Mayor", "", "Other"])),
        "ContestSelection": maybe(draw, selections),
    }
    election = {
        "Candidate": maybe(
            draw,
            [
                {"@id": cid, "Name": maybe(draw, n)}
                for cid, n in zip(candidate_ids, people, strict=True)
            ],
        ),
        "Contest": maybe(draw, [contest] * draw(st.sampled_from([1, 1, 1, 0, 2]))),
    }
    records = []
    for _ in range(draw(st.integers(0, 5))):
        marks = []
        for _ in range(draw(st.integers(0, 4))):
            selection = draw(
                st.sampled_from([f"s{i}" for i in range(len(people))] + ["s9"])
            )
            positions = [
                maybe(
                    draw,
                    {
                        "Rank": maybe(draw, draw(st.integers(-1, 5))),
                        "HasIndication": draw(
                            st.sampled_from(["yes", "yes", "no", None])
                        ),
                        "IsAllocable": draw(
                            st.sampled_from(["yes", "yes", "no", "unknown"])
                        ),
                        "NumberVotes": 1,
                    },
                )
                for _ in range(draw(st.integers(0, 2)))
            ]
            marks.append(
                maybe(
                    draw,
                    {"ContestSelectionId": selection, "SelectionPosition": positions},
                )
            )
        snapshot = {
            "@id": "snap",
            "CVRContest": maybe(
                draw, [{"ContestId": "k1", "CVRContestSelection": maybe(draw, marks)}]
            ),
        }
        records.append(
            maybe(
                draw,
                {
                    "CurrentSnapshotId": draw(
                        st.sampled_from(["snap", "snap", "other"])
                    ),
                    "CVRSnapshot": maybe(draw, [snapshot]),
                },
            )
        )
    document = {"Election": maybe(draw, [election]), "CVR": maybe(draw, records)}
    data = json.dumps(maybe(draw, document), ensure_ascii=draw(st.booleans())).encode(
        "utf-8", "surrogatepass"
    )
    return draw(corrupt(data))


# --- ES&S xlsx ---------------------------------------------------------------------------

XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
}


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@st.composite
def ess_xlsx(draw: st.DrawFn) -> bytes:
    """A minimal workbook written by hand (inline strings), so every sheet shape
    (gaps between rows, numbers, empty rows, a huge dimension) can be produced."""
    people = draw(st.lists(usual_names, max_size=4))
    labels = ["overvote", "undervote", "UWI", *people, *people]
    headers = ["Cast Vote Record", "Precinct", "Ballot Style"] + [
        draw(st.sampled_from(["Choice ", "Choice ", "Rank ", "choice", "Other "]))
        + draw(st.one_of(st.just(str(i + 1)), rank_numbers))
        for i in range(draw(st.integers(0, 4)))
    ]
    rows = [headers]
    for _ in range(draw(st.integers(0, 6))):
        rows.append(
            [
                draw(
                    st.one_of(
                        st.just(""),
                        st.sampled_from(labels),
                        small_ints,
                        st.floats(allow_nan=True, allow_infinity=True, width=32),
                    )
                )
                for _ in range(len(headers) + draw(st.integers(-1, 1)))
            ]
        )
    xml_rows = []
    row_number = 0
    for row in rows:
        row_number += draw(st.sampled_from([1, 1, 1, 2, 1000]))
        cells = []
        for column, value in enumerate(row):
            reference = f"{column_letter(column)}{row_number}"
            if value == "":
                continue
            if isinstance(value, str):
                cells.append(
                    f'<c r="{reference}" t="inlineStr"><is><t>{xml_escape(value)}</t></is></c>'
                )
            else:
                cells.append(f'<c r="{reference}"><v>{value}</v></c>')
        xml_rows.append(f'<row r="{row_number}">{"".join(cells)}</row>')
    dimension = draw(st.sampled_from(["A1", "A1:Z1048576", f"A1:H{row_number}"]))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{"".join(xml_rows)}</sheetData></worksheet>'
    )
    sheet_bytes = draw(corrupt(sheet.encode("utf-8", "surrogatepass")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part, text in XLSX_PARTS.items():
            archive.writestr(part, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_bytes)
    return draw(corrupt(buffer.getvalue()))


# --- PrefLib (.soi / .toc) --------------------------------------------------------------


@st.composite
def preflib_text(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(0, 5))
    lines = [f"# FILE NAME: {draw(usual_names)}.soi", f"# NUMBER ALTERNATIVES: {n}"]
    for i in range(1, n + 1 + draw(st.sampled_from([0, 0, 0, -1, 1]))):
        number = draw(st.one_of(st.just(i), st.just(i), small_ints))
        lines.append(f"# ALTERNATIVE NAME {number}: {draw(usual_names)}")
    mark = st.one_of(*[st.integers(1, max(1, n)).map(str)] * 3, numberish)
    for _ in range(draw(st.integers(0, 5))):
        marks = []
        for _ in range(draw(st.integers(0, 4))):
            if draw(st.integers(0, 3)) == 0:
                marks.append("{" + ",".join(draw(st.lists(mark, max_size=3))) + "}")
            else:
                marks.append(draw(mark))
        lines.append(f"{draw(weights)}: {','.join(marks)}")
    data = draw(line_endings).join(lines).encode("utf-8", "surrogatepass")
    return draw(corrupt(data))


# --- RCTab configuration -------------------------------------------------------------------

# The cast-vote records every generated configuration reads (generic CSV; rank numbers
# per candidate column): a skipped rank, an equal ranking (overvote), a blank ballot
# and a write-in.
RCTAB_CVR = (
    "id,Lettuce,Broccoli,Cucumber,Write-In\n"
    "1,1,2,,\n2,2,1,3,\n3,,1,1,\n4,1,,2,3\n5,,,,\n6,3,,1,2\n7,1,3,,\n8,,1,2,\n"
)
# Each rule: (valid values, invalid values); a generated configuration picks an
# invalid value now and then, so most configurations get past validation.
RCTAB_OPTIONS: dict[str, tuple[list[Any], list[Any]]] = {
    "tiebreakMode": (
        [
            "useCandidateOrder",
            "random",
            "generatePermutation",
            "previousRoundCountsThenRandom",
        ],
        ["stopCountingAndAsk", "bogus"],
    ),
    "overvoteRule": (
        ["exhaustImmediately", "alwaysSkipToNextRank", "exhaustIfMultipleContinuing"],
        ["bogus"],
    ),
    "winnerElectionMode": (
        [
            "singleWinnerMajority",
            "singleWinnerMajority",
            "multiWinnerAllowMultipleWinnersPerRound",
            "multiWinnerAllowOnlyOneWinnerPerRound",
            "bottomsUp",
            "bottomsUpUsingPercentageThreshold",
            "multiPassIrv",
        ],
        ["bogus"],
    ),
    "randomSeed": (["42", "-7", "0"], ["", "x", "140737488355328"]),
    "numberOfWinners": (["1", "1", "2", "0"], ["-1", "x", 1]),
    "multiSeatBottomsUpPercentageThreshold": (["", "", "25", "12.5"], ["0", "101"]),
    "decimalPlacesForVoteArithmetic": (["4", "1", "20"], ["0", "21", "x"]),
    "maxSkippedRanksAllowed": (["unlimited", "0", "1"], ["-1"]),
    "maxRankingsAllowed": (["max", "3", "1"], ["0", "x"]),
    "stopTabulationEarlyAfterRound": (["", "", "1", "2"], ["0", "x"]),
}
RCTAB_FLAGS = [
    "nonIntegerWinningThreshold",
    "doesFirstRoundDetermineThreshold",
    "hareQuota",
    "batchElimination",
    "continueUntilTwoCandidatesRemain",
    "exhaustOnDuplicateCandidate",
    "cutoffElimination",
]
flag_values = st.sampled_from(
    [False, False, False, True, True, "true", "false", "maybe", None]
)


MODE_WINNERS = {
    "singleWinnerMajority": "1",
    "multiWinnerAllowMultipleWinnersPerRound": "2",
    "multiWinnerAllowOnlyOneWinnerPerRound": "2",
    "bottomsUp": "2",
    "bottomsUpUsingPercentageThreshold": "0",
    "multiPassIrv": "2",
}


@st.composite
def sound_rules(draw: st.DrawFn) -> dict[str, Any]:
    """Rules that pass validation, varied over the options that change results."""
    mode = draw(st.sampled_from(sorted(MODE_WINNERS)))
    single = mode in ("singleWinnerMajority", "multiPassIrv")
    rules: dict[str, Any] = {
        "winnerElectionMode": mode,
        "numberOfWinners": MODE_WINNERS[mode],
        "tiebreakMode": draw(st.sampled_from(RCTAB_OPTIONS["tiebreakMode"][0])),
        "randomSeed": draw(st.sampled_from(["42", "-7", "0"])),
        "overvoteRule": draw(st.sampled_from(RCTAB_OPTIONS["overvoteRule"][0])),
        "decimalPlacesForVoteArithmetic": draw(st.sampled_from(["4", "1", "20"])),
        "maxSkippedRanksAllowed": draw(st.sampled_from(["unlimited", "0", "1"])),
        "maxRankingsAllowed": draw(st.sampled_from(["max", "3"])),
        "multiSeatBottomsUpPercentageThreshold": "25"
        if mode == "bottomsUpUsingPercentageThreshold"
        else "",
        "stopTabulationEarlyAfterRound": draw(st.sampled_from(["", "", "1", "2"])),
        "exhaustOnDuplicateCandidate": draw(st.booleans()),
        "batchElimination": single and draw(st.booleans()),
        "continueUntilTwoCandidatesRemain": single and draw(st.booleans()),
        "doesFirstRoundDetermineThreshold": mode == "singleWinnerMajority"
        and draw(st.booleans()),
    }
    if mode.startswith("multiWinnerAllow") and draw(st.booleans()):
        rules[draw(st.sampled_from(["nonIntegerWinningThreshold", "hareQuota"]))] = True
    return rules


@st.composite
def wild_rules(draw: st.DrawFn) -> dict[str, Any]:
    """Any mix of valid and invalid settings."""
    rules: dict[str, Any] = {}
    for key, (valid, invalid) in RCTAB_OPTIONS.items():
        choice = draw(st.integers(0, 9))
        rules[key] = draw(st.sampled_from(invalid if choice == 0 else valid))
    for flag in RCTAB_FLAGS:
        if draw(st.booleans()):
            rules[flag] = draw(flag_values)
    return rules


@st.composite
def rctab_config(draw: st.DrawFn) -> bytes:
    sound = draw(st.booleans())
    rules = draw(sound_rules() if sound else wild_rules())
    if sound:
        people = ["Lettuce", "Broccoli", "Cucumber", "Kale"]
        candidates: list[Any] = [
            {
                "name": name,
                "excluded": name == "Kale" or draw(st.integers(0, 9)) == 0,
                "aliases": [],
            }
            for name in people[: draw(st.integers(3, 4))]
        ]
        if draw(st.booleans()):
            candidates[0]["aliases"] = ["1"]
    else:
        people = ["Lettuce", "Broccoli", "Cucumber", "Kale", ""]
        candidates = [
            maybe(
                draw,
                {
                    "name": draw(st.sampled_from(people)),
                    "excluded": draw(flag_values),
                    "aliases": draw(st.lists(st.sampled_from(people), max_size=2)),
                },
            )
            for _ in range(draw(st.integers(0, 4)))
        ]
    source = {
        "filePath": "cvr.csv",
        "provider": "genericCsv",
        "contestId": "",
        "firstVoteColumnIndex": "2",
        "firstVoteRowIndex": "2",
        "undeclaredWriteInLabel": "Write-In",
        "overvoteLabel": "",
        "treatBlankAsUndeclaredWriteIn": draw(st.booleans()),
    }
    if not sound:
        source.update(
            {
                "undeclaredWriteInLabel": draw(
                    st.sampled_from(["Write-In", "", "UWI"])
                ),
                "filePath": draw(st.sampled_from(["cvr.csv", "missing.csv", ""])),
                "provider": draw(st.sampled_from(["genericCsv", "ess", "cdf", "x"])),
                "firstVoteColumnIndex": draw(st.sampled_from(["2", "1", "9", "x"])),
                "firstVoteRowIndex": draw(st.sampled_from(["2", "1", "0"])),
                "treatBlankAsUndeclaredWriteIn": draw(flag_values),
            }
        )
    config = {
        "tabulatorVersion": "TEST",
        "outputSettings": maybe(
            draw,
            {
                "contestName": draw(usual_names),
                "contestDate": "2026-01-01",
                "contestJurisdiction": "",
                "contestOffice": "",
            },
        ),
        "cvrFileSources": maybe(
            draw, [maybe(draw, source)] * draw(st.sampled_from([1, 1, 1, 1, 1, 0, 2]))
        ),
        "candidates": maybe(draw, candidates),
        "rules": maybe(draw, rules),
    }
    data = json.dumps(maybe(draw, config)).encode("utf-8", "surrogatepass")
    return draw(corrupt(data))


# --- the property ----------------------------------------------------------------------

# (input format, file suffix, strategy)
READERS: dict[str, tuple[str, st.SearchStrategy[bytes]]] = {
    "blt": (".blt", blt_text()),
    "csv": (".csv", csv_text()),
    "cdf-json": (".json", cdf_json()),
    "ess-xlsx": (".xlsx", ess_xlsx()),
    "preflib": (".soi", preflib_text()),
    "rctab-config": ("_config.json", rctab_config()),
}


def load_or_reject(data: bytes, input_format: str, folder: Path) -> str:
    """Load ``data`` as ``input_format``: "loaded" or "rejected"; anything else raises.

    A loaded election is counted by a method fitting its ballots, which must not
    crash either (a ``TallyError`` there, such as no valid ballot, is a clean
    refusal too).
    """
    suffix = READERS[input_format][0]
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    if input_format == "rctab-config":
        return tabulate_or_reject(path, folder)
    try:
        election = load_ballots(path, input_format=input_format)
    except TallyInputError as error:
        assert str(error).startswith(str(path)), (
            f"error does not name the file: {error}"
        )
        return "rejected"
    method = "approval" if election.kind == "grid" else "irv"
    try:
        count(election, method=method, seed=1)
    except TallyError:
        return "rejected"
    return "loaded"


def tabulate_or_reject(config: Path, folder: Path) -> str:
    """Run an RCTab configuration: reports written, or a ``TallyError`` (configuration,
    input data or an aborted tabulation) and then no report at all (spec §7.3)."""
    (folder / "cvr.csv").write_text(RCTAB_CVR, encoding="utf-8")
    output = folder / "reports"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir()
    try:
        written = tabulate_rctab(config, output)
    except TallyError as error:
        assert not any(output.iterdir()), f"reports left after an error: {error}"
        return "rejected"
    assert written and all(Path(p).is_file() for p in written)
    return "loaded"


def fuzz_reader(input_format: str) -> Callable[..., None]:
    strategy = READERS[input_format][1]

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.one_of(strategy, st.binary(max_size=64)))
    def check(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            load_or_reject(data, input_format, Path(folder))

    return check


test_blt_reader_loads_or_rejects_cleanly = fuzz_reader("blt")
test_csv_reader_loads_or_rejects_cleanly = fuzz_reader("csv")
test_cdf_json_reader_loads_or_rejects_cleanly = fuzz_reader("cdf-json")
test_ess_xlsx_reader_loads_or_rejects_cleanly = fuzz_reader("ess-xlsx")
test_preflib_reader_loads_or_rejects_cleanly = fuzz_reader("preflib")
test_rctab_config_tabulates_or_rejects_cleanly = fuzz_reader("rctab-config")
