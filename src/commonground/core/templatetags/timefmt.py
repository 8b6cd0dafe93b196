"""``{% load timefmt %}``: dates and times the way a person reads them.

- ``{{ value|relative }}``: "just now", "3 minutes ago", "in 2 days" (one unit, the
  largest; Django's ``timesince``/``timeuntil`` keep a non-breaking space between the
  number and the unit so "3 minutes" never wraps on a phone).
- ``{{ value|when }}``: the absolute date and time in the active time zone (the
  member's, see ``members.middleware.TimeZoneMiddleware``): "4 Dec 2026, 18:30";
  ``{{ value|when:"date" }}`` gives the date alone: "4 Dec 2026".
- ``{% time_tag value %}`` or ``{{ value|time_tag }}``: ``<time datetime="ISO"
  title="absolute">relative</time>``; ``{% time_tag value "absolute" %}`` shows the
  absolute text and puts the relative one in the title (for deadlines in lists).

Every filter renders ``None`` (or an empty value) as an empty string. Naive datetimes are
taken to be in the current time zone.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext, pgettext

register = template.Library()

# Under this, "3 seconds ago" is noise: the page says "just now".
JUST_NOW = dt.timedelta(seconds=60)


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_current_timezone())
    return value


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return _aware(value)
    # A bare date is midnight at the start of that day, in the current time zone.
    return timezone.make_aware(
        dt.datetime(value.year, value.month, value.day),
        timezone.get_current_timezone(),
    )


@register.filter(expects_localtime=False)
def relative(value: dt.date | dt.datetime | None) -> str:
    """ "3 minutes ago", "in 2 days", "just now"; ``None`` gives ""."""
    if not value:
        return ""
    moment = _as_datetime(value)
    now = timezone.now()
    if moment <= now:
        if now - moment < JUST_NOW:
            return gettext("just now")
        return gettext("%(delta)s ago") % {"delta": timesince(moment, now, depth=1)}
    if moment - now < JUST_NOW:
        return gettext("in less than a minute")
    return gettext("in %(delta)s") % {"delta": timeuntil(moment, now, depth=1)}


@register.filter(expects_localtime=False)
def when(value: dt.date | dt.datetime | None, part: str = "") -> str:
    """The absolute date-time in the active time zone: "4 Dec 2026, 18:30".

    ``part="date"`` gives the date alone ("4 Dec 2026"). A bare ``date`` always renders
    as a date.
    """
    if not value:
        return ""
    if not isinstance(value, dt.datetime):
        return date_format(value, pgettext("date format", "j M Y"))
    local = timezone.localtime(_aware(value))
    if part == "date":
        return date_format(local, pgettext("date format", "j M Y"))
    return date_format(local, pgettext("date and time format", "j M Y, H:i"))


def _time_element(value: dt.date | dt.datetime | None, style: str) -> str:
    if not value:
        return ""
    moment = _as_datetime(value)
    if isinstance(value, dt.datetime):
        machine = timezone.localtime(moment).isoformat(timespec="seconds")
    else:
        machine = value.isoformat()
    absolute, relative_text = when(value), relative(value)
    if style == "absolute":
        shown, title = absolute, relative_text
    else:
        shown, title = relative_text, absolute
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', machine, title, shown
    )


@register.filter(name="time_tag", expects_localtime=False)
def time_tag_filter(value: dt.date | dt.datetime | None, style: str = "") -> SafeString:
    """``{{ value|time_tag }}``: a ``<time>`` element, relative text, absolute title."""
    return SafeString(_time_element(value, style))


@register.simple_tag(name="time_tag")
def time_tag(value: dt.date | dt.datetime | None, style: str = "") -> SafeString:
    """``{% time_tag value %}`` (or ``"absolute"`` to show the date and title the rest)."""
    return SafeString(_time_element(value, style))
