"""R8: the one clinical-window rule, its SQL form and the places that ask it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import Float, literal, select

from referral import clock
from referral.cases.models import Incident, IncidentType
from referral.clinical import (
    Care,
    clinical_windows,
    open_windows,
    window_open_now_sql,
    within_window_sql,
)
from referral.extensions import db
from tests.factories import Person, incident, open_case

HOUR = timedelta(hours=1)


@pytest.fixture
def short_windows(app: Flask) -> Iterator[None]:
    saved = app.config["CLINICAL_WINDOW_PEP_HOURS"], app.config["CLINICAL_WINDOW_EC_HOURS"]
    app.config["CLINICAL_WINDOW_PEP_HOURS"], app.config["CLINICAL_WINDOW_EC_HOURS"] = 6, 12
    yield
    app.config["CLINICAL_WINDOW_PEP_HOURS"], app.config["CLINICAL_WINDOW_EC_HOURS"] = saved


def _open(incident_type: str | None, hours_ago: float | None) -> set[Care]:
    now = clock.utcnow()
    at = None if hours_ago is None else now - hours_ago * HOUR
    return {w.care for w in open_windows(incident_type, at, now)}


def test_r8_windows_open_at_the_incident_and_close_after_their_configured_hours() -> None:
    """Default 72 h PEP and 120 h emergency contraception, start inclusive, end exclusive."""
    assert _open("rape", 0) == {Care.PEP, Care.EC}
    assert _open("rape", 71.99) == {Care.PEP, Care.EC}
    assert _open("rape", 72) == {Care.EC}
    assert _open("sexual_assault", 119.99) == {Care.EC}
    assert _open("sexual_assault", 120) == set()
    assert _open("rape", -1) == set()  # an incident time in the future opens nothing yet


def test_r8_windows_come_from_configuration(short_windows: None) -> None:
    now = clock.utcnow()
    pep, ec = clinical_windows("rape", now)
    assert (pep.care, pep.closes_at - now) == (Care.PEP, 6 * HOUR)
    assert (ec.care, ec.closes_at - now) == (Care.EC, 12 * HOUR)
    assert _open("rape", 7) == {Care.EC}


def test_r8_windows_apply_to_sexual_violence_and_to_a_type_not_known_yet() -> None:
    """The copies disagreed on an unknown type; the rule takes the safe side: a survivor
    whose incident is not classified yet may need PEP."""
    assert _open(None, 10) == {Care.PEP, Care.EC}
    for other in ("physical_assault", "forced_marriage", "denial_of_resources", "non_gbv"):
        assert _open(other, 10) == set(), other
        assert clinical_windows(other, clock.utcnow()) == []


def test_r8_no_incident_time_no_window() -> None:
    assert clinical_windows("rape", None) == []
    assert _open(None, None) == set()


def test_r8_window_labels_are_translated(app: Flask) -> None:
    now = clock.utcnow()
    english = [w.label for w in clinical_windows("rape", now)]
    assert english == ["HIV post-exposure prophylaxis", "Emergency contraception"]
    with app.test_request_context(), force_locale("fr"):
        french = [w.label for w in clinical_windows("rape", now)]
    assert french[0] == "prophylaxie post-exposition au VIH"


def test_r8_sql_form_selects_what_the_python_rule_opens(caseworker: Person) -> None:
    """The inbox filters in the database: every case the rule opens, and no other."""
    cases = []
    for answers, hours_ago in [
        ({"penetration": True}, 1),
        ({"penetration": True}, 71),
        ({"unwanted_sexual_contact": True}, 100),
        ({"penetration": True}, 119.5),
        ({"penetration": True}, 121),
        ({"physical_assault": True}, 1),
        ({"psychological_abuse": True}, 50),
    ]:
        case = open_case(caseworker.user)
        incident(case, caseworker.user, hours_ago=hours_ago, **answers)
        cases.append(case)
    now = clock.utcnow()
    selected = set(
        db.session.scalars(
            select(Incident.id).where(
                window_open_now_sql(Incident.incident_type, Incident.incident_at, now)
            )
        )
    )
    incidents = [c.latest_incident for c in cases if c.latest_incident is not None]
    expected = {i.id for i in incidents if any(w.is_open(now) for w in i.clinical_windows())}
    assert selected == expected
    assert len(expected) == 4
    types = {i.incident_type for i in incidents if i.id in expected}
    assert types == {IncidentType.RAPE, IncidentType.SEXUAL_ASSAULT}


def _within(care: Care, seconds: float) -> bool:
    return bool(db.session.scalar(select(within_window_sql(care, literal(seconds, Float)))))


def test_r8_sql_duration_form_has_the_same_bounds_as_the_rule() -> None:
    """Statistics ask "was this instant inside the PEP window" in SQL: same bounds."""
    pep = 72 * 3600
    assert _within(Care.PEP, 0)
    assert _within(Care.PEP, pep - 1)
    assert not _within(Care.PEP, pep)
    assert not _within(Care.PEP, -1)
    assert _within(Care.EC, pep)


def test_r8_an_incident_has_the_windows_of_its_type_and_time(caseworker: Person) -> None:
    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=80, penetration=True)
    assert case.latest_incident is not None
    now: datetime = clock.utcnow()
    assert [w.care for w in case.latest_incident.clinical_windows() if w.is_open(now)] == [Care.EC]
    latest = case.latest_incident
    assert latest.clinical_windows() == clinical_windows("rape", latest.incident_at)
