"""Field readiness, statistics agree with the inboxes (R12, R24): an overdue referral is
defined once (``referral.referrals.models.overdue``) and both count with it; the demo
gives every statistics table and export figures."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from referral import clock
from referral.cases import services as cases
from referral.demo import load_demo
from referral.extensions import db
from referral.home.inbox import inbox_for
from referral.referrals import services as engine
from referral.referrals.models import ConsentKind, Priority, Referral, ReferralState, overdue
from referral.reports import exports, services
from referral.reports.services import Granularity, StatsScope
from tests import test_field_clinical_alarms as shared
from tests.factories import Person, open_case, referral_consent, request

# the caseworker, supervisor, receiver and health service of the clinical-alarm tests
_request_context = shared._request_context
people = shared.people
health = shared.health


def _refer(people: dict[str, Person], service: object, priority: Priority) -> Referral:
    worker = people["caseworker"].user
    case = open_case(worker)
    engine.record_consent(case, ConsentKind.STATISTICS, actor=worker, survivor_is_child=False)
    consent = referral_consent(case, worker, service)  # type: ignore[arg-type]
    referral = cases.refer(case, request(service, priority), consent=consent, actor=worker)  # type: ignore[arg-type]
    db.session.commit()
    return referral


def test_r12_overdue_is_one_rule_in_python_and_sql(
    people: dict[str, Person], health: object
) -> None:
    emergency = [_refer(people, health, Priority.EMERGENCY) for _ in range(3)]
    routine = _refer(people, health, Priority.ROUTINE)
    clock.advance(timedelta(hours=25))
    engine.transition(emergency[0].public_id, ReferralState.ACCEPTED, actor=people["receiver"].user)
    db.session.commit()
    now = clock.utcnow()
    in_sql = set(db.session.scalars(select(Referral.id).where(overdue(now))))
    in_python = {r.id for r in db.session.scalars(select(Referral)) if r.is_overdue(now)}
    assert in_sql == in_python == {emergency[1].id, emergency[2].id}
    assert routine.id not in in_sql


def test_r12_statistics_count_the_overdue_referrals_the_inboxes_show(
    people: dict[str, Person], health: object
) -> None:
    late = [_refer(people, health, Priority.EMERGENCY) for _ in range(6)]
    _refer(people, health, Priority.ROUTINE)  # not due yet
    clock.advance(timedelta(hours=25))
    engine.transition(late[0].public_id, ReferralState.ACCEPTED, actor=people["receiver"].user)
    db.session.commit()

    def inbox_count(person: Person) -> int:
        sections = {str(s.title): s.items for s in inbox_for(person.user)}
        return len(sections["Overdue referrals"])

    today = clock.utcnow().date()
    scope = StatsScope(
        today - timedelta(days=30),
        today,
        Granularity.MONTH,
        people["supervisor"].user.organisation_id,
    )
    figures = {f.label: f.text for f in services.gbv_report(scope).figures}
    counted = figures["Referrals overdue now (no answer past the deadline)"]
    assert counted == "5"
    assert inbox_count(people["supervisor"]) == 5  # the sending side
    assert inbox_count(people["receiver"]) == 5  # the receiving side


def test_demo_consents_to_statistics_so_every_table_and_export_shows_figures(
    app: Flask,
) -> None:
    load_demo()
    today = clock.utcnow().date()
    scope = StatsScope(today - timedelta(days=365), today, Granularity.MONTH, None)
    report = services.gbv_report(scope)
    assert report.tables
    for table in report.tables:
        assert not table.withheld, table.title
        assert any(cell.shown and (cell.value or 0) > 0 for cell in table.all_cells()), table.title
    referral_figures = [f for f in report.figures if "eferral" in f.label or "Median" in f.label]
    assert len(referral_figures) == 4
    for figure in referral_figures:
        assert "not published" not in figure.text and figure.text != "<5", figure.label
    meta = exports.ReportMeta(
        title="GBV statistics",
        period="the last year",
        scope="all organisations",
        generated_at=clock.utcnow(),
        threshold=report.threshold,
        shared=True,
    )
    csv = exports.tables_csv(report.tables, meta).decode()
    assert all(table.title in csv for table in report.tables)
    assert exports.tables_xlsx(report.tables, meta)[:2] == b"PK"
