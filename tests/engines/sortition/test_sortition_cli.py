"""The ``commonground sortition`` command: JSON contract, text, lottery, draw."""

from __future__ import annotations

import hashlib
import json

import pytest

from commonground.cli import main as commonground
from commonground.engines.sortition import Lottery
from commonground.engines.sortition.cli import main
from support import shared_data

SMALL = ("example_small_20", "20")


def _example_args(name: str = SMALL[0], k: str = SMALL[1]) -> list[str]:
    folder = shared_data("sortition", "data", name)
    return [
        "--people",
        str(folder / "respondents.csv"),
        "--quotas",
        str(folder / "categories.csv"),
        "--panel-size",
        k,
    ]


def _json(capsys, argv):  # type: ignore[no-untyped-def]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_output_has_the_contract_keys(capsys):
    out = _json(capsys, [*_example_args(), "--seed", "3", "--draw", "2026"])
    assert out["format"] == "commonground-sortition/1"
    assert (
        out["algorithm"] == "leximin" and out["panel_size"] == 20 and out["seed"] == 3
    )
    assert set(out["people"]) == {str(i) for i in range(1, 201)}
    for person in out["people"].values():
        assert {"probability", "lottery_probability"} <= set(person)
    assert sum(p["probability"] for p in out["people"].values()) == pytest.approx(20)
    assert all(len(item["panel"]) == 20 for item in out["distribution"])
    assert sum(item["probability"] for item in out["distribution"]) == pytest.approx(1)
    lottery = out["lottery"]
    assert lottery["size"] == 1000 and len(lottery["panels"]) == 1000
    assert set(out["stats"]) >= {"min", "max", "gini"}
    assert out["stats"]["min"] == pytest.approx(0.1)
    drawn = out["drawn"]
    assert drawn == {
        "random_number": 2026,
        "index": 26,
        "panel": lottery["panels"][26],
    }


def test_draw_is_null_without_a_random_number(capsys):
    assert _json(capsys, [*_example_args(), "--lottery-size", "10"])["drawn"] is None


def test_lottery_file_hash_and_draw_subcommand_reproduce_the_draw(tmp_path, capsys):
    lottery_path = tmp_path / "lottery.json"
    args = [*_example_args(), "--seed", "9", "--lottery-size", "250"]
    assert main([*args, "--lottery-only", "--output", str(lottery_path)]) == 0
    full = _json(capsys, [*args, "--draw", "123456789012345678901234567890"])
    data = lottery_path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == full["lottery"]["sha256"]
    assert json.loads(data)["panels"] == full["lottery"]["panels"]
    # canonical: sorted keys, no spaces, no trailing newline
    assert (
        data
        == json.dumps(
            json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    replay = _json(
        capsys,
        ["draw", str(lottery_path), "--draw", "123456789012345678901234567890"],
    )
    assert replay["drawn"] == full["drawn"]
    assert replay["drawn"]["index"] == 123456789012345678901234567890 % 250
    assert replay["lottery"]["sha256"] == full["lottery"]["sha256"]
    assert replay["lottery"]["canonical"] is True


def test_the_top_level_command_dispatches_to_sortition(tmp_path, capsys):
    lottery_path = tmp_path / "lottery.json"
    args = ["sortition", *_example_args(), "--lottery-size", "20", "--lottery-only"]
    assert commonground([*args, "--output", str(lottery_path)]) == 0
    assert Lottery.from_bytes(lottery_path.read_bytes()).size == 20


def test_same_seed_gives_byte_identical_output(capsys):
    args = [*_example_args(), "--seed", "4", "--lottery-size", "50", "--draw", "7"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first


def test_text_report_explains_and_shows_the_draw(capsys):
    assert (
        main(
            [
                *_example_args(),
                "--format",
                "text",
                "--draw",
                "5",
                "--lottery-size",
                "40",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "LEXIMIN" in text and "smallest chance  10.00%" in text
    assert "R mod 40" in text and "5 mod 40 = 5" in text
    assert "commonground sortition draw LOTTERY.json --draw R" in text


def test_draw_subcommand_text_and_errors(tmp_path, capsys):
    lottery = Lottery(panel_size=2, panels=(("a", "b"), ("c", "d"), ("a", "d")))
    path = tmp_path / "l.json"
    path.write_bytes(lottery.to_bytes())
    assert main(["draw", str(path), "--draw", "4", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "4 mod 3 = 1" in out and "panel 1: c, d" in out
    path.write_text('{"format": "something else"}')
    assert main(["draw", str(path), "--draw", "1"]) == 2
    assert "not a lottery file" in capsys.readouterr().err
    path.write_text("{not json")
    assert main(["draw", str(path), "--draw", "1"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["draw", str(path), "--draw", "-3"])
    assert main(["draw", str(tmp_path / "missing.json"), "--draw", "1"]) == 2


def test_bad_input_gives_a_message_and_no_output_file(tmp_path, capsys):
    quotas = tmp_path / "q.csv"
    quotas.write_text("feature,value,min,max\ngender,f,1,x\n")
    people = tmp_path / "p.csv"
    people.write_text("gender\nf\nm\n")
    output = tmp_path / "out.json"
    argv = ["--people", str(people), "--quotas", str(quotas), "--panel-size", "1"]
    assert main([*argv, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert f"{quotas}, line 2, field 'max'" in err and "Traceback" not in err
    assert not output.exists()


def test_infeasible_quotas_exit_1_with_the_relaxation(tmp_path, capsys):
    quotas = tmp_path / "q.csv"
    quotas.write_text("feature,value,min,max\ngender,f,2,2\ngender,m,2,2\n")
    people = tmp_path / "p.csv"
    people.write_text("id,gender\n1,f\n2,f\n3,m\n4,m\n")
    output = tmp_path / "out.json"
    argv = ["--people", str(people), "--quotas", str(quotas), "--panel-size", "3"]
    assert main([*argv, "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert "Conflicting features: gender" in err and "from 2 to 1" in err
    assert not output.exists()


def test_household_columns_option_applies_the_household_rule(tmp_path, capsys):
    quotas = tmp_path / "q.csv"
    quotas.write_text("feature,value,min,max\ngender,f,0,2\n")
    people = tmp_path / "p.csv"
    people.write_text("id,gender,street\na,f,Elm 1\nb,f,elm 1\nc,f,Oak 2\n")
    out = _json(
        capsys,
        [
            "--people", str(people), "--quotas", str(quotas), "--panel-size", "2",
            "--household-columns", "street", "--lottery-size", "10",
        ],
    )  # fmt: skip
    assert out["people"]["c"]["probability"] == pytest.approx(1.0)
    assert out["people"]["a"]["probability"] == pytest.approx(0.5)
    assert all("c" in panel for panel in out["lottery"]["panels"])


def test_legacy_and_maximin_run_from_the_command_line(capsys):
    for algorithm in ("maximin", "legacy"):
        out = _json(
            capsys,
            [
                *_example_args(),
                "--algorithm",
                algorithm,
                "--lottery-size",
                "20",
                "--legacy-draws",
                "500",
            ],
        )
        assert out["algorithm"] == algorithm
        assert sum(p["probability"] for p in out["people"].values()) == pytest.approx(
            20
        )


def test_negative_seed_and_panel_size_are_usage_errors(capsys):
    for bad in (["--seed", "-1"], ["--lottery-size", "0"]):
        with pytest.raises(SystemExit) as caught:
            main([*_example_args(), *bad])
        assert caught.value.code == 2
        assert "must" in capsys.readouterr().err


def test_progress_goes_to_stderr_and_quiet_silences_it(capsys):
    assert main([*_example_args(), "--lottery-size", "10"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # standard output stays pure JSON
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("commonground sortition: [") for line in lines)
    assert lines[-1].endswith("done")
    assert main([*_example_args(), "--lottery-size", "10", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_json_says_the_result_is_optimal(capsys):
    out = _json(capsys, [*_example_args(), "--lottery-size", "10", "--quiet"])
    assert out["status"] == "optimal" and out["gap"] == 0.0


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf"])
def test_time_limit_must_be_a_positive_number_of_seconds(value, capsys):
    with pytest.raises(SystemExit) as caught:
        main([*_example_args(), "--time-limit", value])
    assert caught.value.code == 2
    assert "--time-limit" in capsys.readouterr().err


def test_draw_subcommand_reports_a_recorded_gap(tmp_path, capsys):
    path = tmp_path / "lottery.json"
    path.write_bytes(
        Lottery(panel_size=1, panels=(("a",), ("b",)), gap=0.0125).to_bytes()
    )
    assert main(["draw", str(path), "--draw", "3", "--format", "text"]) == 0
    assert "may be up to 1.25% below the best possible" in capsys.readouterr().out
    assert main(["draw", str(path), "--draw", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["lottery"]["gap"] == 0.0125
