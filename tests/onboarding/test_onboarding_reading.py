"""Reading register files: encodings, separators, spreadsheets, and the refusals that
name the line."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from commonground.onboarding.reading import (
    FileRefused,
    column_letter,
    inspect_upload,
    records,
)


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_utf8_csv_with_byte_order_mark_reads_its_header_without_the_mark():
    upload = inspect_upload(
        "r.csv", "\ufeffEmail,Name\r\nzoë@example.org,Zoë\r\n".encode()
    )
    assert upload.file_format == "csv"
    assert upload.headers == ["Email", "Name"]
    assert upload.samples == [["zoë@example.org", "Zoë"]]


def test_windows_1252_file_is_refused_naming_the_line_of_the_bad_byte():
    content = "email,name\na@example.org,Ann\nz@example.org,Zoë\n".encode("cp1252")
    with pytest.raises(FileRefused) as refused:
        inspect_upload("r.csv", content)
    message = str(refused.value)
    # "ë" is 0xEB in Windows-1252, on the third line (the header is line 1).
    assert "line 3" in message and "0xEB" in message and "UTF-8" in message


def test_utf16_text_is_refused_with_how_to_save_it_instead():
    with pytest.raises(FileRefused, match="CSV UTF-8"):
        inspect_upload("r.csv", "email\na@example.org\n".encode("utf-16"))


def test_an_old_binary_excel_file_is_refused():
    with pytest.raises(FileRefused, match=".xlsx"):
        inspect_upload("r.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)


def test_an_empty_file_is_refused():
    with pytest.raises(FileRefused, match="empty"):
        inspect_upload("r.csv", b"  \n")


def test_semicolon_separated_csv_as_excel_saves_it_in_much_of_europe_is_read():
    upload = inspect_upload("r.csv", b"Email;Name;Postcode\na@example.org;Ann;10115\n")
    assert upload.delimiter == ";"
    assert upload.headers == ["Email", "Name", "Postcode"]
    assert upload.samples == [["a@example.org", "Ann", "10115"]]


def test_blank_header_cells_are_named_by_their_column_letter():
    upload = inspect_upload("r.csv", b"Email,,Notes\na@example.org,x,y\n")
    assert upload.headers == ["Email", "Column B", "Notes"]


def test_xlsx_first_sheet_is_read_with_dates_and_whole_numbers_as_text():
    content = xlsx(
        [
            ["Email", "Joined", "Zip", "Score"],
            ["a@example.org", dt.datetime(2021, 5, 4), 2139, 1.5],
            [None, None, None, None],
            ["b@example.org", dt.date(2020, 1, 2), 10115.0, True],
        ]
    )
    upload = inspect_upload("r.xlsx", content)
    assert upload.file_format == "xlsx"
    assert upload.headers == ["Email", "Joined", "Zip", "Score"]
    rows = list(records(content, "xlsx", ""))
    assert rows == [
        (2, ["a@example.org", "2021-05-04", "2139", "1.5"]),
        (3, ["", "", "", ""]),
        (4, ["b@example.org", "2020-01-02", "10115", "TRUE"]),
    ]


def test_a_damaged_xlsx_is_refused():
    with pytest.raises(FileRefused, match="Excel"):
        inspect_upload("r.xlsx", b"PK\x03\x04 not really a zip")


def test_a_line_the_csv_reader_cannot_read_is_named():
    # A field over the csv module's limit (128 KiB), as a broken export can hold.
    content = b"email,name\na@example.org,Ann\nb@example.org," + b"x" * 200_000 + b"\n"
    with pytest.raises(FileRefused) as refused:
        list(records(content, "csv", ","))
    assert refused.value.line == 3
    assert "Line 3" in str(refused.value)


def test_line_numbers_count_the_header_as_line_one_like_a_spreadsheet():
    content = b"email\r\na@example.org\r\n\r\nb@example.org\r\n"
    assert list(records(content, "csv", ",")) == [
        (2, ["a@example.org"]),
        (3, []),
        (4, ["b@example.org"]),
    ]


@pytest.mark.parametrize(
    ("index", "letter"),
    [(0, "A"), (2, "C"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ")],
)
def test_columns_are_named_as_a_spreadsheet_names_them(index, letter):
    assert column_letter(index) == letter
