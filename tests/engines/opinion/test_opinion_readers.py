"""Readers and input validation of the opinion engine (spec §2, §3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from commonground.engines.opinion import (
    OpinionInputError,
    OpinionInputWarning,
    StatementTable,
    VoteTable,
    read_polis_api_json,
    read_polis_export,
    read_polis_summary,
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


# -- Pol.is layouts: columns by name (issue 14, "Open data") -------------------

OLD_COMMENTS = (
    "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
)
CURRENT_COMMENTS = (
    "timestamp,comment-id,author-id,agrees,disagrees,moderated,"
    "is-meta,is-seed,group-informed-consensus,comment-body\n"
)


def test_older_comments_layout_reads_authors_and_times(tmp_path: Path) -> None:
    table = read_statements_csv(
        write(
            tmp_path,
            "comments.csv",
            OLD_COMMENTS
            + "1500282615559,Mon Jul 17 16:10:15 WIB 2017,36,0,38,7,1,Opposition\n"
            + '1500282544716,Mon Jul 17 16:09:04 WIB 2017,34,12,56,2,-1,"a, b"\n',
        )
    )
    assert table.ids == ("36", "34")
    assert table.moderated.tolist() == [1, -1]
    assert table.text == ("Opposition", "a, b")
    assert table.author == ("0", "12")
    assert table.created is not None
    assert table.created.tolist() == [1500282615559, 1500282544716]
    # the older layout cannot flag meta or seed statements
    assert table.is_meta.tolist() == [False, False]
    assert table.is_seed.tolist() == [False, False]


def test_current_comments_layout_reads_meta_and_seed(tmp_path: Path) -> None:
    # bg2050-volunteers (compdemocracy/openData, 2024) has this header
    table = read_statements_csv(
        write(
            tmp_path,
            "comments.csv",
            CURRENT_COMMENTS
            + "1726860676783,2,0,57,0,1,false,true,0.6839,I hope\n"
            + '1726860773111,12,0,14,53,1,true,true,0.0321,"I have lived\nhere"\n'
            + "1727705798322,257,94,1,0,-1,false,false,0.3333,Museum\n",
        )
    )
    assert table.ids == ("2", "12", "257")
    assert table.is_meta.tolist() == [False, True, False]
    assert table.is_seed.tolist() == [True, True, False]
    assert table.moderated_out_ids() == {"12", "257"}  # meta, rejected
    assert table.text[1] == "I have lived\nhere"
    assert table.author == ("0", "0", "94")


def test_comment_columns_in_any_order_give_the_same_table(tmp_path: Path) -> None:
    ordered = read_statements_csv(
        write(tmp_path, "a.csv", CURRENT_COMMENTS + "5,1,7,0,0,1,true,false,,Hi\n")
    )
    shuffled = read_statements_csv(
        write(
            tmp_path,
            "b.csv",
            "comment-body,is-seed,moderated,comment-id,timestamp,is-meta,author-id\n"
            "Hi,false,1,1,5,true,7\n",
        )
    )
    for table in (ordered, shuffled):
        assert table.ids == ("1",) and table.text == ("Hi",)
        assert table.is_meta.tolist() == [True] and table.author == ("7",)
        assert table.created is not None and table.created.tolist() == [5]


def test_typescript_export_in_seconds_is_read_in_milliseconds(tmp_path: Path) -> None:
    # Pol.is's TypeScript server writes Math.floor(ms / 1000) and JS dates
    comments = read_statements_csv(
        write(
            tmp_path,
            "comments.csv",
            OLD_COMMENTS + '1726860676,"Fri Sep 20 2024 14:31:16 GMT-0500",2,0,1,0,0,'
            '"quoted ""always"""\n',
        )
    )
    assert comments.created is not None
    assert comments.created.tolist() == [1726860676000]
    assert comments.text == ('quoted "always"',)
    votes = read_votes_csv(
        write(
            tmp_path,
            "votes.csv",
            "timestamp,datetime,comment-id,voter-id,vote\n"
            "1726860583,Fri Sep 20 2024 14:29:43 GMT-0500,0,0,0\n"
            "1726864090,Fri Sep 20 2024 15:28:10 GMT-0500,0,1,1\n",
        )
    )
    assert votes.timestamp is not None
    assert votes.timestamp.tolist() == [1726860583000, 1726864090000]


def test_votes_csv_by_name_with_or_without_datetime(tmp_path: Path) -> None:
    expected = read_votes_csv(
        write(
            tmp_path,
            "a.csv",
            "timestamp,datetime,comment-id,voter-id,vote\n20,x,0,7,1\n10,x,1,7,-1\n",
        )
    )
    for name, text in (
        ("b.csv", "timestamp,comment-id,voter-id,vote\n20,0,7,1\n10,1,7,-1\n"),
        ("c.csv", "vote,voter-id,comment-id,timestamp\n1,7,0,20\n-1,7,1,10\n"),
    ):
        votes = read_votes_csv(write(tmp_path, name, text))
        assert votes.source == "polis-votes"
        assert votes.participant_ids == expected.participant_ids
        assert votes.statement_ids == expected.statement_ids
        assert votes.vote.tolist() == expected.vote.tolist() == [1, -1]
        assert votes.timestamp is not None and votes.timestamp.tolist() == [20, 10]


def test_matrix_with_xid_and_empty_group_id(tmp_path: Path) -> None:
    older = read_votes_csv(
        write(
            tmp_path,
            "older.csv",
            "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
            "0,0,1,2,1,1,1,-1\n18,,0,1,0,0,,0\n",
        )
    )
    current = read_votes_csv(
        write(
            tmp_path,
            "current.csv",
            "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
            "0,,0,1,2,1,1,1,-1\n18,abc,,0,1,0,0,,0\n",
        )
    )
    shuffled = read_votes_csv(
        write(
            tmp_path,
            "shuffled.csv",
            "n-votes,group-id,xid,participant,n-comments,n-disagree,n-agree,0,1\n"
            "2,0,,0,1,1,1,1,-1\n1,,abc,18,0,0,0,,0\n",
        )
    )
    for votes in (older, current, shuffled):
        assert votes.source == "polis-matrix"
        assert votes.participant_ids == ("0", "18")
        assert votes.statement_ids == ("0", "1")
        assert votes.participant.tolist() == [0, 0, 1]
        assert votes.statement.tolist() == [0, 1, 1]
        assert votes.vote.tolist() == [1, -1, 0]


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        (
            "comments.csv",
            CURRENT_COMMENTS.replace("\n", ",colour\n") + "1,1,0,0,0,"
            "1,false,false,,Hi,red\n",
            "colour",
        ),
        (
            "votes.csv",
            "timestamp,datetime,comment-id,voter-id,vote,weight\n1,x,0,7,1,0.5\n",
            "weight",
        ),
        (
            "pv.csv",
            "participant,xid,colour,group-id,n-comments,n-votes,n-agree,"
            "n-disagree,0\n0,,red,,0,1,1,0,1\n",
            "colour",
        ),
    ],
)
def test_unknown_column_is_ignored_with_a_warning(
    tmp_path: Path, name: str, text: str, column: str
) -> None:
    path = write(tmp_path, name, text)
    reader = read_statements_csv if name == "comments.csv" else read_votes_csv
    with pytest.warns(OpinionInputWarning) as caught:
        table = reader(path)
    assert len(table) == 1
    assert [str(w.message) for w in caught] == [
        f"{path}:1: {column}: unknown column, ignored"
    ]
    warning = caught[0].message
    assert isinstance(warning, OpinionInputWarning)
    assert (warning.path, warning.line, warning.field) == (str(path), 1, column)


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        (
            "comments.csv",
            "timestamp,comment-id,author-id,comment-body\n1,2,3,x\n",
            "moderated",
        ),
        ("comments.csv", "moderated,comment-body\n1,x\n", "comment-id"),
        ("votes.csv", "timestamp,datetime,comment-id,vote\n1,x,0,1\n", "voter-id"),
        ("votes.csv", "datetime,comment-id,voter-id,vote\nx,0,7,1\n", "timestamp"),
        (
            "pv.csv",
            "xid,group-id,n-comments,n-votes,n-agree,n-disagree,0\n,,0,1,1,0,1\n",
            "participant",
        ),
    ],
)
def test_missing_required_column_names_file_line_1_and_column(
    tmp_path: Path, name: str, text: str, column: str
) -> None:
    path = write(tmp_path, name, text)
    reader = read_statements_csv if name == "comments.csv" else read_votes_csv
    error = error_of(reader, path)
    assert (error.path, error.line, error.field) == (str(path), 1, column)
    assert error.message.startswith("missing column")
    assert str(error).startswith(f"{path}:1: {column}: missing column")


@pytest.mark.parametrize(
    ("name", "text", "line", "field"),
    [
        # a bad vote on line 4 of each layout
        (
            "votes.csv",
            "timestamp,comment-id,voter-id,vote\n1,0,7,1\n2,0,8,1\n3,0,9,agree\n",
            4,
            "vote",
        ),
        (
            "votes.csv",
            "vote,voter-id,comment-id,timestamp\n1,7,0,1\n1,8,0,2\n2,9,0,3\n",
            4,
            "vote",
        ),
        (
            "pv.csv",
            "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,"
            "5\n0,,,0,1,1,0,1\n1,,,0,1,1,0,1\n2,,,0,1,1,0,yes\n",
            4,
            "5",
        ),
        (
            "votes.csv",
            "timestamp,comment-id,voter-id,vote\n1,0,7,1\n2,0,8,1\nsoon,0,9,1\n",
            4,
            "timestamp",
        ),
        (
            "comments.csv",
            CURRENT_COMMENTS + "1,1,0,0,0,1,false,false,,a\n"
            "2,2,0,0,0,1,false,false,,b\n3,3,0,0,0,1,maybe,false,,c\n",
            4,
            "is-meta",
        ),
        (
            "comments.csv",
            CURRENT_COMMENTS + "1,1,0,0,0,1,false,false,,a\n"
            "2,2,0,0,0,1,false,false,,b\n3,3,0,0,0,2,false,false,,c\n",
            4,
            "moderated",
        ),
        (
            "comments.csv",
            CURRENT_COMMENTS + "1,1,0,0,0,1,false,false,,a\n"
            "2,2,0,0,0,1,false,false,,b\n,3,0,0,0,1,false,false,,c\n",
            4,
            "timestamp",
        ),
        (
            "comments.csv",
            CURRENT_COMMENTS + "1,1,0,0,0,1,false,false,,a\n"
            "2,2,0,0,0,1,false,false,,b\nlate,3,0,0,0,1,false,false,,c\n",
            4,
            "timestamp",
        ),
        (
            "comments.csv",
            CURRENT_COMMENTS + "1,1,0,0,0,1,false,false,,a\n"
            "2,2,0,0,0,1,false,false,,b\n3,3,0,0,0,1,false,false,,c,d\n",
            4,
            "row",
        ),
    ],
)
def test_malformed_value_names_its_line_and_field(
    tmp_path: Path, name: str, text: str, line: int, field: str
) -> None:
    path = write(tmp_path, name, text)
    reader = read_statements_csv if name == "comments.csv" else read_votes_csv
    error = error_of(reader, path)
    assert (error.path, error.line, error.field) == (str(path), line, field)
    assert str(error).startswith(f"{path}:{line}: {field}: ")


def test_duplicate_column_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "votes.csv",
        "timestamp,comment-id,voter-id,vote,vote\n1,0,7,1,1\n",
    )
    error = error_of(read_votes_csv, path)
    assert (error.line, error.field, error.message) == (1, "vote", "duplicate column")


def test_current_layout_export_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        "votes.csv",
        "timestamp,datetime,comment-id,voter-id,vote\n"
        "1726860583813,Fri Sep 20 14:29:43 CDT 2024,12,0,1\n",
    )
    write(
        tmp_path,
        "comments.csv",
        CURRENT_COMMENTS
        + "1726860773111,12,0,14,53,1,true,true,0.03,I have lived here\n",
    )
    votes, statements = read_polis_export(tmp_path)
    assert votes.source == "polis-votes" and statements.meta_ids() == {"12"}


def test_summary_rows_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "summary.csv",
        'topic,"Together, we\'ll build"\nurl,https://pol.is/3nemnipcrc\n'
        'voters,126\nconversation-description,"two\n\nparagraphs"',
    )
    summary = read_polis_summary(path)
    assert list(summary) == ["topic", "url", "voters", "conversation-description"]
    assert summary["topic"] == "Together, we'll build"
    assert summary["conversation-description"] == "two\n\nparagraphs"
    error = error_of(read_polis_summary, write(tmp_path, "s.csv", "a,1\nb\n"))
    assert (error.line, error.field) == (2, "row")
    error = error_of(read_polis_summary, write(tmp_path, "t.csv", "a,1\na,2\n"))
    assert (error.line, error.field) == (2, "key")
