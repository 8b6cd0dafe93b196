"""Readers and input validation of the opinion engine (spec §2, §3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from commonground.engines.opinion import (
    OpinionInputError,
    StatementTable,
    VoteTable,
    read_polis_api_json,
    read_polis_export,
    read_statements_csv,
    read_votes_csv,
)
from commonground.engines.opinion._data import (
    canonical_order,
    concat_votes,
    final_votes,
)

HEADER = "participant,statement,vote,timestamp\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(call, *args) -> OpinionInputError:  # type: ignore[no-untyped-def]
    with pytest.raises(OpinionInputError) as caught:
        call(*args)
    return caught.value


def test_our_csv_accepts_words_numbers_bom_crlf_and_iso_times(tmp_path: Path) -> None:
    text = (
        "\ufeff"
        + HEADER.replace("\n", "\r\n")
        + "a,s1,agree,2024-05-01T12:00:00Z\r\n"
        + "b,s1,-1,2024-05-01T12:00:01+00:00\r\n"
        + "a,s2,pass,1714564802000\r\n"
    )
    votes = read_votes_csv(write(tmp_path, "v.csv", text))
    assert votes.source == "votes-csv"
    assert votes.participant_ids == ("a", "b")
    assert votes.statement_ids == ("s1", "s2")
    assert votes.vote.tolist() == [1, -1, 0]
    # 2024-05-01T12:00:00Z = 1714564800 s
    assert votes.timestamp is not None
    assert votes.timestamp.tolist() == [1714564800000, 1714564801000, 1714564802000]
    assert votes.line is not None and votes.line.tolist() == [2, 3, 4]


def test_ids_are_kept_verbatim(tmp_path: Path) -> None:
    votes = read_votes_csv(write(tmp_path, "v.csv", HEADER + " A ,S,1,\nA,S,1,\n"))
    assert votes.participant_ids == (" A ", "A")
    assert votes.timestamp is None


@pytest.mark.parametrize(
    ("body", "line", "field", "fragment"),
    [
        ("a,s1,yes,\n", 2, "vote", "'yes' is not one of"),
        ("a,s1,2,\n", 2, "vote", "is not one of"),
        ("a,s1,1\n", 2, "row", "expected 4 columns, found 3"),
        ("a,s1,1,,extra\n", 2, "row", "expected 4 columns, found 5"),
        (",s1,1,\n", 2, "participant", "empty id"),
        ("a,,1,\n", 2, "statement", "empty id"),
        ("a,s1,1,5\nb,s1,1,\n", 3, "timestamp", "every row or in none"),
        ("a,s1,1,2024-05-01T12:00:00\n", 2, "timestamp", "naive"),
        ("a,s1,1,yesterday\n", 2, "timestamp", "ISO 8601"),
        ('a,"s1,1,\n', 2, "row", ""),
    ],
)
def test_bad_rows_name_file_line_and_field(
    tmp_path: Path, body: str, line: int, field: str, fragment: str
) -> None:
    path = write(tmp_path, "v.csv", HEADER + body)
    error = error_of(read_votes_csv, path)
    assert (error.line, error.field) == (line, field)
    assert fragment in error.message
    assert str(error).startswith(f"{path}:{line}: {field}: ")


def test_unknown_header_and_missing_file(tmp_path: Path) -> None:
    error = error_of(read_votes_csv, write(tmp_path, "v.csv", "who,what,how\n"))
    assert (error.line, error.field) == (1, "header")
    error = error_of(read_votes_csv, tmp_path / "absent.csv")
    assert error.field == "file" and "no such file" in error.message
    error = error_of(read_votes_csv, write(tmp_path, "e.csv", ""))
    assert error.field == "header"


def test_header_only_file_gives_an_empty_table(tmp_path: Path) -> None:
    votes = read_votes_csv(write(tmp_path, "v.csv", HEADER))
    assert len(votes) == 0 and votes.participant_ids == ()


def test_polis_votes_csv_and_matrix_are_detected(tmp_path: Path) -> None:
    log = write(
        tmp_path,
        "votes.csv",
        "timestamp,datetime,comment-id,voter-id,vote\n"
        "20,Mon Jul 17 02:17:32 WIB 2017,0,7,1\n"
        "10,x,1,7,-1\n",
    )
    votes = read_votes_csv(log)
    assert votes.source == "polis-votes"
    assert votes.participant_ids == ("7",)
    assert votes.statement_ids == ("0", "1")
    assert votes.timestamp is not None and votes.timestamp.tolist() == [20, 10]
    matrix = write(
        tmp_path,
        "participants-votes.csv",
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,3,1\n"
        "5,0,0,2,1,1,1,-1\n"
        "2,,0,1,0,0,,0\n",
    )
    votes = read_votes_csv(matrix)
    assert votes.source == "polis-matrix"
    assert votes.participant_ids == ("5", "2")
    assert votes.statement_ids == ("3", "1")
    assert votes.timestamp is None
    assert list(
        zip(
            votes.participant.tolist(),
            votes.statement.tolist(),
            votes.vote.tolist(),
            strict=True,
        )
    ) == [
        (0, 0, 1),
        (0, 1, -1),
        (1, 1, 0),
    ]
    bad = write(
        tmp_path,
        "pv.csv",
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,3\n5,0,0,1,1,0,x\n",
    )
    error = error_of(read_votes_csv, bad)
    assert (error.line, error.field) == (2, "3")


def test_polis_log_rejects_word_votes_and_iso_times(tmp_path: Path) -> None:
    head = "timestamp,datetime,comment-id,voter-id,vote\n"
    error = error_of(read_votes_csv, write(tmp_path, "a.csv", head + "1,x,0,7,agree\n"))
    assert error.field == "vote"
    error = error_of(
        read_votes_csv,
        write(tmp_path, "b.csv", head + "2024-05-01T12:00:00Z,x,0,7,1\n"),
    )
    assert error.field == "timestamp"


def test_statement_tables_ours_and_polis(tmp_path: Path) -> None:
    ours = write(
        tmp_path,
        "s.csv",
        "statement,moderated,is_meta,text\n1,-1,false,no\n2,0,true,meta\n3,,,\n",
    )
    table = read_statements_csv(ours)
    assert table.ids == ("1", "2", "3")
    assert table.moderated.tolist() == [-1, 0, 0]
    assert table.is_meta.tolist() == [False, True, False]
    assert table.moderated_out_ids() == {"1", "2"}
    minimal = read_statements_csv(write(tmp_path, "m.csv", "statement\n9\n"))
    assert minimal.ids == ("9",) and minimal.moderated.tolist() == [0]
    polis = write(
        tmp_path,
        "comments.csv",
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        '1,x,4,0,1,0,-1,"two\nlines"\n'
        "2,x,5,0,1,0,1,ok\n",
    )
    table = read_statements_csv(polis)
    assert table.ids == ("4", "5")
    assert table.text == ("two\nlines", "ok")
    assert table.moderated_out_ids() == {"4"}


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("statement,moderated\n1,2\n", 2, "moderated"),
        ("statement,is_meta\n1,maybe\n", 2, "is_meta"),
        ("statement\n1\n1\n", 3, "statement"),
        ("statement,colour\n1,red\n", 1, "header"),
        (
            "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
            "1,x,4,0,1,0,0,a\n2,x,4,0,1,0,0,b\n",
            3,
            "comment-id",
        ),
    ],
)
def test_bad_statement_tables(tmp_path: Path, text: str, line: int, field: str) -> None:
    error = error_of(read_statements_csv, write(tmp_path, "s.csv", text))
    assert (error.line, error.field) == (line, field)


def test_api_json_both_spellings(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "votes.json").write_text(
        json.dumps(
            [
                {"pid": 3, "tid": 1, "vote": 1, "modified": "20"},
                {"pid": 4, "tid": 1, "vote": -1, "modified": "10"},
            ]
        )
    )
    (raw / "comments.json").write_text(
        json.dumps([{"tid": 1, "mod": -1, "is_meta": False, "txt": "hi"}])
    )
    votes, statements = read_polis_api_json(raw)
    assert votes.source == "polis-api"
    assert votes.participant_ids == ("3", "4")
    assert votes.timestamp is not None and votes.timestamp.tolist() == [20, 10]
    assert statements.moderated_out_ids() == {"1"}
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    (renamed / "votes.json").write_text(
        json.dumps(
            [{"participant_id": 3, "statement_id": 1, "vote": 0, "modified": 5.0}]
        )
    )
    (renamed / "comments.json").write_text(
        json.dumps([{"statement_id": 1, "moderated": 1, "is_meta": True}])
    )
    votes, statements = read_polis_api_json(renamed)
    assert votes.vote.tolist() == [0]
    assert statements.meta_ids() == {"1"}
    (renamed / "votes.json").write_text(json.dumps([{"pid": 1, "tid": 1, "vote": 7}]))
    error = error_of(read_polis_api_json, renamed)
    assert (error.line, error.field) == ("item 0", "vote")
    assert str(error).endswith(":item 0: vote: 7 is not 1, -1 or 0")


def test_polis_export_folder_prefers_the_log(tmp_path: Path) -> None:
    (tmp_path / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,1\n"
    )
    (tmp_path / "participants-votes.csv").write_text(
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0\n0,,0,1,1,0,1\n"
    )
    (tmp_path / "comments.csv").write_text(
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1,x,0,0,1,0,0,a\n"
    )
    votes, statements = read_polis_export(tmp_path)
    assert votes.source == "polis-votes" and statements.ids == ("0",)
    (tmp_path / "votes.csv").unlink()
    votes, _ = read_polis_export(tmp_path)
    assert votes.source == "polis-matrix"
    error = error_of(read_polis_export, tmp_path / "nowhere")
    assert error.field == "directory"


def test_from_records_validates_every_field() -> None:
    table = VoteTable.from_records([("p", "s", "agree", None), (1, 2, -1, None)])
    assert table.participant_ids == ("p", "1") and table.vote.tolist() == [1, -1]
    error = error_of(VoteTable.from_records, [("p", "s", 3, None)])
    assert (error.line, error.field) == ("item 0", "vote")
    error = error_of(VoteTable.from_records, [("p", "s", 1, 5), ("p", "t", 1, None)])
    assert (error.line, error.field) == ("item 1", "timestamp")
    error = error_of(VoteTable.from_records, [("", "s", 1, None)])
    assert error.field == "participant"
    with pytest.raises(OpinionInputError):
        StatementTable.from_records([("1", 5, False)])


def test_last_vote_wins_by_timestamp_then_position() -> None:
    votes = VoteTable.from_records(
        [
            ("a", "s", 1, 30),
            ("a", "s", -1, 10),  # earlier in time: overwritten by the first row
            ("b", "s", 1, 20),
            ("b", "s", 0, 20),  # same time: the later row wins
        ]
    )
    final = final_votes(votes, "encounter")
    assert final.participant_ids == ("a", "b")  # a first votes at 10
    assert final.vote.tolist() == [1, 0]


def test_encounter_and_canonical_orders() -> None:
    votes = VoteTable.from_records(
        [("10", "b", 1, 3), ("9", "a", 1, 2), ("10", "a", 1, 1), ("x10", "c", 1, 4)]
    )
    encounter = final_votes(votes, "encounter")
    assert encounter.participant_ids == ("10", "9", "x10")
    assert encounter.statement_ids == ("a", "b", "c")
    canonical = final_votes(votes, "canonical")
    # not all ids are decimal: code-point order
    assert canonical.participant_ids == ("10", "9", "x10")
    ids = ("10", "9", "100", "09")
    # equal numbers are ordered by their text
    assert [ids[i] for i in canonical_order(ids)] == ["09", "9", "10", "100"]
    assert list(
        zip(canonical.row.tolist(), canonical.col.tolist(), strict=True)
    ) == sorted(zip(canonical.row.tolist(), canonical.col.tolist(), strict=True))


def test_concat_keeps_codes_of_the_first_table() -> None:
    first = VoteTable.from_records([("a", "s", 1, 1)])
    second = VoteTable.from_records([("b", "s", -1, 2), ("a", "t", 0, 3)])
    both = concat_votes(first, second)
    assert both.participant_ids == ("a", "b")
    assert both.statement_ids == ("s", "t")
    assert both.participant.tolist() == [0, 1, 0]
    assert both.statement.tolist() == [0, 0, 1]
    assert both.timestamp is not None and both.timestamp.tolist() == [1, 2, 3]
    untimed = concat_votes(first, VoteTable.from_records([("c", "s", 1, None)]))
    assert untimed.timestamp is None
    assert np.array_equal(concat_votes(VoteTable.empty(), second).vote, second.vote)
