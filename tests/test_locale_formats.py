"""Dates, times and numbers in the user's language and organisation time zone, and
the time left to a deadline in words that translate (ngettext)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from flask_babel import force_locale

from referral import formatting
from referral.cases.models import Case, Incident
from referral.db import Organisation
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import incident, make_person, open_case

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INSTANT = datetime(2026, 3, 1, 22, 0, 5, tzinfo=UTC)
RLM = "\u200f"  # Babel's Arabic dates carry right-to-left marks around the slashes


@pytest.mark.parametrize(
    ("locale", "when", "when_seconds", "day", "number", "percent"),
    [
        (
            "en",
            "Mar 1, 2026, 10:00\u202fPM GMT+00:00",
            "Mar 1, 2026, 10:00:05\u202fPM GMT+00:00",
            "Mar 12, 2026",
            "1,234.5",
            "12%",
        ),
        (
            "fr",
            "1 mars 2026, 22:00 UTC+00:00",
            "1 mars 2026, 22:00:05 UTC+00:00",
            "12 mars 2026",
            "1\u202f234,5",
            "12\xa0%",
        ),
        (
            "ar",
            f"01{RLM}/03{RLM}/2026، 10:00 م غرينتش+00:00",
            f"01{RLM}/03{RLM}/2026، 10:00:05 م غرينتش+00:00",
            f"12{RLM}/03{RLM}/2026",
            "1,234.5",
            "12%",
        ),
    ],
)
def test_helpers_follow_the_locale(
    app: Flask, locale: str, when: str, when_seconds: str, day: str, number: str, percent: str
) -> None:
    with app.test_request_context(), force_locale(locale):
        assert formatting.when_text(INSTANT) == when
        assert formatting.when_text(INSTANT, seconds=True) == when_seconds
        assert formatting.day_text(date(2026, 3, 12)) == day
        assert formatting.number_text(1234.5) == number
        assert formatting.percent_text(0.125) == percent


def test_filters_keep_the_machine_readable_instant(app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        page = render_template_string(
            "{{ instant|when }}|{{ day|day }}|{{ none|when }}{{ none|day }}",
            instant=INSTANT,
            day=date(2026, 3, 12),
            none=None,
        )
    assert page == (
        '<time datetime="2026-03-01T22:00:05+00:00">1 mars 2026, 22:00 UTC+00:00</time>|'
        '<time datetime="2026-03-12">12 mars 2026</time>|'
    )


def test_filters_read_the_language_the_page_was_rendered_in(app: Flask) -> None:
    """The filters take the language and zone from the template's context (one look-up a
    page, not one per date), so a page rendered under force_locale shows its dates in the
    forced language; a template rendered on its own (no context processors) looks the
    request's up. The zone: test_case_page_shows_times_in_the_organisation_zone_and_language."""
    with app.test_request_context():
        with force_locale("fr"):
            page = render_template_string("{{ instant|when(seconds=True) }}", instant=INSTANT)
        alone = app.jinja_env.from_string("{{ instant|day }}").render(instant=INSTANT)
    assert page.endswith(">1 mars 2026, 22:00:05 UTC+00:00</time>")
    assert alone == '<time datetime="2026-03-01">Mar 1, 2026</time>'


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (30, "in 0 minutes"),
        (60, "in 1 minute"),
        (59 * 60, "in 59 minutes"),
        (-60, "1 minute overdue"),
        (-25 * 60, "25 minutes overdue"),
        (3600, "in 1 hour"),
        (5 * 3600 + 59 * 60, "in 5 hours"),
        (47 * 3600, "in 47 hours"),
        (-3600, "1 hour overdue"),
        (-47 * 3600, "47 hours overdue"),
        (48 * 3600, "in 2 days"),
        (14 * 86400, "in 14 days"),
        (-2 * 86400, "2 days overdue"),
        (-3 * 86400 - 3600, "3 days overdue"),
    ],
)
def test_time_left_in_words_both_ways(app: Flask, seconds: float, words: str) -> None:
    with app.test_request_context():
        assert formatting.time_left(seconds) == words


def test_time_left_goes_through_plural_forms(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """One and many are separate messages, so a catalogue can say them its own way."""
    asked: list[tuple[str, str, int]] = []

    def fake_ngettext(singular: str, plural: str, num: int, **_: object) -> str:
        asked.append((singular, plural, num))
        return (singular if num == 1 else plural) % {"num": num}

    monkeypatch.setattr(formatting, "ngettext", fake_ngettext)
    with app.test_request_context():
        formatting.time_left(3600)
        formatting.time_left(-3 * 86400)
    assert asked == [
        ("in %(num)d hour", "in %(num)d hours", 1),
        ("%(num)d day overdue", "%(num)d days overdue", 3),
    ]


def _case_in_bangui(org: Organisation, locale: str) -> tuple[object, Case]:
    org.time_zone = "Africa/Bangui"  # UTC+1 all year
    db.session.commit()
    caseworker = make_person(Role.CASEWORKER, org)
    caseworker.user.locale = locale
    db.session.commit()
    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=10)  # the frozen clock stands at 08:00 UTC
    return caseworker, case


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en", "Mar 1, 2026, 11:00\u202fPM GMT+01:00"),
        ("fr", "1 mars 2026, 23:00 UTC+01:00"),
        ("ar", f"01{RLM}/03{RLM}/2026، 11:00 م غرينتش+01:00"),
    ],
)
def test_case_page_shows_times_in_the_organisation_zone_and_language(
    app: Flask, org: Organisation, locale: str, shown: str
) -> None:
    caseworker, case = _case_in_bangui(org, locale)
    client = app.test_client()
    sign_in(client, caseworker)  # type: ignore[arg-type]
    html = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    stored = db.session.scalar(sa.select(Incident.incident_at).where(Incident.case_id == case.id))
    assert stored is not None
    machine = stored.astimezone(UTC).isoformat(timespec="seconds")
    assert f'<time datetime="{machine}">{shown}</time>' in html


def test_incident_time_is_typed_in_the_organisation_zone(app: Flask, org: Organisation) -> None:
    caseworker, case = _case_in_bangui(org, "en")
    client = app.test_client()
    sign_in(client, caseworker)  # type: ignore[arg-type]
    recorded = case.latest_incident
    assert recorded is not None
    url = f"/cases/{case.public_id}/incidents/{recorded.public_id}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="23:00"' in form  # 22:00 UTC, shown as Bangui time
    answers = dict.fromkeys(
        (
            "penetration",
            "unwanted_sexual_contact",
            "physical_assault",
            "forced_marriage",
            "denial_of_resources",
            "psychological_abuse",
        ),
        "no",
    )
    response = form_post(
        client,
        url,
        {
            **answers,
            "penetration": "yes",
            "incident_date": "2026-03-01",
            "incident_time": "21:30",
            "time_of_day": "evening_night",
            "location_type": "road",
            "reported_on": "2026-03-02",
            "perpetrator_count": "1",
            "perpetrator_sex": "male",
            "perpetrator_age_group": "adult",
            "perpetrator_relationship": "stranger",
            "previously_reported": "no",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = db.session.scalar(sa.select(Incident.incident_at).where(Incident.case_id == case.id))
    assert stored == datetime(2026, 3, 1, 20, 30, tzinfo=UTC)


def test_no_template_formats_a_date_by_hand() -> None:
    """Every date and time on a page goes through the locale-aware filters; ISO values stay
    only where a form sends them back."""
    by_hand = re.compile(r"strftime|datetimeformat|dateformat|timeformat|\.isoformat\(\)")
    found = []
    for path in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in by_hand.finditer(line):
                before = line[: match.start()]
                if match.group() == ".isoformat()" and re.search(r'value="[^"]*$', before):
                    continue  # a hidden form value, read by the server
                found.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert found == []


def test_lazy_messages_follow_the_language_each_time_they_are_shown(app: Flask) -> None:
    """referral.messages keeps what the catalogue gave for each message and language: the
    same lazy message shows in the language of the moment (force_locale too), variables
    are applied after the look-up, and outside a request the message stays untranslated."""
    from referral.messages import lazy_gettext

    refused = lazy_gettext("Refused")
    level = lazy_gettext("%(level)s P-code", level="Admin 2")
    assert str(refused) == "Refused"  # no request: the message itself
    with app.test_request_context():
        with force_locale("fr"):
            assert (str(refused), str(level)) == ("Refusé", "P-code Admin 2")
        with force_locale("en"):
            assert (str(refused), str(level)) == ("Refused", "Admin 2 P-code")
        with force_locale("fr"):
            assert f"{refused}" == "Refusé" and refused == "Refusé"


def test_plural_messages_are_flask_babels_in_every_language(app: Flask) -> None:
    """referral.messages.ngettext keeps each language's catalogue: it gives what
    Flask-Babel's ngettext gives, plural forms included (Arabic has six), and follows
    force_locale from one call to the next."""
    import flask_babel

    from referral.messages import ngettext

    words = ("in %(num)d hour", "in %(num)d hours")
    with app.test_request_context():
        for language in ("fr", "ar", "en", "fr"):
            with force_locale(language):
                for num in (0, 1, 2, 3, 11, 100, 101):
                    expected = flask_babel.ngettext(*words, num)
                    assert ngettext(*words, num) == expected, (language, num)
        with force_locale("fr"):
            assert ngettext(*words, 2) == "dans 2 heures"
    assert ngettext(*words, 2) == "in 2 hours"  # no request: untranslated


def test_number_filter_writes_counts_in_the_page_language(app: Flask) -> None:
    """Counts take the language from the page's context (the statistics tables import
    their macros with it), like dates; a template rendered alone looks it up."""
    with app.test_request_context():
        with force_locale("fr"):
            page = render_template_string("{{ 12345|number }} {{ 1234.5|number }}")
        alone = app.jinja_env.from_string("{{ 12345|number }}").render()
    assert page == "12\u202f345 1\u202f234,5"
    assert alone == "12,345"
