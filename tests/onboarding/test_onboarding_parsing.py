"""Column guesses, values and postcodes: what a register row may hold and how each
failure is named by line and column. No database."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from commonground.onboarding import postcodes
from commonground.onboarding.columns import guess_mapping, mapping_problems
from commonground.onboarding.parsing import ParsedRow, RowError, RowParser, parse_date

ACTION_NETWORK = ["first_name", "last_name", "email", "zip_code", "can2_phone", "uuid"]
CIVICRM = [
    "Contact ID",
    "First Name",
    "Last Name",
    "Email",
    "Postal Code",
    "Member Since",
    "Membership Status",
    "Membership Type",
    "Phone",
]


def test_action_network_headers_are_guessed():
    assert guess_mapping(ACTION_NETWORK) == [
        "first_name",
        "last_name",
        "email",
        "postcode",
        "custom",
        "external_id",
    ]


def test_civicrm_headers_are_guessed():
    assert guess_mapping(CIVICRM) == [
        "external_id",
        "first_name",
        "last_name",
        "email",
        "postcode",
        "joined",
        "status",
        "dues_tier",
        "custom",
    ]


def test_a_second_column_naming_the_same_field_is_kept_as_a_custom_field():
    assert guess_mapping(["Email", "E-mail", "Name"]) == ["email", "custom", "name"]


def test_a_mapping_needs_an_email_column_and_one_kind_of_name():
    assert mapping_problems(["name", "postcode"]) == [
        "Choose the column that holds the email address."
    ]
    problems = mapping_problems(["email", "name", "first_name", "email"])
    assert any("Only one column" in p for p in problems)
    assert any("either a full-name column" in p for p in problems)
    assert mapping_problems(["email", "first_name", "last_name", "custom", ""]) == []


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2024-03-01", True, dt.date(2024, 3, 1)),
        ("2024-03-01 10:15:00", True, dt.date(2024, 3, 1)),  # CiviCRM
        ("2024-03-01T10:15:00Z", True, dt.date(2024, 3, 1)),  # Action Network
        ("01/03/2024", True, dt.date(2024, 3, 1)),
        ("01/03/2024", False, dt.date(2024, 1, 3)),
        ("1.3.2024", True, dt.date(2024, 3, 1)),
    ],
)
def test_accepted_date_formats(text, day_first, expected):
    assert parse_date(text, day_first=day_first) == expected


@pytest.mark.parametrize(
    "text", ["31/02/2024", "March 2024", "2024/03/01", "13/13/2024"]
)
def test_unreadable_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text, day_first=True)


@pytest.mark.parametrize(
    ("rule", "postcode", "valid"),
    [
        ("generic", "SW1A 1AA", True),
        ("generic", "10115", True),
        ("generic", "K1A-0B1", True),
        ("generic", "02139", True),
        ("generic", "A", False),
        ("generic", "12345678901", False),  # 11 characters
        ("generic", "LS1  4AB", False),  # two separators in a row
        ("generic", "LS1 4AB!", False),
        ("uk", "ls1 4ab", True),
        ("uk", "EC1A1BB", True),
        ("uk", "10115", False),
        ("custom", "12345", True),
        ("custom", "1234", False),
    ],
)
def test_postcode_rules(rule, postcode, valid):
    pattern = postcodes.pattern_for(rule, r"\d{5}")
    assert bool(pattern.match(postcode)) is valid


def test_postcodes_are_stored_in_capitals_with_the_uk_space_before_the_inward_code():
    assert postcodes.normalise("ls14ab") == "LS1 4AB"
    assert postcodes.normalise(" ec1a  1bb ") == "EC1A 1BB"
    assert postcodes.normalise("k1a-0b1") == "K1A-0B1"
    assert postcodes.normalise("10115") == "10115"


def test_a_uk_postcode_matches_its_sector_then_district_then_area():
    areas = {"LS": 1, "LS1": 2, "LS61": 3}
    assert postcodes.branch_for("LS6 1AB", areas) == 3  # sector LS6 1
    assert postcodes.branch_for("LS1 4AB", areas) == 2  # district LS1
    # District LS1 never catches LS10: it falls back to the area.
    assert postcodes.branch_for("LS10 1AA", areas) == 1
    assert postcodes.branch_for("M1 1AA", areas) is None


def test_any_other_postcode_matches_its_longest_leading_prefix():
    areas = {"10": 1, "101": 2, "K1A": 3}
    assert postcodes.branch_for("10115", areas) == 2
    assert postcodes.branch_for("10435", areas) == 1
    assert postcodes.branch_for("k1a-0b1", areas) == 3
    assert postcodes.branch_for("20095", areas) is None


def _directory():
    top = SimpleNamespace(pk=1, archived_at=None)
    leeds = SimpleNamespace(pk=2, archived_at=None)
    old = SimpleNamespace(pk=3, archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return SimpleNamespace(
        top_group=top,
        by_slug={"leeds": leeds, "old": old},
        by_name={"leeds branch": leeds, "old branch": old, "twin": None},
    )


def _parser(headers, **options):
    return RowParser(
        headers=headers,
        mapping=options.pop("mapping", None) or guess_mapping(headers),
        directory=_directory(),
        areas=options.pop("areas", {}),
        postcode_pattern=postcodes.pattern_for(options.pop("rule", "generic")),
        day_first=True,
    )


HEADERS = ["Email", "Name", "Postcode", "Branch", "Join date", "Status", "Shoe size"]


def _errors(parsed) -> list[tuple[int, str, str]]:
    assert isinstance(parsed, list), parsed
    return [(e.line, e.column, e.message) for e in parsed]


def test_a_good_row_is_parsed_with_its_custom_fields():
    row = _parser(HEADERS).parse(
        2,
        [
            "Ann@Example.org",
            " Ann  Lee ",
            "ls14ab",
            "Leeds Branch",
            "01/03/2020",
            "Current",
            "42",
        ],
    )
    assert isinstance(row, ParsedRow)
    assert (row.email, row.name, row.postcode, row.group_id) == (
        "ann@example.org",
        "Ann Lee",
        "LS1 4AB",
        2,
    )
    assert (row.status, row.joined, row.custom) == (
        "active",
        dt.date(2020, 3, 1),
        {"Shoe size": "42"},
    )


def test_each_bad_value_is_named_with_its_line_and_column():
    parsed = _parser(HEADERS).parse(
        7, ["not-an-email", "Bo", "!!", "Narnia", "31/02/2024", "Pending", ""]
    )
    errors = _errors(parsed)
    assert [(line, column) for line, column, _ in errors] == [
        (7, "A"),
        (7, "C"),
        (7, "D"),
        (7, "F"),
        (7, "E"),
    ]
    messages = " ".join(message for *_, message in errors)
    assert "not a valid email address" in messages
    assert "“!!” is not a postcode" in messages
    assert "No group “Narnia”" in messages
    assert "Unknown status “Pending”" in messages
    assert "use YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY" in messages


def test_a_missing_email_is_reported_in_its_column():
    assert _errors(_parser(HEADERS).parse(3, ["", "Ann"])) == [
        (3, "A", "The email is missing.")
    ]


def test_a_repeated_email_names_both_lines():
    parser = _parser(["Email"])
    assert isinstance(parser.parse(4, ["a@example.org"]), ParsedRow)
    errors = _errors(parser.parse(12, ["A@example.org"]))
    assert errors == [(12, "A", "a@example.org is also on line 4: each person once.")]


def test_an_archived_branch_and_a_name_two_groups_share_are_refused():
    parser = _parser(["Email", "Branch"])
    assert "archived" in _errors(parser.parse(2, ["a@example.org", "old"]))[0][2]
    assert "use its slug" in _errors(parser.parse(3, ["b@example.org", "twin"]))[0][2]


def test_a_join_date_in_the_future_is_refused():
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    errors = _errors(_parser(["Email", "Joined"]).parse(2, ["a@example.org", tomorrow]))
    assert errors[0][1] == "B" and "in the future" in errors[0][2]


def test_without_a_branch_the_postcode_table_decides_else_the_import_does():
    parser = _parser(["Email", "Postcode"], areas={"LS": 2})
    assert parser.parse(2, ["a@example.org", "LS6 1AB"]).group_id == 2
    # 0: the import keeps the member's branch, or uses the top-level group.
    assert parser.parse(3, ["b@example.org", "M1 1AA"]).group_id == 0
    assert parser.parse(4, ["c@example.org", ""]).group_id == 0


def test_an_empty_status_leaves_the_status_to_the_member_s_current_one():
    row = _parser(["Email", "Status"]).parse(2, ["a@example.org", ""])
    assert row.status is None


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Current", "active"),
        ("New", "active"),
        ("Grace", "active"),
        ("Expired", "lapsed"),
        ("in arrears", "lapsed"),
        ("Suspended", "suspended"),
        ("Cancelled", "left"),
        ("Deceased", "left"),
        ("LEFT", "left"),
    ],
)
def test_status_synonyms(word, status):
    row = _parser(["Email", "Status"]).parse(2, ["a@example.org", word])
    assert row.status == status


def test_blank_rows_are_skipped_not_failed():
    assert _parser(["Email"]).parse(5, ["", "  "]) is None


def test_a_row_error_keeps_line_column_header_and_reason():
    error = RowError(5, "C", "Postcode", "bad")
    assert error.as_dict() == {
        "line": 5,
        "column": "C",
        "header": "Postcode",
        "message": "bad",
    }
