"""The ``commonground tally`` command (spec §7.1): formats, errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from commonground.engines.tally import count, load_ballots
from commonground.engines.tally.cli import build_parser, main
from support import shared_data

# Round 1: Ann 4, Bo 3, Cy 2 (9 papers, majority 5); Cy excluded.
# Round 2: Cy's 2 papers: 1 to Bo, 1 exhausted -> Ann 4, Bo 4.  Equal
# finalists: look back to round 1, Ann 4 > Bo 3 -> Ann elected.
BLT = '3 1\n4 1 0\n3 2 0\n1 3 2 0\n1 3 0\n0\n"Ann"\n"Bo"\n"Cy"\n"Demo"\n'


@pytest.fixture
def ballots(tmp_path: Path) -> Path:
    path = tmp_path / "demo.blt"
    path.write_text(BLT, encoding="utf-8")
    return path


def run(capsysbinary, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsysbinary.readouterr()
    return code, out.decode("utf-8"), err.decode("utf-8")


def test_json_output_is_the_result_dictionary(ballots, capsysbinary):
    code, out, err = run(
        capsysbinary, str(ballots), "--method", "irv", "--format", "json"
    )
    assert code == 0
    expected = count(load_ballots(ballots), method="irv").to_dict()
    assert json.loads(out) == expected
    assert json.loads(out)["winners"] == ["Ann"]
    assert json.loads(out)["tie_breaks"][0]["resolved_by"] == "look_back"
    assert err == ""


def test_text_report_has_a_round_table_and_a_sentence_per_round(ballots, capsysbinary):
    code, out, _ = run(capsysbinary, str(ballots), "--method", "irv")
    assert code == 0
    assert "Round 1: First preferences were counted" in out
    assert "Round 2: Cy was excluded; 1 of their votes moved to Bo, 1 exhausted" in out
    assert "Elected: Ann" in out
    table_row = next(line for line in out.splitlines() if line.startswith("Bo "))
    assert table_row.split() == ["Bo", "3", "4"]


def test_csv_has_one_row_of_tallies_per_round(ballots, capsysbinary):
    code, out, _ = run(capsysbinary, str(ballots), "--method", "irv", "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "round,action,subject,Ann,Bo,Cy,exhausted,rounding_loss",
        "1,count,,4,3,2,0,0",
        "2,elimination,Cy,4,4,0,1,0",
    ]
    code, out, _ = run(
        capsysbinary, str(ballots), "--method", "plurality", "--format", "csv"
    )
    assert out.splitlines()[:2] == ["candidate,total,elected", "Ann,4,yes"]


def test_stv_uses_the_seats_of_the_blt_header_and_prints_exact_decimals(
    ballots, capsysbinary
):
    code, out, _ = run(
        capsysbinary, str(ballots), "--method", "stv", "--format", "json"
    )
    data = json.loads(out)
    assert code == 0 and data["seats"] == 1 and data["decimals"] == 5
    # Quota floor(9 / 2) + 1 = 5.
    assert data["quota"] == "5.00000"


def test_same_input_and_seed_give_byte_identical_output(ballots, capsysbinary):
    argv = [str(ballots), "--method", "stv", "--seed", "3", "--format", "json"]
    assert run(capsysbinary, *argv)[1] == run(capsysbinary, *argv)[1]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--method", "irv"], 2),
        (["BALLOTS"], 2),
        (["BALLOTS", "--method", "borda"], 2),
        (["BALLOTS", "--method", "irv", "--seats", "2"], 4),
        (["BALLOTS", "--method", "plurality", "--rules", "meek"], 4),
        (["MISSING", "--method", "irv"], 3),
        (["--rctab-config", "x.json"], 2),
    ],
)
def test_exit_codes_and_empty_stdout_on_error(ballots, capsysbinary, argv, code):
    argv = [
        str(ballots)
        if a == "BALLOTS"
        else str(ballots.with_name("missing.blt"))
        if a == "MISSING"
        else a
        for a in argv
    ]
    got, out, err = run(capsysbinary, *argv)
    assert got == code
    assert out == ""
    assert "commonground tally: error:" in err


def test_input_errors_name_file_line_and_field(tmp_path, capsysbinary):
    path = tmp_path / "bad.blt"
    path.write_text("2 1\n1 7 0\n0\nA\nB\n", encoding="utf-8")
    code, out, err = run(capsysbinary, str(path), "--method", "irv")
    assert code == 3 and out == ""
    assert err.strip() == (
        f"commonground tally: error: {path}:line 2: preference: "
        "candidate number 7 is out of range 1..2"
    )


def test_help_documents_every_option():
    text = build_parser().format_help()
    for option in build_parser()._option_string_actions:
        assert option in text
    for word in ("exit codes", "--rctab-config", "--output-dir", "BALLOTS"):
        assert word in text


def test_progress_bar_goes_to_stderr_never_stdout(ballots, capsysbinary):
    code, out, err = run(
        capsysbinary,
        str(ballots),
        "--method",
        "irv",
        "--format",
        "json",
        "--progress",
        "always",
    )
    assert code == 0
    assert "reading demo.blt" in err and "100%" in err
    assert "reading" not in out
    json.loads(out)


def test_command_runs_through_the_commonground_entry_point(ballots):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "commonground.cli",
            "tally",
            str(ballots),
            "--method",
            "irv",
        ],
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert b"Elected: Ann" in completed.stdout


def test_rctab_configuration_writes_reports(tmp_path, capsysbinary):
    case = shared_data("rctab") / "test_set_0_skipped_first_choice"
    config = case / "test_set_0_skipped_first_choice_config.json"
    code, out, err = run(
        capsysbinary, "--rctab-config", str(config), "--output-dir", str(tmp_path)
    )
    assert code == 0, err
    written = [Path(line) for line in out.splitlines()]
    assert any(p.name.endswith("_detailed_report.json") for p in written)
    assert all(p.exists() for p in written)


def test_names_with_undecodable_bytes_are_written_back_byte_exact(
    tmp_path, capsysbinary
):
    path = tmp_path / "bytes.blt"
    path.write_bytes(b'2 1\n2 1 0\n1 2 0\n0\n"Ann \xff"\n"Bo"\n"T"\n')
    assert main([str(path), "--method", "irv", "--format", "csv"]) == 0
    out, _ = capsysbinary.readouterr()
    assert (
        out.splitlines()[0]
        == b"round,action,subject,Ann \xff,Bo,exhausted,rounding_loss"
    )
