"""Ballot readers (spec §6): every dialect we accept, and one test per error kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from commonground.engines.tally import TallyInputError, count, load_ballots
from commonground.engines.tally._blt import read_blt


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


BASIC = '3 2\n4 1 2 0\n2 3 0\n1 2 3 1 0\n0\n"Ann"\n"Bo"\n"Cy"\n"Title"\n'


def test_basic_blt_is_read_with_seats_title_and_aggregated_ballots(tmp_path):
    election = load_ballots(write(tmp_path, "e.blt", BASIC))
    assert election.candidates == ("Ann", "Bo", "Cy")
    assert election.seats == 2 and election.title == "Title"
    assert dict(election.ballots) == {
        ((0,), (1,)): 4,
        ((2,),): 2,
        ((1,), (2,), (0,)): 1,
    }
    assert election.source_format == "blt" and election.source_file == "e.blt"


def test_blt_dialects_bom_crlf_commas_padding_ids_and_quoted_parties(tmp_path):
    text = (
        "\ufeff3 1 ,\r\n"
        "(a1) 1 1 2 0,\r\n"
        "   (a2)   1   2   0   \r\n"
        "\r\n"
        "0\r\n"
        '"Ann ""The Hammer"" Lee" "Party One"\r\n'
        "Bo Smith, Jr\r\n"
        '"Cy"\r\n'
        '"A title"\r\n'
    )
    election = load_ballots(write(tmp_path, "d.blt", text))
    assert election.candidates == ('Ann "The Hammer" Lee', "Bo Smith, Jr", "Cy")
    assert election.title == "A title"
    assert dict(election.ballots) == {((0,), (1,)): 1, ((1,),): 1}


def test_blt_with_cr_line_ends_is_read(tmp_path):
    election = load_ballots(write(tmp_path, "cr.blt", BASIC.replace("\n", "\r")))
    assert election.candidates == ("Ann", "Bo", "Cy")


def test_blt_names_are_kept_byte_exact_including_invalid_utf8(tmp_path):
    data = b'2 1\n1 1 0\n0\n"Le\xc3\x83\xc2\xb3dhas"\n"Bad \xff byte"\n"T"\n'
    election = load_ballots(write(tmp_path, "m.blt", data))
    assert election.candidates[0] == "Le\u00c3\u00b3dhas"
    assert election.candidates[1].encode("utf-8", "surrogateescape") == b"Bad \xff byte"


def test_blt_withdrawn_line_tie_line_nicknames_and_equal_ranks(tmp_path):
    text = "3 1\n-2\n[tie 3 1 2]\n2 1 2 0\n0\nA\nB\nC\nT\n"
    election = load_ballots(write(tmp_path, "w.blt", text))
    assert election.withdrawn == frozenset({1})
    assert election.tie_order == (2, 0, 1)
    text = "3 1\n[nick a b c]\n[withdrawn b]\n1 a b=c 0\n0\nA\nB\nC\nT\n"
    election = load_ballots(write(tmp_path, "n.blt", text))
    assert election.withdrawn == frozenset({1})
    assert dict(election.ballots) == {((0,), (1, 2)): 1}


@pytest.mark.parametrize(
    ("text", "location", "field", "message"),
    [
        ("", "line 1", "header", "empty"),
        ("3\n0\nA\nB\nC\n", "line 1", "header", "CANDIDATES SEATS"),
        ("2 3\n0\nA\nB\n", "line 1", "seats", "3 seats for 2 candidates"),
        ("2 1\n-x\n0\nA\nB\n", "line 2", "withdrawn", "bad entry"),
        ("2 1\n1 3 0\n0\nA\nB\n", "line 2", "preference", "out of range 1..2"),
        ("2 1\n1 z 0\n0\nA\nB\n", "line 2", "preference", "not a candidate number"),
        ("2 1\nx 1 0\n0\nA\nB\n", "line 2", "weight", "not a positive integer"),
        ("2 1\n0 1 0\n0\nA\nB\n", "line 2", "weight", "not a positive integer"),
        ("2 1\n1 1 2\n0\nA\nB\n", "line 2", "ballot", "does not end with 0"),
        ("2 1\n1 1 0 2 0\n0\nA\nB\n", "line 2", "ballot", "0 before the end"),
        ("2 1\n1 1 0\n", "line 2", "ballots", "missing the 0 line"),
        ("2 1\n1 1 0\n0\nA\n", "line 4", "candidates", "1 candidate names for 2"),
        ("2 1\n1 1 0\n0\nA\nA\n", "line 5", "candidate", "duplicate name"),
        ("2 1\n[tie 1 2\n0\nA\nB\n", "line 2", "option", "unterminated"),
        ("2 1\n[nick a]\n0\nA\nB\n", "line 2", "nick", "1 nicknames for 2"),
        ("2 1\n[tie 1 1]\n0\nA\nB\n", "line 2", "tie", "listed twice"),
    ],
)
def test_malformed_blt_names_line_and_field(tmp_path, text, location, field, message):
    path = write(tmp_path, "bad.blt", text)
    with pytest.raises(TallyInputError) as caught:
        load_ballots(path)
    error = caught.value
    assert (error.location, error.field) == (location, field)
    assert message in error.message
    assert str(error).startswith(f"{path}:{location}: {field}: ")
    assert error.exit_code == 3


def test_ranked_csv_with_weights_and_blank_skipped_ranks(tmp_path):
    text = "id,Rank 1,rank2,Choice 3,weight\n1,Ann,Bo,,2\n2,Cy,,Ann,1\n3,Ann,Bo,,1\n"
    election = load_ballots(write(tmp_path, "r.csv", text))
    assert election.candidates == ("Ann", "Bo", "Cy")
    assert dict(election.ballots) == {((0,), (1,)): 3, ((2,), (), (0,)): 1}
    assert count(election, method="irv").winners == ("Ann",)


def test_grid_csv_gives_scores_and_rankings(tmp_path):
    text = "\ufeffAnn,Bo,Cy\n5,3,\n0,4,5\n"
    election = load_ballots(write(tmp_path, "g.csv", text))
    assert election.kind == "grid"
    assert dict(election.ballots) == {(5, 3, 0): 1, (0, 4, 5): 1}
    assert count(election, method="score").rounds[0].tallies == {
        "Ann": 5,
        "Bo": 7,
        "Cy": 5,
    }


@pytest.mark.parametrize(
    ("text", "location", "field", "message"),
    [
        ("", "line 1", "header", "header row is required"),
        ("rank 1,Ann\nBo,1\n", "row 1, column 2", "header", "neither a rank column"),
        ("rank 1,weight\nAnn,0\n", "row 2, column 2", "weight", "not a positive"),
        ("rank 1,rank 2\nAnn\n", "row 2", "columns", "1 cells where the header has 2"),
        ("Ann,Bo\n1,x\n", "row 2, column 2", "Bo", "not an integer"),
        ("Ann,,Bo\n1,2,3\n", "row 1, column 2", "header", "blank candidate name"),
        ("Ann,Ann\n1,2\n", "row 1", "header", "appears twice"),
        ("rank 1,rank1\nA,B\n", "row 1", "header", "rank number appears twice"),
        ('rank 1\n"Ann\n', "line 2", "csv", "unexpected end of data"),
        ("weight\n1\n", "row 1", "header", "no candidate or rank columns"),
    ],
)
def test_malformed_csv_names_row_column_and_field(
    tmp_path, text, location, field, message
):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(TallyInputError) as caught:
        load_ballots(path)
    assert (caught.value.location, caught.value.field) == (location, field)
    assert message in caught.value.message


def test_preflib_soi_and_toc(tmp_path):
    text = (
        "# FILE NAME: x.toc\n# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: Bo\n"
        "# ALTERNATIVE NAME 3: Cy\n3: 1,2,3\n2: 3,{1,2}\n"
    )
    election = load_ballots(write(tmp_path, "p.toc", text))
    assert election.candidates == ("Ann", "Bo", "Cy")
    assert dict(election.ballots) == {((0,), (1,), (2,)): 3, ((2,), (0, 1)): 2}


@pytest.mark.parametrize(
    ("text", "location", "field"),
    [
        ("3: 1,2\n", "line 1", "header"),
        ("# ALTERNATIVE NAME 1: A\nx: 1\n", "line 2", "count"),
        ("# ALTERNATIVE NAME 1: A\n1: 2\n", "line 2", "preference"),
    ],
)
def test_malformed_preflib(tmp_path, text, location, field):
    with pytest.raises(TallyInputError) as caught:
        load_ballots(write(tmp_path, "bad.soi", text))
    assert (caught.value.location, caught.value.field) == (location, field)


def test_auto_detects_blt_by_content_and_rejects_unknown_files(tmp_path):
    assert load_ballots(write(tmp_path, "ballots.txt", BASIC)).seats == 2
    with pytest.raises(TallyInputError) as caught:
        load_ballots(write(tmp_path, "notes.txt", "hello\n"))
    assert caught.value.field == "input-format"
    with pytest.raises(TallyInputError, match="no such file"):
        load_ballots(tmp_path / "missing.blt")


def test_read_blt_accepts_bytes_directly():
    assert read_blt(BASIC.encode()).candidates == ("Ann", "Bo", "Cy")


def test_quoted_csv_cells_keep_commas_and_quotes(tmp_path):
    text = 'Rank 1,Rank 2\r\n"Ann, Jr","Bo ""B"""\r\nBo "B",\r\n'
    election = load_ballots(write(tmp_path, "q.csv", text))
    assert election.candidates == ("Ann, Jr", 'Bo "B"')
    assert dict(election.ballots) == {((0,), (1,)): 1, ((1,),): 1}


def test_an_error_in_a_repeated_row_names_its_first_line(tmp_path):
    text = "Ann,Bo\n1,2\n1,x\n1,2\n1,x\n"
    with pytest.raises(TallyInputError) as caught:
        load_ballots(write(tmp_path, "rep.csv", text))
    assert caught.value.location == "row 3, column 2"


@pytest.mark.parametrize(
    "case", ["test_set_0_skipped_first_choice", "test_set_1_exhaust_at_overvote"]
)
def test_cdf_json_ballots_give_rctabs_rounds_under_irv(case):
    # These RCTab cases use single-winner majority, exhaust on overvote and
    # no binding skip limit: exactly our IRV (spec §3.5).  Compare each
    # round's tallies with RCTab's expected detailed CSV.
    from support import shared_data

    folder = shared_data("rctab", case)
    election = load_ballots(folder / f"{case}_cvr.json")
    result = count(election, method="irv")
    lines = (folder / f"{case}_expected_detailed_report.csv").read_text().splitlines()
    winners = next(line for line in lines if line.startswith("Winner(s),"))
    assert result.winners == (winners.split(",", 1)[1],)
    start = lines.index(next(line for line in lines if line.startswith("Rounds,")))
    for line in lines[start + 1 :]:
        cells = line.split(",")
        if cells[0] not in election.candidates:
            continue
        expected = [int(cells[1 + 3 * r]) for r in range(len(result.rounds))]
        ours = [stage.tallies[cells[0]] for stage in result.rounds]
        assert ours == expected, cells[0]


def test_ess_xlsx_ballots_are_read_through_the_rctab_reader():
    from support import shared_data

    path = shared_data("rctab", "_shared") / "simple_ess_cvr.xlsx"
    election = load_ballots(path)
    assert election.source_format is not None
    assert election.total_weight == 10
    assert len(count(election, method="irv").winners) == 1


def test_preflib_duplicate_alternative_names_are_an_input_error(tmp_path):
    text = "# ALTERNATIVE NAME 1: A\n# ALTERNATIVE NAME 2: A\n1: 1,2\n"
    with pytest.raises(TallyInputError) as caught:
        load_ballots(write(tmp_path, "dup.soi", text))
    assert (caught.value.location, caught.value.field) == ("line 2", "alternative")
