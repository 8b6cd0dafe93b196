"""Writing a Pol.is openData folder (issue 14, "Open data"): the current layout,
deterministic bytes, and export -> import -> export giving the same files."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from opinion_conformance import OPENDATA, opendata_dir

from commonground.engines.opinion import (
    StatementTable,
    VoteTable,
    read_polis_export,
    read_polis_summary,
    read_statements_csv,
    read_votes_csv,
    write_polis_export,
)

FILES = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")
CURRENT_COMMENTS = (
    "timestamp,comment-id,author-id,agrees,disagrees,moderated,"
    "is-meta,is-seed,group-informed-consensus,comment-body"
)
CURRENT_MATRIX = "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree"


def assert_same_votes(first: VoteTable, second: VoteTable) -> None:
    """Equal in every field but the path they were read from."""
    assert first.participant_ids == second.participant_ids
    assert first.statement_ids == second.statement_ids
    assert first.source == second.source
    for name in ("participant", "statement", "vote", "line"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    if first.timestamp is None:
        assert second.timestamp is None
    else:
        assert second.timestamp is not None
        assert np.array_equal(first.timestamp, second.timestamp)


def statement_rows(table: StatementTable) -> dict[str, tuple[Any, ...]]:
    """A statement table keyed by id (the engine looks statements up by id)."""
    created = [None] * len(table) if table.created is None else table.created.tolist()
    return {
        sid: tuple(row)
        for sid, *row in zip(
            table.ids,
            table.moderated.tolist(),
            table.is_meta.tolist(),
            table.is_seed.tolist(),
            table.text,
            table.author,
            created,
            strict=True,
        )
    }


def csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def polis_groups(folder: Path) -> dict[str, int]:
    return {
        row[0]: int(row[1])
        for row in csv_rows(folder / "participants-votes.csv")[1:]
        if row[1]
    }


# -- the five real conversations ----------------------------------------------


@pytest.mark.parametrize("name", OPENDATA)
def test_real_export_round_trips_to_equal_tables_and_identical_bytes(
    tmp_path: Path, name: str
) -> None:
    source = opendata_dir(name)
    votes, statements = read_polis_export(source)
    summary = read_polis_summary(source / "summary.csv")
    write_polis_export(
        tmp_path / "first", votes=votes, statements=statements, summary=summary
    )
    again, again_statements = read_polis_export(tmp_path / "first")
    assert_same_votes(votes, again)
    assert statement_rows(again_statements) == statement_rows(statements)
    assert read_polis_summary(tmp_path / "first" / "summary.csv") == summary
    write_polis_export(
        tmp_path / "second",
        votes=again,
        statements=again_statements,
        summary=read_polis_summary(tmp_path / "first" / "summary.csv"),
    )
    first = file_bytes(tmp_path / "first")
    assert list(first) == sorted(FILES)
    assert file_bytes(tmp_path / "second") == first


@pytest.mark.parametrize("name", OPENDATA)
def test_real_matrix_round_trips_without_a_vote_log(tmp_path: Path, name: str) -> None:
    source = opendata_dir(name)
    votes = read_votes_csv(source / "participants-votes.csv")
    statements = read_statements_csv(source / "comments.csv")
    write_polis_export(tmp_path / "first", votes=votes, statements=statements)
    assert not (tmp_path / "first" / "votes.csv").exists()
    again, again_statements = read_polis_export(tmp_path / "first")
    assert_same_votes(votes, again)
    assert statement_rows(again_statements) == statement_rows(statements)
    write_polis_export(tmp_path / "second", votes=again, statements=again_statements)
    assert file_bytes(tmp_path / "second") == file_bytes(tmp_path / "first")


@pytest.mark.parametrize("name", OPENDATA)
def test_written_files_match_what_polis_wrote(tmp_path: Path, name: str) -> None:
    """Cell for cell, except the columns Pol.is fills from its own state."""
    source = opendata_dir(name)
    votes, statements = read_polis_export(source)
    write_polis_export(
        tmp_path,
        votes=votes,
        statements=statements,
        summary=read_polis_summary(source / "summary.csv"),
        groups=polis_groups(source),
    )
    # the matrix: same rows in the same order once our (empty) xid is dropped
    ours = csv_rows(tmp_path / "participants-votes.csv")
    assert {row[1] for row in ours[1:]} == {""}
    assert [row[:1] + row[2:] for row in ours] == csv_rows(
        source / "participants-votes.csv"
    )
    # the vote log: same rows in the same order but for the datetime text (zone)
    ours = csv_rows(tmp_path / "votes.csv")
    theirs = csv_rows(source / "votes.csv")
    assert [row[:1] + row[2:] for row in ours] == [row[:1] + row[2:] for row in theirs]
    assert (tmp_path / "summary.csv").read_bytes() == (
        source / "summary.csv"
    ).read_bytes()
    # comments: every older column kept, agrees/disagrees recounted alike
    header, *rows = csv_rows(tmp_path / "comments.csv")
    assert ",".join(header) == CURRENT_COMMENTS
    ours_by_id = {row[1]: row for row in rows}
    for row in csv_rows(source / "comments.csv")[1:]:
        timestamp, _date, sid, author, agrees, disagrees, moderated, body = row
        mine = ours_by_id.pop(sid)
        assert mine[0] == timestamp and mine[2] == author
        assert (mine[3], mine[4], mine[5]) == (agrees, disagrees, moderated)
        assert (mine[6], mine[7], mine[8], mine[9]) == ("false", "false", "", body)
    assert ours_by_id == {}


# -- hand-made tables -----------------------------------------------------------


def small_tables() -> tuple[VoteTable, StatementTable]:
    votes = VoteTable.from_records(
        [
            ("10", "2", 1, 1_500_000_003_000),
            ("9", "2", -1, 1_500_000_001_500),
            ("9", "2", 0, 1_500_000_002_000),  # re-vote: the matrix shows the pass
            ("10", "10", -1, 1_500_000_000_000),
            ("9", "1", 1, 1_500_000_005_000),
        ]
    )
    statements = StatementTable(
        ids=("10", "2", "1", "4"),
        moderated=np.asarray([1, 0, -1, 1], dtype=np.int8),
        is_meta=np.asarray([False, True, False, False]),
        text=('Say "yes", or\nno', "Meta?", "gone\r\nfor good", None),
        is_seed=np.asarray([True, False, False, False]),
        author=("9", None, "9", "10"),
        created=np.asarray([1_400_000_000_000, 5, 6, 7], dtype=np.int64),
    )
    return votes, statements


def test_current_layout_headers_order_quoting_and_line_ends(tmp_path: Path) -> None:
    votes, statements = small_tables()
    write_polis_export(tmp_path, votes=votes, statements=statements)
    comments = (tmp_path / "comments.csv").read_bytes().decode("utf-8")
    # rows by id; agrees/disagrees count vote rows, re-votes included
    assert comments == (
        CURRENT_COMMENTS + "\n"
        '6,1,9,1,0,-1,false,false,,"gone\r\nfor good"\n'
        "5,2,,1,1,0,true,false,,Meta?\n"
        "7,4,10,0,0,1,false,false,,\n"
        '1400000000000,10,9,0,1,1,false,true,,"Say ""yes"", or\nno"\n'
    )
    # every row, by (comment id, voter id, time); UTC dates as Java prints them
    assert (tmp_path / "votes.csv").read_text(encoding="utf-8") == (
        "timestamp,datetime,comment-id,voter-id,vote\n"
        "1500000005000,Fri Jul 14 02:40:05 UTC 2017,1,9,1\n"
        "1500000001500,Fri Jul 14 02:40:01 UTC 2017,2,9,-1\n"
        "1500000002000,Fri Jul 14 02:40:02 UTC 2017,2,9,0\n"
        "1500000003000,Fri Jul 14 02:40:03 UTC 2017,2,10,1\n"
        "1500000000000,Fri Jul 14 02:40:00 UTC 2017,10,10,-1\n"
    )
    # final votes; participants where first met in that order (9 on comment 1)
    assert (
        (tmp_path / "participants-votes.csv").read_text(encoding="utf-8")
        == (
            CURRENT_MATRIX + ",1,2,10\n"
            "9,,,2,2,1,0,1,0,\n"  # authored 10 and 1; passes count as votes
            "10,,,1,2,1,1,,1,-1\n"
        )
    )
    assert (tmp_path / "summary.csv").read_text(encoding="utf-8") == (
        "voters,2\nvoters-in-conv,2\ncommenters,2\ncomments,3\n"
    )
    for name in FILES:
        assert b"\r\n" not in (tmp_path / name).read_bytes().replace(
            b"gone\r\nfor", b""
        )


def test_hand_made_tables_survive_export_and_import(tmp_path: Path) -> None:
    votes, statements = small_tables()
    write_polis_export(tmp_path / "a", votes=votes, statements=statements)
    again, again_statements = read_polis_export(tmp_path / "a")
    assert again.timestamp is not None
    assert sorted(
        zip(
            [again.participant_ids[p] for p in again.participant.tolist()],
            [again.statement_ids[s] for s in again.statement.tolist()],
            again.vote.tolist(),
            again.timestamp.tolist(),
            strict=True,
        )
    ) == sorted(
        zip(
            [votes.participant_ids[p] for p in votes.participant.tolist()],
            [votes.statement_ids[s] for s in votes.statement.tolist()],
            votes.vote.tolist(),
            votes.timestamp.tolist() if votes.timestamp is not None else [],
            strict=True,
        )
    )
    rows = statement_rows(statements)
    rows["4"] = (1, False, False, "", "10", 7)  # no text is written as empty text
    assert statement_rows(again_statements) == rows
    write_polis_export(tmp_path / "b", votes=again, statements=again_statements)
    assert file_bytes(tmp_path / "b") == file_bytes(tmp_path / "a")


def test_shuffled_vote_rows_give_the_same_files(tmp_path: Path) -> None:
    votes, statements = small_tables()
    records = [
        (votes.participant_ids[p], votes.statement_ids[s], v, t)
        for p, s, v, t in zip(
            votes.participant.tolist(),
            votes.statement.tolist(),
            votes.vote.tolist(),
            votes.timestamp.tolist() if votes.timestamp is not None else [],
            strict=True,
        )
    ]
    write_polis_export(tmp_path / "a", votes=votes, statements=statements)
    random.Random(3).shuffle(records)
    shuffled = VoteTable.from_records(records)
    write_polis_export(tmp_path / "b", votes=shuffled, statements=statements)
    assert file_bytes(tmp_path / "b") == file_bytes(tmp_path / "a")


def test_untimed_votes_write_the_matrix_only(tmp_path: Path) -> None:
    (tmp_path / "votes.csv").write_text("stale\n")
    votes = VoteTable.from_records(
        [("a", "s", 1, None), ("b", "s", -1, None), ("a", "s", 0, None)]
    )
    statements = StatementTable.from_records([("s", 0, False, "S")])
    write_polis_export(tmp_path, votes=votes, statements=statements)
    assert not (tmp_path / "votes.csv").exists()  # it would shadow the matrix
    assert (tmp_path / "participants-votes.csv").read_text() == (
        CURRENT_MATRIX + ",s\na,,,0,1,0,0,0\nb,,,0,1,0,1,-1\n"  # a's last vote
    )
    again, _ = read_polis_export(tmp_path)
    assert again.source == "polis-matrix" and again.timestamp is None
    assert again.vote.tolist() == [0, -1]


def test_summary_and_groups(tmp_path: Path) -> None:
    votes, statements = small_tables()
    write_polis_export(
        tmp_path,
        votes=votes,
        statements=statements,
        summary={
            "conversation-description": "Why,\nand how?",
            "source": "Common Ground",
            "topic": "Parks",
            "voters": "3",
        },
        groups={"10": 1, "9": 0, "unknown": 4},
    )
    # Pol.is's keys in Pol.is's order (given values win), then the others
    assert read_polis_summary(tmp_path / "summary.csv") == {
        "topic": "Parks",
        "voters": "3",
        "voters-in-conv": "2",
        "commenters": "2",
        "comments": "3",
        "groups": "2",
        "conversation-description": "Why,\nand how?",
        "source": "Common Ground",
    }
    matrix = csv_rows(tmp_path / "participants-votes.csv")
    assert [(row[0], row[2]) for row in matrix[1:]] == [("9", "0"), ("10", "1")]


def test_empty_tables_write_headers(tmp_path: Path) -> None:
    empty = StatementTable.from_records([])
    write_polis_export(tmp_path, votes=VoteTable.empty(), statements=empty)
    assert (tmp_path / "comments.csv").read_text() == CURRENT_COMMENTS + "\n"
    assert (tmp_path / "participants-votes.csv").read_text() == CURRENT_MATRIX + "\n"
    votes, statements = read_polis_export(tmp_path)
    assert len(votes) == 0 and len(statements) == 0


def test_a_statement_id_the_matrix_cannot_carry_is_refused(tmp_path: Path) -> None:
    votes = VoteTable.from_records([("a", "xid", 1, None)])
    with pytest.raises(ValueError, match="'xid' cannot be a Pol.is matrix column"):
        write_polis_export(
            tmp_path, votes=votes, statements=StatementTable.from_records([])
        )
    assert not (tmp_path / "comments.csv").exists()


def test_older_and_typescript_layouts_are_written_in_the_current_one(
    tmp_path: Path,
) -> None:
    older = tmp_path / "older"
    older.mkdir()
    (older / "comments.csv").write_text(
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,"
        'comment-body\n1726860676,"Fri Sep 20 2024",2,0,1,0,1,"Hi"\n'
    )
    (older / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n"
        '1726860583,"Fri Sep 20 2024",2,0,1\n'
    )
    votes, statements = read_polis_export(older)
    write_polis_export(tmp_path / "current", votes=votes, statements=statements)
    current = tmp_path / "current"
    assert (current / "comments.csv").read_text() == (
        CURRENT_COMMENTS + "\n1726860676000,2,0,1,0,1,false,false,,Hi\n"
    )
    assert (current / "votes.csv").read_text().splitlines()[1] == (
        "1726860583000,Fri Sep 20 19:29:43 UTC 2024,2,0,1"
    )
