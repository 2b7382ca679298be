"""Item 8: the demo holds a year of cases at a realistic volume, so statistics, charts
and the Incident Recorder export show figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral import clock
from referral.cases import demo_history
from referral.cases.models import Case, Incident
from referral.db import User
from referral.db.base import random_code
from referral.demo import load_demo
from referral.extensions import db
from referral.referrals.models import Consent, ConsentKind, Referral, ReferralState
from referral.reports import incident_recorder, services
from referral.reports.services import Granularity, StatsScope


def test_item8_demo_has_a_few_hundred_incidents_over_twelve_months_mostly_consenting(
    app: Flask,
) -> None:
    load_demo()
    incidents = db.session.scalar(select(func.count()).select_from(Incident))
    assert incidents is not None and 300 <= incidents <= 600
    first, last = db.session.execute(
        select(func.min(Incident.reported_on), func.max(Incident.reported_on))
    ).one()
    assert (last - first).days >= 300
    consenting = db.session.scalar(
        select(func.count(func.distinct(Consent.source_public_id))).where(
            Consent.kind == ConsentKind.STATISTICS, Consent.granted.is_(True)
        )
    )
    assert consenting is not None and consenting > 0.7 * incidents
    # referrals that ran their course, with the times the figures are made of
    completed = db.session.scalar(
        select(func.count()).where(
            Referral.state == ReferralState.COMPLETED, Referral.finished_at.is_not(None)
        )
    )
    assert completed is not None and completed > 100


def test_item8_demo_statistics_and_incident_recorder_show_figures(app: Flask) -> None:
    load_demo()
    today = clock.utcnow().date()
    start = today - timedelta(days=365)
    shared = services.gbv_report(StatsScope(start, today, Granularity.MONTH, None))
    by_type = next(t for t in shared.tables if not t.withheld)
    assert by_type.grand_total is not None and by_type.grand_total.shown
    assert (by_type.grand_total.value or 0) >= 200
    supervisor = db.session.scalar(select(User).where(User.email == "supervisor@demo.example.org"))
    assert supervisor is not None
    own = StatsScope(start, today, Granularity.MONTH, supervisor.organisation_id)
    rows = incident_recorder.rows(own, supervisor.organisation)
    assert len(rows) >= 200
    cases = db.session.scalar(select(func.count()).select_from(Case))
    assert cases is not None and cases >= 300


def test_demo_history_codes_never_clash_with_each_other_or_with_drawn_codes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The history is flushed in one go with no lookup per row: its codes are drawn
    distinct among themselves and one character longer than the services' codes."""
    codes: set[str] = set()
    drawn = [demo_history._history_code("REF", codes) for _ in range(2000)]
    assert len(set(drawn)) == 2000 == len(codes)
    assert {len(code.rsplit("-", 1)[1]) for code in drawn} == {6}
    assert len(random_code("REF").rsplit("-", 1)[1]) == 5
    # a draw that repeats is drawn again
    draws = iter(["REF-26-AAAAAA", "REF-26-AAAAAA", "REF-26-BBBBBB"])
    monkeypatch.setattr(demo_history, "random_code", lambda _prefix, _length: next(draws))
    taken: set[str] = set()
    assert demo_history._history_code("REF", taken) == "REF-26-AAAAAA"
    assert demo_history._history_code("REF", taken) == "REF-26-BBBBBB"
