"""``commonground opinion`` (spec §7): inputs, exit codes, JSON and text output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from opinion_conformance import opendata_dir

from commonground.cli import main as commonground_main
from commonground.engines.opinion import read_polis_export, write_polis_export
from commonground.engines.opinion.cli import main

HEADER = "participant,statement,vote,timestamp\n"


def camps_csv(tmp_path: Path, *, timed: bool = True) -> Path:
    lines = [HEADER.rstrip("\n")]
    t = 1_700_000_000_000
    for p in range(12):
        for s in range(8):
            vote = "agree" if (p < 6) == (s < 4) else "disagree"
            if (p + s) % 9 == 0:
                vote = "pass"
            lines.append(f"p{p},s{s},{vote},{t if timed else ''}")
            t += 1500
    path = tmp_path / "votes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("mode", ["polis", "improved"])
def test_votes_csv_to_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    path = camps_csv(tmp_path)
    code, out, err = run(capsys, str(path), "--mode", mode)
    assert code == 0, err
    assert out.endswith("}\n") and out.count("\n") == 1
    data = json.loads(out)
    assert data["format"] == "commonground-opinion/1"
    assert data["mode"] == mode
    assert data["input"]["source"] == "votes-csv"
    assert data["input"]["votes"] == 96
    assert data["k"] == 2
    assert list(data["participants"])[:3] == ["p0", "p1", "p10"]  # code-point order
    code, again, _ = run(capsys, str(path), "--mode", mode)
    assert again == out  # byte-identical


def test_polis_replay_and_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = camps_csv(tmp_path)
    code, out, err = run(
        capsys, str(path), "--mode", "polis", "--replay", "--replay-window-ms", "3000"
    )
    assert code == 0, err
    diagnostics = json.loads(out)["diagnostics"]
    assert diagnostics["replay_window_ms"] == 3000
    assert diagnostics["ticks"] == 48  # two votes (1.5 s apart) per 3 s window
    assert diagnostics["reboot_before_final"] is True


def test_replay_without_timestamps_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = camps_csv(tmp_path, timed=False)
    code, out, err = run(capsys, str(path), "--mode", "polis", "--replay")
    assert code == 2 and out == ""
    assert err.startswith(f"{path}:1: timestamp: ")
    code, out, err = run(capsys, str(path), "--replay")  # improved: ignored
    assert code == 0
    assert "replay_ignored" in json.loads(out)["diagnostics"]["warnings"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("p1,s1,maybe,\n", ":2: vote: 'maybe' is not one of"),
        ("p1,s1\n", ":2: row: expected 4 columns, found 2"),
    ],
)
def test_bad_input_exits_2_with_file_line_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    code, out, err = run(capsys, str(path))
    assert code == 2 and out == ""
    assert err == f"{path}{expected}" + err[len(str(path)) + len(expected) :]
    assert "Traceback" not in err


def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--mode", "other", str(tmp_path))[0] == 2
    assert run(capsys)[0] == 2
    code, _out, err = run(capsys, str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv:0: file: no such file" in err
    assert run(capsys, str(camps_csv(tmp_path)), "--seed", "-1")[0] == 2


def test_comments_option_applies_moderation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comments = tmp_path / "statements.csv"
    comments.write_text(
        "statement,moderated,is_meta,text\ns0,-1,false,Gone\ns1,0,false,Kept\n"
    )
    code, out, err = run(
        capsys, str(camps_csv(tmp_path)), "--comments", str(comments), "--mode", "polis"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["input"]["moderated_out"] == ["s0"]
    assert data["statements"]["s0"]["moderated_out"] is True


def test_empty_conversation_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(HEADER)
    for mode in ("polis", "improved"):
        code, out, err = run(capsys, str(path), "--mode", mode)
        assert code == 0, err
        data = json.loads(out)
        assert data["k"] == 0 and data["participants"] == {}
        assert "no_votes" in data["diagnostics"]["warnings"]


def test_text_summary_of_an_open_data_export(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = opendata_dir("brexit-consensus")
    code, out, err = run(capsys, str(folder), "--mode", "polis", "--format", "text")
    assert code == 0, err
    assert "204 participants, 50 statements, 5303 votes" in out
    assert "Group A:" in out and "Group B:" in out
    assert "What most participants agree on:" in out
    assert "Common ground" in out
    # statement text comes from comments.csv
    assert "The Northern Ireland/Republic of Ireland border" in out


def test_matrix_export_folder_and_dispatcher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = opendata_dir("brexit-consensus")
    matrix = folder / "participants-votes.csv"
    code = commonground_main(["opinion", str(matrix), "--mode", "polis"])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert data["input"]["source"] == "polis-matrix"
    assert data["input"]["votes"] == 5303


def test_installed_command_runs_in_a_fresh_process(tmp_path: Path) -> None:
    path = camps_csv(tmp_path)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "commonground.cli",
            "opinion",
            str(path),
            "--format",
            "text",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "opinion group(s)" in completed.stdout


def test_current_layout_folder_gives_the_same_map_as_the_older_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = opendata_dir("brexit-consensus")
    votes, statements = read_polis_export(older)
    write_polis_export(tmp_path, votes=votes, statements=statements)
    assert (
        (tmp_path / "comments.csv")
        .read_text()
        .startswith(
            "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,is-seed,"
        )
    )
    code, expected, err = run(capsys, str(older), "--mode", "polis")
    assert code == 0, err
    code, out, err = run(capsys, str(tmp_path), "--mode", "polis")
    assert code == 0 and err == ""
    result, reference = json.loads(out), json.loads(expected)
    del result["input"]["path"], reference["input"]["path"]
    assert result == reference


def test_unknown_column_is_a_warning_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "votes.csv").write_text(
        "timestamp,comment-id,voter-id,vote,weight\n"
        + "".join(
            f"{1_700_000_000_000 + 1000 * (p * 8 + s)},{s},{p},"
            f"{1 if (p < 6) == (s < 4) else -1},1\n"
            for p in range(12)
            for s in range(8)
        )
    )
    (tmp_path / "comments.csv").write_text(
        "comment-id,moderated,comment-body\n"
        + "".join(f"{s},1,S{s}\n" for s in range(8))
    )
    code, out, err = run(capsys, str(tmp_path))
    assert code == 0
    assert json.loads(out)["k"] == 2
    assert (
        err == f"warning: {tmp_path / 'votes.csv'}:1: weight: unknown column, ignored\n"
    )


# --- hostile input and limits (issue 17.9) -------------------------------------------


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and len(err) <= 310
    assert "Traceback" not in err and "internal error" not in err
    return err


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (HEADER + "a,s1,agree," + "9" * 30 + "\n", "out of range"),
        (HEADER + "a,s1,agree,-" + "9" * 30 + "\n", "out of range"),
        (HEADER + "a,s1,agree," + "9" * 5000 + "\n", "timestamp"),
        (HEADER + "a," + "9" * 5000 + ",agree,\n", "characters in a statement id"),
        (HEADER + 'a,"s1,agree,\n', "malformed CSV"),
        ('{"votes": [1, 2, 3]}\n', "header"),
        (HEADER + "a,s1,1e999,\n", "is not one of"),
    ],
    ids=[
        "timestamp-past-64-bits",
        "negative-timestamp-past-64-bits",
        "5000-digit-timestamp",
        "5000-digit-statement-id",
        "truncated",
        "json-instead-of-csv",
        "odd-vote",
    ],
)
def test_hostile_votes_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(body, encoding="utf-8")
    assert expected in _refused(capsys, str(path))


def test_binary_and_oversized_files_exit_2_before_fitting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from commonground.engines.opinion.cli import LIMITS

    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 16)
    assert "not UTF-8" in _refused(capsys, str(binary))
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:  # sparse: nothing is written to disk
        handle.truncate(LIMITS.input_bytes + 1)
    assert "input files are read up to" in _refused(capsys, str(huge))


@pytest.mark.parametrize(
    ("limit", "args", "expected"),
    [
        ({"votes": 95}, (), "96 vote rows"),
        ({"participants": 11}, (), "12 participants"),
        ({"statements": 7}, (), "8 statements"),
        ({"polis_cells": 95}, ("--mode", "polis"), "96 participants x statements"),
        (
            {"replay_work": 96 * 10},
            ("--mode", "polis", "--replay"),
            "replay ticks x participants x statements",
        ),
    ],
    ids=["votes", "participants", "statements", "polis-cells", "replay"],
)
def test_conversations_past_the_limits_are_refused_before_fitting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    limit: dict[str, int],
    args: tuple[str, ...],
    expected: str,
) -> None:
    """12 participants x 8 statements = 96 votes (camps_csv); the limits are
    lowered to just below that so the test stays small."""
    from commonground.engines.opinion import cli

    monkeypatch.setattr(cli, "LIMITS", cli.OpinionLimits(**limit))
    err = _refused(capsys, str(camps_csv(tmp_path)), *args)
    assert expected in err and "at most" in err
    monkeypatch.setattr(cli, "LIMITS", cli.OpinionLimits())
    assert run(capsys, str(camps_csv(tmp_path)), *args)[0] == 0
