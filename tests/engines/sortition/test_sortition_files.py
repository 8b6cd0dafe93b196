"""Reading quotas and people: both quota headers, ids, and precise errors."""

from __future__ import annotations

import pytest

from commonground.engines.sortition import (
    InfeasibleQuotasError,
    Person,
    Quota,
    SortitionInputError,
    read_people,
    read_quotas,
    select_panel,
)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_quotas_accept_our_header_and_the_papers_header(tmp_path):
    ours = _write(
        tmp_path, "q1.csv", "feature,value,min,max\ngender,f,1,2\ngender,m,0,2\n"
    )
    papers = _write(
        tmp_path, "q2.csv", "category,feature,min,max\ngender,f,1,2\ngender,m,0,2\n"
    )
    expected = [Quota("gender", "f", 1, 2), Quota("gender", "m", 0, 2)]
    assert read_quotas(ours) == expected
    assert read_quotas(papers) == expected


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("feature,value,min,max\ngender,f,one,2\n", 2, "min", "not a whole number"),
        ("feature,value,min,max\ngender,f,1,2\ngender,m,3,2\n", 3, "max", "below min"),
        ("feature,value,min,max\ngender,f,1,2\ngender,f,1,2\n", 3, "value", "already"),
        ("feature,value,min,max\ngender,f,-1,2\n", 2, "min", "negative"),
        ("feature,value,min,max\ngender,f,1\n", 2, None, "3 fields"),
        ("feature,value,min,max\n,f,1,2\n", 2, "feature", "empty"),
        ("name,value,min,max\ngender,f,1,2\n", 1, None, "header"),
    ],
)
def test_malformed_quotas_name_file_line_and_field(tmp_path, text, line, field, words):
    path = _write(tmp_path, "quotas.csv", text)
    with pytest.raises(SortitionInputError) as caught:
        read_quotas(path)
    error = caught.value
    assert error.source == str(path) and error.line == line and error.field == field
    assert (
        words in str(error) and str(path) in str(error) and f"line {line}" in str(error)
    )


QUOTAS = [Quota("gender", "f", 0, 2), Quota("gender", "m", 0, 2)]


def test_people_ids_come_from_the_id_column_or_the_row_number(tmp_path):
    with_id = _write(tmp_path, "p1.csv", "ID,gender,town\nann,f,x\nbob,m,y\n")
    assert [p.id for p in read_people(with_id, QUOTAS)] == ["ann", "bob"]
    named = _write(tmp_path, "p2.csv", "code,gender\nc1,f\nc2,m\n")
    assert [p.id for p in read_people(named, QUOTAS, id_column="code")] == ["c1", "c2"]
    bare = _write(tmp_path, "p3.csv", "gender\nf\n\nm\n")
    people = read_people(bare, QUOTAS)
    assert [p.id for p in people] == ["1", "2"]
    assert people[1] == Person("2", {"gender": "m"})


def test_household_columns_group_people_at_the_same_address(tmp_path):
    path = _write(
        tmp_path,
        "p.csv",
        "id,gender,street,postcode\n1,f,Main St 1,AB1\n2,m,main st 1,ab1\n3,m,,\n4,f,,\n",
    )
    people = read_people(path, QUOTAS, household_columns=["street", "postcode"])
    assert people[0].household == people[1].household is not None
    assert people[2].household is None and people[3].household is None


@pytest.mark.parametrize(
    ("text", "line", "field", "words", "options"),
    [
        ("id,gender\n1,f\n1,m\n", 3, "id", "already used on line 2", {}),
        ("id,gender\n1,f\n2,x\n", 3, "gender", "has no quota", {}),
        ("id,sex\n1,f\n", 1, "gender", "no such column", {}),
        ("id,gender\n,f\n", 2, "id", "empty id", {}),
        ("id,gender\n1,f,extra\n", 2, None, "3 fields", {}),
        ("gender\nf\n", 1, "code", "no such id column", {"id_column": "code"}),
        (
            "id,gender\n1,f\n",
            1,
            "street",
            "no such household",
            {"household_columns": ["street"]},
        ),
        ('id,gender\n1,"f\n', 2, None, "malformed CSV", {}),
    ],
)
def test_malformed_people_name_file_line_and_field(
    tmp_path, text, line, field, words, options
):
    path = _write(tmp_path, "people.csv", text)
    with pytest.raises(SortitionInputError) as caught:
        read_people(path, QUOTAS, **options)
    error = caught.value
    assert error.source == str(path) and error.line == line and error.field == field
    assert words in str(error)


def test_missing_empty_and_non_utf8_files_are_reported(tmp_path):
    with pytest.raises(SortitionInputError, match="cannot read"):
        read_quotas(tmp_path / "absent.csv")
    with pytest.raises(SortitionInputError, match="empty"):
        read_quotas(_write(tmp_path, "empty.csv", ""))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("feature,value,min,max\ngender,f\xe9,1,2\n".encode("latin-1"))
    with pytest.raises(SortitionInputError, match="UTF-8"):
        read_quotas(latin)


def test_minimums_adding_up_to_more_than_the_panel_name_the_feature():
    # 5 women and 5 men, panel of 5, at least 3 of each: 6 > 5 seats.
    # Smallest fix: lower one minimum by 1 (total change 1).
    people = [Person(str(i), {"gender": "fm"[i % 2]}) for i in range(10)]
    quotas = [Quota("gender", "f", 3, 5), Quota("gender", "m", 3, 5)]
    with pytest.raises(InfeasibleQuotasError) as caught:
        select_panel(people, quotas, 5)
    error = caught.value
    assert error.conflicting_features == ("gender",)
    assert len(error.relaxation) == 1
    change = error.relaxation[0]
    assert (change.feature, change.bound, change.old, change.new) == (
        "gender",
        "min",
        3,
        2,
    )
    assert "gender" in str(error) and "from 3 to 2" in str(error)


def test_conflict_between_two_features_names_both_and_the_smallest_fix():
    # Every woman is young. At least 2 women but at most 1 young person:
    # impossible. Either raise young's max to 2 or lower women's min to 1:
    # total change 1 either way, touching gender or age.
    people = [Person("w1", {"gender": "f", "age": "young"})]
    people += [Person("w2", {"gender": "f", "age": "young"})]
    people += [Person(f"m{i}", {"gender": "m", "age": "old"}) for i in range(4)]
    quotas = [
        Quota("gender", "f", 2, 3),
        Quota("gender", "m", 0, 3),
        Quota("age", "young", 0, 1),
        Quota("age", "old", 0, 3),
    ]
    with pytest.raises(InfeasibleQuotasError) as caught:
        select_panel(people, quotas, 3)
    error = caught.value
    assert sum(abs(c.new - c.old) for c in error.relaxation) == 1
    assert set(error.conflicting_features) <= {"gender", "age"}
    relaxed = [Quota(q.feature, q.value, q.minimum, q.maximum) for q in quotas]
    for change in error.relaxation:
        for index, q in enumerate(relaxed):
            if (q.feature, q.value) == (change.feature, change.value):
                low = change.new if change.bound == "min" else q.minimum
                high = change.new if change.bound == "max" else q.maximum
                relaxed[index] = Quota(q.feature, q.value, low, high)
    assert select_panel(people, relaxed, 3).stats.maximum <= 1.0


def test_panel_larger_than_the_pool_cannot_be_fixed_by_quotas():
    people = [Person(str(i), {"gender": "f"}) for i in range(3)]
    with pytest.raises(InfeasibleQuotasError, match="no change to the quotas"):
        select_panel(people, [Quota("gender", "f", 0, 9)], 4)
