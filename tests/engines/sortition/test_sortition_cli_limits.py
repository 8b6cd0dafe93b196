"""Issue 17.9: ``commonground sortition`` given hostile files (huge, truncated,
binary, wrong-typed) or options past its limits answers one line on stderr and
exit status 2, before any selection work; the results are in docs/reliability.md."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from commonground.engines.sortition import _input_limits as limits
from commonground.engines.sortition.cli import main

QUOTAS = "feature,value,min,max\ngender,f,1,3\ngender,m,1,3\n"


def _people(count: int) -> str:
    return "id,gender\n" + "".join(
        f"{i},{'f' if i % 2 else 'm'}\n" for i in range(count)
    )


@pytest.fixture
def files(tmp_path: Path):
    def write(name: str, content: str | bytes) -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    return write


def _refused(capsys, argv: list[str]) -> str:
    started = time.perf_counter()
    code = main([*argv, "--quiet"] if argv[0] != "draw" else argv)
    captured = capsys.readouterr()
    assert time.perf_counter() - started < 10
    assert code == 2, captured.err
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and len(captured.err) < 400
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize(
    ("quotas", "expected"),
    [
        (QUOTAS.replace("1,3\ngender,m", "1," + "9" * 5000 + "\ngender,m"), "up to"),
        (QUOTAS.replace("1,3\ngender,m", "1," + "9" * 30 + "\ngender,m"), "up to"),
        ('feature,value,min,max\ngender,"f,1,3\n', "malformed CSV"),
        ('{"quotas": [1, 2]}', "the header must have the columns"),
        ("", "the file is empty"),
    ],
    ids=["5000-digit-max", "30-digit-max", "truncated", "json", "empty"],
)
def test_hostile_quota_files_are_refused_in_one_line(capsys, files, quotas, expected):
    argv = ["--people", files("people.csv", _people(20))]
    argv += ["--quotas", files("quotas.csv", quotas), "--panel-size", "4"]
    assert expected in _refused(capsys, argv)


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        (bytes(range(256)) * 8, "not UTF-8 text"),
        (b"id,gender\n1\x00,f\n2,m\n", "binary data"),
        (b"id,gender\n1,f\n2", "fields where the header has"),
    ],
    ids=["binary", "nul", "truncated"],
)
def test_hostile_people_files_are_refused_in_one_line(capsys, files, people, expected):
    argv = ["--people", files("people.csv", people)]
    argv += ["--quotas", files("quotas.csv", QUOTAS), "--panel-size", "2"]
    assert expected in _refused(capsys, argv)


def test_a_directory_or_an_oversized_file_is_refused_before_reading(
    capsys, files, tmp_path
):
    quotas = files("quotas.csv", QUOTAS)
    err = _refused(
        capsys, ["--people", str(tmp_path), "--quotas", quotas, "--panel-size", "2"]
    )
    assert "cannot read file" in err
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:  # sparse: nothing is written to disk
        handle.truncate(limits.MAX_INPUT_BYTES + 1)
    err = _refused(
        capsys, ["--people", str(huge), "--quotas", quotas, "--panel-size", "2"]
    )
    assert "input files are read up to" in err


@pytest.mark.parametrize(
    ("extra", "people", "field"),
    [
        (["--lottery-size", "1000000000"], 20, "lottery-size"),
        (["--panel-size", "1001"], 20, "panel-size"),
        (["--algorithm", "legacy", "--legacy-draws", "10000000"], 20, "legacy-draws"),
        ([], limits.MAX_POOL + 1, "people"),
    ],
    ids=["lottery", "panel", "legacy-draws", "pool"],
)
def test_options_past_the_limits_are_refused_before_selecting(
    capsys, files, extra, people, field
):
    argv = ["--people", files("people.csv", _people(people))]
    argv += ["--quotas", files("quotas.csv", QUOTAS), "--panel-size", "4", *extra]
    err = _refused(capsys, argv)
    assert f"field {field!r}" in err and "at most" in err


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, '{"size": ' + "9" * 5000 + "}", "[1, 2, 3]"],
    ids=["deep", "5000-digit", "wrong-type"],
)
def test_hostile_lottery_files_are_refused_by_draw(capsys, files, content):
    err = _refused(capsys, ["draw", files("lottery.json", content), "--draw", "1"])
    assert "lottery file" in err
