"""``{% load timefmt %}``: relative and absolute times, in the active time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone, translation

NOW = dt.datetime(2026, 12, 4, 17, 30, tzinfo=dt.UTC)
NBSP = "\xa0"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False), translation.override("en-gb"):
        yield


def render(source: str, **context) -> str:
    return Template("{% load timefmt %}" + source).render(Context(context))


def test_a_past_moment_reads_as_minutes_ago():
    moment = NOW - dt.timedelta(minutes=3, seconds=20)
    assert render("{{ moment|relative }}", moment=moment) == f"3{NBSP}minutes ago"


def test_a_future_moment_reads_as_in_days_with_one_unit():
    moment = NOW + dt.timedelta(days=2, hours=5)
    assert render("{{ moment|relative }}", moment=moment) == f"in 2{NBSP}days"


def test_a_moment_seconds_ago_reads_just_now():
    assert render("{{ moment|relative }}", moment=NOW - dt.timedelta(seconds=5)) == (
        "just now"
    )


def test_none_renders_nothing_in_every_filter_and_tag():
    out = render(
        "[{{ v|relative }}][{{ v|when }}][{{ v|time_tag }}][{% time_tag v %}]", v=None
    )
    assert out == "[][][][]"


def test_when_renders_in_the_active_time_zone():
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert render("{{ moment|when }}", moment=NOW) == "4 Dec 2026, 18:30"
        assert render('{{ moment|when:"date" }}', moment=NOW) == "4 Dec 2026"
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert render("{{ moment|when }}", moment=NOW) == "4 Dec 2026, 12:30"


def test_time_tag_carries_iso_datetime_and_absolute_title():
    moment = NOW - dt.timedelta(hours=2)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        out = render("{% time_tag moment %}", moment=moment)
        assert out == (
            '<time datetime="2026-12-04T16:30:00+01:00" title="4 Dec 2026, 16:30">'
            f"2{NBSP}hours ago</time>"
        )
        assert render("{{ moment|time_tag }}", moment=moment) == out


def test_time_tag_absolute_style_shows_the_date_and_titles_the_distance():
    moment = NOW + dt.timedelta(days=1, hours=1)
    out = render('{% time_tag moment "absolute" %}', moment=moment)
    assert out == (
        f'<time datetime="2026-12-05T18:30:00+00:00" title="in 1{NBSP}day">'
        "5 Dec 2026, 18:30</time>"
    )


def test_a_bare_date_is_formatted_as_a_date():
    assert render("{{ day|when }}", day=dt.date(2026, 12, 24)) == "24 Dec 2026"
    assert render("{{ day|relative }}", day=dt.date(2026, 12, 1)) == f"3{NBSP}days ago"


def test_a_naive_datetime_is_read_in_the_current_time_zone():
    naive = dt.datetime(2026, 12, 4, 18, 27)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert render("{{ moment|relative }}", moment=naive) == f"3{NBSP}minutes ago"
