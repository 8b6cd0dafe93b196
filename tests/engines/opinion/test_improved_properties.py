"""Properties of the improved mode on arbitrary small conversations (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.engines.opinion import OpinionMap, StatementTable, VoteTable

records = st.lists(
    st.tuples(
        st.integers(0, 30).map(lambda p: f"p{p}"),
        st.integers(0, 12).map(str),
        st.sampled_from([1, -1, 0]),
        st.none(),
    ),
    max_size=300,
)
moderation = st.lists(
    st.tuples(st.integers(0, 12).map(str), st.sampled_from([-1, 0, 1]), st.booleans()),
    max_size=5,
    unique_by=lambda r: r[0],
)


@settings(max_examples=40, deadline=None)
@given(records, moderation)
def test_any_conversation_gives_finite_consistent_json(rows, moderated):
    votes = VoteTable.from_records(rows)
    statements = StatementTable.from_records(moderated) if moderated else None
    result = OpinionMap(seed=1).fit(votes, statements).result_
    text = result.to_json()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["k"] == len(data["groups"])
    members = [
        p["group"] for p in data["participants"].values() if p["group"] is not None
    ]
    assert sorted(set(members)) == list(range(data["k"]))
    assert [g["members"] for g in data["groups"]] == [
        members.count(g["id"]) for g in data["groups"]
    ]
    assert list(data["participants"]) == sorted({r[0] for r in rows}, key=lambda p: p)
    # Same votes in reverse order: the same bytes (no duplicates of a cell
    # are reordered among themselves when each cell is voted once).
    if len({(r[0], r[1]) for r in rows}) == len(rows):
        again = OpinionMap(seed=1).fit(VoteTable.from_records(rows[::-1]), statements)
        assert again.result_.to_json() == text
