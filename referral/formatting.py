"""Dates, times, numbers and time left as people read them: in the user's language (Flask-Babel's
locale) and in the time zone of the user's organisation (Flask-Babel's time zone).

Templates use the filters registered by :func:`init_formatting` (``|when``, ``|day``,
``|number``, ``|percent``); Python code that builds text uses the functions. A time is always
shown with its zone, and the machine-readable instant stays in ``<time datetime="...">``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal as babel_format_decimal
from flask import Flask
from flask_babel import (
    format_decimal,
    format_percent,
    get_locale,
    to_user_timezone,
    to_utc,
)
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from referral.messages import ngettext, reading_of


def _local(value: datetime, zone: tzinfo | None = None) -> datetime:
    """The instant in the user's time zone (a naive value is taken to be UTC)."""
    instant = value if value.tzinfo else value.replace(tzinfo=UTC)
    if zone is None:
        local: datetime = to_user_timezone(instant)
        return local
    # astimezone goes through the zone's fromutc, which pytz zones (Flask-Babel's) get
    # right: their normalize() is only needed after arithmetic on a local time.
    return instant.astimezone(zone)


def wall_clock(instant: datetime) -> datetime:
    """An instant as the user reads and types it: a naive time in their organisation's zone."""
    return _local(instant).replace(tzinfo=None)


def from_wall_clock(typed: datetime) -> datetime:
    """A naive time the user typed, in their organisation's zone, as an aware UTC instant."""
    instant: datetime = to_utc(typed)
    return instant.replace(tzinfo=UTC)


def when_text(
    value: datetime,
    *,
    seconds: bool = False,
    locale: str | None = None,
    zone: tzinfo | None = None,
) -> str:
    """Date, time and zone, e.g. "Mar 12, 2026, 2:05 PM GMT+01:00", "12 mars 2026, 14:05
    UTC+01:00": the locale's medium date and short time (medium, with seconds, on request),
    joined as the locale joins them. ``locale`` and ``zone`` default to the request's."""
    locale = locale or str(get_locale())
    local = _local(value, zone)
    offset = local.utcoffset() or timedelta(0)
    day = _medium_day_in(local.date(), locale)
    clock = _clock_in(local.hour, local.minute, local.second if seconds else None, offset, locale)
    return _joined_in(locale).replace("{1}", day).replace("{0}", clock)


@lru_cache(maxsize=8192)
def _clock_in(hour: int, minute: int, second: int | None, offset: timedelta, locale: str) -> str:
    """The locale's short time (medium, with seconds, when ``second`` is given), with the
    zone as a localized GMT offset ("OOOO"): it depends on nothing else, so each is
    formatted once per process (a list page shows dozens of times)."""
    width = "short" if second is None else "medium"
    pattern = f"{Locale.parse(locale).time_formats[width].pattern} OOOO"
    moment = datetime(2000, 1, 1, hour, minute, second or 0, tzinfo=timezone(offset))
    return babel_format_time(moment, pattern, tzinfo=moment.tzinfo, locale=locale)


@lru_cache(maxsize=64)
def _joined_in(locale: str) -> str:
    return str(Locale.parse(locale).datetime_formats["medium"]).replace("'", "")


def _day(value: date | datetime, zone: tzinfo | None = None) -> date:
    return _local(value, zone).date() if isinstance(value, datetime) else value


def _medium_day(day: date) -> str:
    return _medium_day_in(day, str(get_locale()))


@lru_cache(maxsize=4096)
def _medium_day_in(day: date, locale: str) -> str:
    # What Flask-Babel's format_date(day, "medium") gives (no date formats are
    # configured); a list page shows a few dozen days, each formatted once per process.
    return babel_format_date(day, "medium", locale=locale)


def day_text(value: date | datetime) -> str:
    """A calendar day, e.g. "Mar 12, 2026"; an instant gives its day in the user's zone."""
    return _medium_day(_day(value))


def number_text(value: float | int, locale: str | None = None) -> str:
    """A count or amount in the language of the request (or ``locale``, for a caller that
    writes many: looking the request's language up costs more than a cached count)."""
    if isinstance(value, int):
        return _integer_in(value, locale or str(get_locale()))
    return str(format_decimal(value))


@lru_cache(maxsize=8192)
def _integer_in(value: int, locale: str) -> str:
    # What Flask-Babel's format_decimal gives; a statistics page shows a few hundred
    # counts, most of them small and repeated, at ~30 us a Babel call.
    return babel_format_decimal(value, locale=locale)


def percent_text(share: float) -> str:
    """A share between 0 and 1 as a whole percentage, e.g. "12%", "12 %" in French."""
    return str(format_percent(share))


def time_left(seconds: float) -> str:
    """Time to a deadline in words, e.g. "in 5 hours", "3 days overdue" (the date is shown
    next to it). Minutes under an hour, hours under two days, days beyond."""
    amount = abs(seconds)
    if amount < 3600:
        num = int(amount // 60)
        if seconds >= 0:
            return ngettext("in %(num)d minute", "in %(num)d minutes", num)
        return ngettext("%(num)d minute overdue", "%(num)d minutes overdue", num)
    if amount < 48 * 3600:
        num = int(amount // 3600)
        if seconds >= 0:
            return ngettext("in %(num)d hour", "in %(num)d hours", num)
        return ngettext("%(num)d hour overdue", "%(num)d hours overdue", num)
    num = int(amount // 86400)
    if seconds >= 0:
        return ngettext("in %(num)d day", "in %(num)d days", num)
    return ngettext("%(num)d day overdue", "%(num)d days overdue", num)


def _time_tag(machine: str, human: str) -> Markup:
    # Markup.format costs more than the rest of a date cell together.
    return Markup(f'<time datetime="{escape(machine)}">{escape(human)}</time>')  # noqa: S704


@pass_context
def when_filter(context: Context, value: datetime | None, seconds: bool = False) -> Markup | str:
    if value is None:
        return ""
    instant = value if value.tzinfo else value.replace(tzinfo=UTC)
    reading = reading_of(context)
    return _time_tag(
        instant.astimezone(UTC).isoformat(timespec="seconds"),
        when_text(instant, seconds=seconds, locale=reading.locale, zone=reading.zone),
    )


@pass_context
def day_filter(context: Context, value: date | datetime | None) -> Markup | str:
    if value is None:
        return ""
    reading = reading_of(context)
    return _day_tag(_day(value, reading.zone), reading.locale)


@lru_cache(maxsize=4096)
def _day_tag(day: date, locale: str) -> Markup:
    # A list shows a few dozen days, most of them more than once across pages.
    return _time_tag(day.isoformat(), _medium_day_in(day, locale))


@pass_context
def number_filter(context: Context, value: float | int) -> str:
    if isinstance(value, int):
        return _integer_in(value, reading_of(context).locale)
    return number_text(value)


def init_formatting(app: Flask) -> None:
    filters: dict[str, Any] = {
        "when": when_filter,
        "day": day_filter,
        "number": number_filter,
        "percent": percent_text,
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["time_left"] = time_left
