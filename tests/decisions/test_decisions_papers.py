"""Reading ballot papers (T5): every valid paper is accepted and round-trips; anything
else is refused with PaperErrors, never another exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.decisions import papers
from commonground.decisions.papers import PaperErrors

OPTIONS = 6


@st.composite
def rankings(draw, allow_equal: bool):
    positions = draw(st.permutations(range(OPTIONS)))
    count = draw(st.integers(min_value=1, max_value=OPTIONS))
    chosen = positions[:count]
    groups: list[list[int]] = []
    for position in chosen:
        if groups and allow_equal and draw(st.booleans()):
            groups[-1].append(position)
        else:
            groups.append([position])
    return [sorted(group) for group in groups]


def form_for(ranking: list[list[int]]) -> dict[str, str]:
    data: dict[str, str] = {}
    rank = 1
    for group in ranking:
        for position in group:
            data[f"rank_{position}"] = str(rank)
        rank += len(group)
    return data


@settings(max_examples=150, deadline=None)
@given(ranking=rankings(allow_equal=False))
def test_every_valid_ranking_is_accepted_and_round_trips(ranking):
    paper = papers.read_marks(
        method="stv", option_count=OPTIONS, max_score=5, data=form_for(ranking)
    )
    assert paper == {"ranking": ranking}
    assert json.loads(papers.serialise(paper)) == paper
    again = papers.marks_from_paper(paper)["ranks"]
    assert form_for(ranking) == {f"rank_{p}": str(r) for p, r in again.items()}


@settings(max_examples=100, deadline=None)
@given(ranking=rankings(allow_equal=True))
def test_schulze_accepts_equal_ranks(ranking):
    paper = papers.read_marks(
        method="schulze", option_count=OPTIONS, max_score=5, data=form_for(ranking)
    )
    assert paper == {"ranking": ranking}


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(
        ["yes_no", "approval", "score", "star", "irv", "stv", "schulze"]
    ),
    data=st.dictionaries(
        st.one_of(
            st.sampled_from(["choice", "approve"]),
            st.builds(
                lambda p, n: f"{p}{n}",
                st.sampled_from(["rank_", "score_"]),
                st.integers(-3, 12),
            ),
            st.text(max_size=12),
        ),
        st.one_of(
            st.text(max_size=12),
            st.integers(-5, 20).map(str),
            st.lists(st.text(max_size=3), max_size=3),
        ),
        max_size=8,
    ),
)
def test_arbitrary_input_is_either_a_valid_paper_or_refused_cleanly(method, data):
    try:
        paper = papers.read_marks(
            method=method, option_count=OPTIONS, max_score=5, data=data
        )
    except PaperErrors as errors:
        assert errors.fields or errors.general
        return
    if "ranking" in paper:
        flat = [p for group in paper["ranking"] for p in group]
        assert len(flat) == len(set(flat)) and all(0 <= p < OPTIONS for p in flat)
    else:
        assert len(paper["grid"]) == OPTIONS
        assert all(0 <= value <= 5 for value in paper["grid"]) and any(paper["grid"])


def test_a_huge_field_value_is_refused():
    data = {"rank_0": "1" * 10_000_000}
    try:
        papers.read_marks(method="irv", option_count=OPTIONS, max_score=5, data=data)
    except PaperErrors as errors:
        assert "rank_0" in errors.fields
    else:
        raise AssertionError("a ten-megabyte rank was accepted")


def test_digits_from_other_scripts_are_refused_not_crashed():
    for text in ("²", "١", "１"):
        try:
            papers.read_marks(
                method="yes_no", option_count=3, max_score=5, data={"choice": text}
            )
        except PaperErrors as errors:
            assert "choice" in errors.fields
        else:
            raise AssertionError(f"{text!r} was read as a number")
