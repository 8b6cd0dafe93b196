"""Hand-checked RCTab rule-set cases, config validation and reader errors.

Small contests are written as RCTab generic CSV files (header = candidates,
cells = rank numbers) next to a config built here, so each rule is checked on
ballots whose count is worked out in the comments.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from commonground.engines.tally._errors import TallyError
from commonground.engines.tally.rctab import (
    read_cdf_json,
    read_cdf_json_records,
    read_ess_xlsx,
    read_ess_xlsx_records,
    tabulate_rctab,
)
from commonground.engines.tally.rctab._reports import csv_field, percentage
from commonground.engines.tally.rctab._tabulator import hash_bucket, java_hash


def write_contest(
    folder: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    rules: dict[str, Any] | None = None,
    candidates: list[str] | None = None,
    source: dict[str, Any] | None = None,
) -> Path:
    """A generic-CSV contest ``folder/contest_config.json`` with default rules."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(["id", *header])]
    lines += [",".join([str(i), *row]) for i, row in enumerate(rows, start=1)]
    (folder / "ballots.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = {
        "outputSettings": {"contestName": "Test", "contestDate": "2024-01-01"},
        "cvrFileSources": [
            {
                "filePath": "ballots.csv",
                "provider": "genericCsv",
                "firstVoteColumnIndex": "2",
                "firstVoteRowIndex": "2",
                **(source or {}),
            }
        ],
        "candidates": [
            {"name": name, "aliases": [], "excluded": False}
            for name in (candidates if candidates is not None else header)
        ],
        "rules": {
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "exhaustImmediately",
            "winnerElectionMode": "singleWinnerMajority",
            "numberOfWinners": "1",
            "decimalPlacesForVoteArithmetic": "4",
            "maxSkippedRanksAllowed": "1",
            "maxRankingsAllowed": "max",
            **(rules or {}),
        },
    }
    path = folder / "contest_config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def run(config: Path, output: Path) -> dict[str, Any]:
    tabulate_rctab(config, output)
    report = output / "contest_detailed_report.json"
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return result


def test_majority_after_one_elimination_moves_the_excluded_candidates_votes(
    tmp_path: Path,
) -> None:
    # Ballots (A B C ranks): 3 x A first, 2 x B first, 2 x C first then B.
    # Round 1: A 3, B 2, C 2 of 7; threshold floor(7/2)+1 = 4; nobody wins.
    # C and B tie at 2: useCandidateOrder eliminates the later one, C.
    # Round 2: B 2 + 2 = 4 >= 4: B wins; the tie flag marks C.
    config = write_contest(
        tmp_path / "c",
        ["A", "B", "C"],
        [["1", "", ""]] * 3 + [["", "1", ""]] * 2 + [["", "2", "1"]] * 2,
    )
    report = run(config, tmp_path / "out")
    rounds = report["results"]
    assert rounds[0]["tally"] == {"A": "3", "B": "2", "C": "2"}
    assert rounds[0]["threshold"] == "4"
    assert rounds[0]["tallyResults"] == [{"eliminated": "C", "transfers": {"B": "2"}}]
    assert rounds[1]["tally"] == {"A": "3", "B": "4"}
    assert rounds[1]["tallyResults"] == [{"elected": "B", "transfers": {}}]
    csv_text = (tmp_path / "out" / "contest_detailed_report.csv").read_text("utf-8")
    assert "Eliminated,C*,,,,," in csv_text.splitlines()
    assert csv_text.splitlines()[-1] == "*Tie resolved in accordance with election law"


def test_surplus_fraction_is_truncated_and_the_residual_reported(
    tmp_path: Path,
) -> None:
    # 2 seats, 2 decimals; 10 ballots: 7 x A>B, 2 x C, 1 x B.
    # Threshold = floor(10/3)+1 = 4. A wins with 7: f = trunc2(3/7) = 0.42.
    # Each A ballot moves on at 0.42 to B: B = 1 + 7 x 0.42 = 3.94 (< 4);
    # A keeps 7 x 0.58 = 4.06, so 0.06 is residual surplus and A shows 4.
    # Round 2: B 3.94 and C 2 compete for 1 seat, nobody reaches 4: C (lowest)
    # is eliminated. Round 3: B is the only continuing candidate and wins.
    config = write_contest(
        tmp_path / "c",
        ["A", "B", "C"],
        [["1", "2", ""]] * 7 + [["", "", "1"]] * 2 + [["", "1", ""]],
        rules={
            "winnerElectionMode": "multiWinnerAllowMultipleWinnersPerRound",
            "numberOfWinners": "2",
            "decimalPlacesForVoteArithmetic": "2",
        },
    )
    rounds = run(config, tmp_path / "out")["results"]
    assert rounds[0]["tallyResults"] == [
        {"elected": "A", "transfers": {"B": "2.94", "residual surplus": "0.06"}}
    ]
    assert rounds[1]["tally"] == {"A": "4", "B": "3.94", "C": "2"}
    assert rounds[1]["tallyResults"][0]["eliminated"] == "C"
    assert rounds[2]["tallyResults"][0]["elected"] == "B"
    # The extra round of surplus modes: B's ballots leave as final-round surplus.
    assert rounds[-1]["inactiveBallots"]["finalRoundSurplus"] == "0.00"


def test_stop_counting_and_ask_aborts_at_a_tie_without_reports(tmp_path: Path) -> None:
    config = write_contest(
        tmp_path / "c",
        ["A", "B", "C"],
        [["1", "", ""]] * 3 + [["", "1", ""]] * 2 + [["", "", "1"]] * 2,
        rules={"tiebreakMode": "stopCountingAndAsk"},
    )
    output = tmp_path / "out"
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, output)
    assert caught.value.exit_code == 5
    assert "B, C" in str(caught.value)
    assert not output.exists() or not any(output.iterdir())


def test_previous_round_counts_then_ask_resolves_by_look_back_or_aborts(
    tmp_path: Path,
) -> None:
    # Round 1: A 3, B 2, C 2 -> the first tie has no earlier round: abort (exit 5).
    config = write_contest(
        tmp_path / "c",
        ["A", "B", "C"],
        [["1", "", ""]] * 3 + [["", "1", ""]] * 2 + [["", "", "1"]] * 2,
        rules={"tiebreakMode": "previousRoundCountsThenAsk"},
    )
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 5


def test_unrecognized_candidate_is_fatal_and_named(tmp_path: Path) -> None:
    config = write_contest(
        tmp_path / "c", ["A", "Zed"], [["1", "2"]], candidates=["A", "B"]
    )
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 3
    assert "unrecognized candidate" in str(caught.value)
    assert "'Zed' (1)" in str(caught.value)


def test_non_integer_rank_names_line_and_column(tmp_path: Path) -> None:
    config = write_contest(tmp_path / "c", ["A", "B"], [["1", "2"], ["x", "1"]])
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 3
    assert "ballots.csv:line 3, column 2: A:" in str(caught.value)


def test_ranking_above_the_maximum_is_fatal(tmp_path: Path) -> None:
    config = write_contest(
        tmp_path / "c",
        ["A", "B", "C"],
        [["1", "2", "3"]],
        rules={"maxRankingsAllowed": "2"},
    )
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert "line 2: rank 3" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"rules": {"winnerElectionMode": "bogus"}}, "rules.winnerElectionMode"),
        (
            {"rules": {"decimalPlacesForVoteArithmetic": "21"}},
            "rules.decimalPlacesForVoteArithmetic",
        ),
        ({"rules": {"tiebreakMode": "random"}}, "rules.randomSeed"),
        (
            {"rules": {"tiebreakMode": "random", "randomSeed": str(2**47)}},
            "rules.randomSeed",
        ),
        ({"rules": {"numberOfWinners": "0"}}, "rules.numberOfWinners"),
        ({"rules": {"numberOfWinners": "2"}}, "rules.winnerElectionMode"),
        ({"rules": {"hareQuota": True}}, "rules.hareQuota"),
        ({"rules": {"maxSkippedRanksAllowed": "-1"}}, "rules.maxSkippedRanksAllowed"),
        ({"candidates": [{"name": "A"}, {"name": "A"}]}, "candidates[1]"),
        (
            {
                "rules": {
                    "winnerElectionMode": "bottomsUpUsingPercentageThreshold",
                    "numberOfWinners": "0",
                    "multiSeatBottomsUpPercentageThreshold": "101",
                }
            },
            "rules.multiSeatBottomsUpPercentageThreshold",
        ),
    ],
)
def test_invalid_settings_are_rejected_with_their_key(
    tmp_path: Path, change: dict[str, Any], key: str
) -> None:
    config = write_contest(tmp_path / "c", ["A", "B"], [["1", "2"]])
    data = json.loads(config.read_text("utf-8"))
    for section, values in change.items():
        if isinstance(values, dict):
            data[section].update(values)
        else:
            data[section] = values
    config.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 4
    assert key in str(caught.value)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ({"provider": "dominion"}, "provider not supported"),
        ({"provider": "hart"}, "provider not supported"),
        ({"provider": "clearBallot"}, "provider not supported"),
        ({"provider": "cdf", "filePath": "ballots.xml", "contestId": "x"}, "CDF XML"),
    ],
)
def test_unsupported_providers_exit_3(
    tmp_path: Path, source: dict[str, Any], fragment: str
) -> None:
    config = write_contest(tmp_path / "c", ["A", "B"], [["1", "2"]], source=source)
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 3
    assert fragment in str(caught.value)


def test_missing_cvr_file_alone_is_an_input_error_naming_the_resolved_path(
    tmp_path: Path,
) -> None:
    config = write_contest(
        tmp_path / "c", ["A", "B"], [["1", "2"]], source={"filePath": "../gone.csv"}
    )
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 3
    assert str(tmp_path / "c" / ".." / "gone.csv") in str(caught.value)


def test_config_that_is_not_json_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "broken_config.json"
    config.write_text('{\n  "rules": ,\n}', encoding="utf-8")
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 4
    assert "line 2" in str(caught.value)


def test_cdf_errors_name_the_json_pointer(tmp_path: Path) -> None:
    document = {
        "Election": [
            {
                "Candidate": [{"@id": "c1", "Name": "A"}],
                "Contest": [
                    {
                        "@id": "k1",
                        "Name": "Mayor",
                        "ContestSelection": [{"@id": "s1", "CandidateIds": ["c1"]}],
                    }
                ],
            }
        ],
        "CVR": [
            {
                "CurrentSnapshotId": "n1",
                "CVRSnapshot": [
                    {
                        "@id": "n1",
                        "CVRContest": [
                            {
                                "ContestId": "k1",
                                "CVRContestSelection": [
                                    {
                                        "ContestSelectionId": "s1",
                                        "SelectionPosition": [{"Rank": "first"}],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(TallyError) as caught:
        read_cdf_json_records(path, "Mayor")
    assert str(caught.value).startswith(
        f"{path}:/CVR/0/CVRSnapshot/0/CVRContest/0/CVRContestSelection/0/"
        "SelectionPosition/0/Rank: Rank:"
    )
    document["CVR"][0]["CVRSnapshot"][0]["CVRContest"][0]["CVRContestSelection"][0][
        "SelectionPosition"
    ] = [{"Rank": 2}]
    path.write_text(json.dumps(document), encoding="utf-8")
    election = read_cdf_json(path)
    assert election.candidates == ("A",)
    assert dict(election.ballots) == {((), (0,)): 1}


def test_ess_reader_reads_only_rows_present_and_names_bad_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Votes"
    sheet.append(["Ballot", "Choice 1", "Choice 2"])
    sheet.append([1, "A", "B"])
    sheet.append([2, "overvote", "undervote"])
    sheet.cell(row=5, column=2, value="B| ")
    path = tmp_path / "cvr.xlsx"
    workbook.save(path)
    records = read_ess_xlsx_records(
        path,
        first_vote_row=2,
        first_vote_column=2,
        max_rankings=2,
        overvote_label="overvote",
        skipped_rank_label="undervote",
    )
    # Rows 2, 3 and 5 exist in the sheet; row 4 is absent and is not invented.
    assert [r.location for r in records] == [
        "sheet Votes, row 2",
        "sheet Votes, row 3",
        "sheet Votes, row 5",
    ]
    with pytest.raises(TallyError) as caught:
        read_ess_xlsx_records(
            path,
            first_vote_row=2,
            first_vote_column=2,
            max_rankings=2,
            overvote_delimiter="|",
        )
    assert "sheet Votes, cell B5: overvoteDelimiter" in str(caught.value)
    sheet.delete_rows(5)
    workbook.save(path)
    election = read_ess_xlsx(path)
    assert election.candidates == ("A", "B")
    assert dict(election.ballots) == {((0,), (1,)): 1, ((0, 1),): 1}


def test_java_string_hash_and_bucket_match_java() -> None:
    # "Aa" and "BB" collide in Java: 65*31 + 97 = 66*31 + 66 = 2112.
    assert java_hash("Aa") == java_hash("BB") == 2112
    assert java_hash("hello") == 99162322
    # A well-known Java string whose hashCode() is Integer.MIN_VALUE.
    assert java_hash("polygenelubricants") == 2**31
    assert hash_bucket("Aa", 16) == (2112 ^ 0) & 15


def test_percentages_and_csv_quoting_follow_rctab() -> None:
    assert percentage(Decimal(4), Decimal(12)) == "33.33%"
    assert percentage(Decimal(3), Decimal(12)) == "25.0%"
    assert percentage(Decimal(3), Decimal(0)) == ""
    assert csv_field("Carmona, Ralph C.", False) == '"Carmona, Ralph C."'
    assert csv_field("", True) == '""'
    assert csv_field("", False) == ""
    assert csv_field("#1", False) == '"#1"'
    assert csv_field("trailing ", False) == '"trailing "'
    assert csv_field('say "hi"', False) == '"say ""hi"""'


def test_slice_report_and_export_flags_are_accepted_with_a_warning(
    tmp_path: Path,
) -> None:
    config = write_contest(
        tmp_path / "c", ["A", "B"], [["1", "2"], ["2", "1"]] + [["1", ""]]
    )
    data = json.loads(config.read_text("utf-8"))
    data["outputSettings"].update(
        {"tabulateByPrecinct": True, "generateCdfJson": "true"}
    )
    config.write_text(json.dumps(data), encoding="utf-8")
    notes: list[str] = []
    written = tabulate_rctab(config, tmp_path / "out", on_warning=notes.append)
    assert len(notes) == 2
    assert "tabulateByPrecinct" in notes[0]
    assert "generateCdfJson" in notes[1]
    assert sorted(p.name for p in written) == [
        "contest_detailed_report.csv",
        "contest_detailed_report.json",
        "contest_summary.csv",
        "contest_summary.json",
        "contest_summary_report.csv",
    ]
    # Only the reports are left in the folder: the staging folder is gone.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in written
    )


def test_everyone_excluded_ends_without_a_winner(tmp_path: Path) -> None:
    config = write_contest(tmp_path / "c", ["A", "B"], [["1", "2"]])
    data = json.loads(config.read_text("utf-8"))
    for candidate in data["candidates"]:
        candidate["excluded"] = True
    config.write_text(json.dumps(data), encoding="utf-8")
    report = run(config, tmp_path / "out")
    assert len(report["results"]) == 1
    assert report["results"][0]["tally"] == {}
    assert report["results"][0]["inactiveBallots"]["exhaustedChoices"] == "1"


def write_ess_contest(
    folder: Path, rows: list[list[str | None]], rules: dict[str, Any]
) -> Path:
    """An ES&S contest (candidates A, B, C; delimiter "|") with ``rules``."""
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Ballot", "Choice 1", "Choice 2"])
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    workbook.save(folder / "ballots.xlsx")
    config = {
        "outputSettings": {"contestName": "Test"},
        "cvrFileSources": [
            {
                "filePath": "ballots.xlsx",
                "provider": "ess",
                "firstVoteColumnIndex": "2",
                "firstVoteRowIndex": "2",
                "overvoteDelimiter": "|",
            }
        ],
        "candidates": [{"name": name} for name in ("A", "B", "C")],
        "rules": {
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "exhaustIfMultipleContinuing",
            "winnerElectionMode": "singleWinnerMajority",
            "numberOfWinners": "1",
            "decimalPlacesForVoteArithmetic": "4",
            "maxSkippedRanksAllowed": "1",
            "maxRankingsAllowed": "2",
            **rules,
        },
    }
    path = folder / "contest_config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_overvote_counts_only_continuing_marks_and_repeats_count_twice(
    tmp_path: Path,
) -> None:
    # Ballots: 4 x C; 3 x A; 1 x B; 1 x B then "A|B"; 1 x "A|A".
    # Round 1: "A|A" names A twice: two continuing marks, an overvote (1).
    # C 4, A 3, B 2 of 9 active; threshold 5; B is eliminated.
    # Round 2: the B-only ballot exhausts; "A|B" now has one continuing mark
    # (A), so it counts for A: A 4, C 4; the 4-4 tie between the last two is
    # broken by candidate order: A, the earlier, wins.
    config = write_ess_contest(
        tmp_path / "c",
        [["C", None]] * 4
        + [["A", None]] * 3
        + [["B", None], ["B", "A|B"], ["A|A", None]],
        {},
    )
    rounds = run(config, tmp_path / "out")["results"]
    assert rounds[0]["inactiveBallots"]["overvotes"] == "1"
    assert rounds[0]["tally"] == {"A": "3", "B": "2", "C": "4"}
    assert rounds[0]["tallyResults"] == [
        {"eliminated": "B", "transfers": {"A": "1", "exhausted": "1"}}
    ]
    assert rounds[1]["tally"] == {"A": "4", "C": "4"}
    assert rounds[1]["tallyResults"] == [{"elected": "A", "transfers": {}}]


def test_repeated_name_within_one_rank_is_a_duplicate(tmp_path: Path) -> None:
    # With exhaustOnDuplicateCandidate the second "A" of "A|A" is a repeat:
    # the ballot is inactive by repeated rankings before the overvote rule.
    config = write_ess_contest(
        tmp_path / "c",
        [["A", None]] * 2 + [["B", None], ["A|A", None]],
        {"exhaustOnDuplicateCandidate": True, "overvoteRule": "exhaustImmediately"},
    )
    rounds = run(config, tmp_path / "out")["results"]
    assert rounds[0]["inactiveBallots"]["repeatedRankings"] == "1"
    assert rounds[0]["inactiveBallots"]["overvotes"] == "0"


def test_minimum_vote_threshold_drops_every_candidate_below_it_at_once(
    tmp_path: Path,
) -> None:
    # Ballots: 4 x A; 3 x B; 1 x C then B; 1 x D then B. minimumVoteThreshold 2.
    # Round 1: 9 active, threshold floor(9/2)+1 = 5, nobody wins; C and D (1 < 2)
    # are both eliminated, no tie-break. Round 2: A 4, B 3 + 2 = 5 >= 5: B wins.
    config = write_contest(
        tmp_path / "c",
        ["A", "B", "C", "D"],
        [["1", "", "", ""]] * 4
        + [["", "1", "", ""]] * 3
        + [["", "2", "1", ""], ["", "2", "", "1"]],
        rules={"minimumVoteThreshold": "2"},
    )
    rounds = run(config, tmp_path / "out")["results"]
    assert [r.get("eliminated") for r in rounds[0]["tallyResults"]] == ["C", "D"]
    assert rounds[1]["tally"] == {"A": "4", "B": "5"}
    assert rounds[1]["tallyResults"] == [{"elected": "B", "transfers": {}}]


def test_minimum_vote_threshold_above_everyone_aborts(tmp_path: Path) -> None:
    # 5 x A, 4 x B with minimumVoteThreshold 7: the threshold is raised to 7,
    # nobody reaches it, and every declared candidate is below the minimum.
    config = write_contest(
        tmp_path / "c",
        ["A", "B"],
        [["1", ""]] * 5 + [["", "1"]] * 4,
        rules={"minimumVoteThreshold": "7"},
    )
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 5
    assert "minimum vote threshold (7)" in str(caught.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_config_text_that_is_not_unicode_is_rejected_with_its_pointer(
    tmp_path: Path,
) -> None:
    config = write_contest(tmp_path / "c", ["A", "B"], [["1", "2"]])
    text = config.read_text("utf-8").replace('"Test"', '"\\udcff"')
    config.write_text(text, encoding="utf-8")
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, tmp_path / "out")
    assert caught.value.exit_code == 4
    assert ":/outputSettings/contestName: text:" in str(caught.value)


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    config = write_contest(tmp_path / "c", ["A", "B"], [["1", "2"]])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(TallyError) as caught:
        tabulate_rctab(config, blocker / "out")
    assert caught.value.exit_code == 4
    assert "cannot write the reports" in str(caught.value)


def test_json_strings_are_escaped_as_jackson_escapes_them() -> None:
    from commonground.engines.tally.rctab._reports import jackson_string

    # Short escapes for quote, backslash, \b \t \n \f \r; upper-case \u00XX for
    # other control characters; everything else raw (UTF-8 on disk).
    assert jackson_string('a"b\\c\t\n') == '"a\\"b\\\\c\\t\\n"'
    assert jackson_string("\x01\x1f") == '"\\u0001\\u001F"'
    assert jackson_string("Lé€\x7f/") == '"Lé€\x7f/"'
