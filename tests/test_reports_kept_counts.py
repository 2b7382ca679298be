"""R24: the GBV statistics read from the kept counts equal those counted from the rows.

The counts (``reports.counters``) are kept up to date in the transaction of every
change; ``services.oracle_counts`` counts the same from the incidents and referrals and
is the definition. A property test drives random cases, incidents, consents, referral
moves, transfers and rolled-back changes through the services and checks that both give
identical counts and identical published tables, and that a rebuild changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from referral import clock
from referral.cases import services as cases
from referral.cases.models import (
    Case,
    PreviouslyReported,
)
from referral.db import Organisation
from referral.directory.models import Area, Sector, Service, Sex
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import (
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Referral,
    ReferralState,
)
from referral.reports import counters, services
from referral.reports.counted import Granularity, StatsScope, whole_months
from referral.reports.models import StatisticsCount
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import empty_tables
from tests.factories import (
    Areas,
    Person,
    correct_incident,
    incident,
    make_areas,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)

ANSWERS = (
    "penetration",
    "unwanted_sexual_contact",
    "physical_assault",
    "forced_marriage",
    "denial_of_resources",
    "psychological_abuse",
)


@dataclass
class World:
    organisations: list[Organisation]
    caseworkers: list[Person]
    receivers: list[Person]
    services: list[Service]
    areas: Areas

    @property
    def area_list(self) -> list[Area]:
        a = self.areas
        return [a.country, a.province, a.kesa, a.dalo, a.camp]


def build_world() -> World:
    areas = make_areas()
    organisations = [make_organisation("HBI"), make_organisation("LWHA")]
    caseworkers = [make_person(Role.CASEWORKER, o) for o in organisations]
    receivers = [make_person(Role.SERVICE_FOCAL_POINT, o) for o in organisations]
    coordinator = make_person(Role.GBV_COORDINATOR, organisations[0])
    services_ = [
        make_service(o, sector, areas=[areas.country])
        for o in organisations
        for sector in (Sector.HEALTH, Sector.PSYCHOSOCIAL)
    ]
    publish_pathway(coordinator.user, services_)
    return World(organisations, caseworkers, receivers, services_, areas)


def tables_of(report: services.StatsReport) -> list[Any]:
    """What a report publishes: every table's cells and every figure, as text."""
    published: list[Any] = []
    for safe in report.tables:
        published.append(safe.title)
        for row in safe.rows():
            published.append((row.label, [c.text for c in row.cells], row.total.text))
    published.extend((f.label, f.text) for f in report.figures)
    return published


def kept_rows() -> dict[tuple[Any, ...], int]:
    rows = db.session.execute(
        select(
            StatisticsCount.organisation_id,
            StatisticsCount.area_id,
            StatisticsCount.measure,
            StatisticsCount.period,
            StatisticsCount.key_a,
            StatisticsCount.key_b,
            StatisticsCount.count,
        )
    )
    return {tuple(row[:6]): row[6] for row in rows if row[6]}


def assert_counts_agree(world: World) -> None:
    today = clock.utcnow().date()
    start = today - timedelta(days=400)
    a = world.areas
    scopes = [
        StatsScope(start, today, Granularity.MONTH, None),
        StatsScope(start, today, Granularity.QUARTER, world.organisations[0].id),
        StatsScope(start, today, Granularity.MONTH, world.organisations[1].id),
        StatsScope(start, today, Granularity.YEAR, None, a.kesa.id),
        StatsScope(start, today, Granularity.MONTH, world.organisations[0].id, a.province.id),
        StatsScope(today - timedelta(days=40), today, Granularity.MONTH, None, a.camp.id),
    ]
    for scope in scopes:
        months = whole_months(scope)
        assert counters.gbv_counts(months) == services.oracle_counts(months), scope
        kept = services.gbv_report(scope)
        counted = services.gbv_report(scope, oracle=True)
        assert tables_of(kept) == tables_of(counted), scope


# --- the random changes --------------------------------------------------------------------


def _open(world: World, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, 1))
    case = open_case(
        world.caseworkers[index].user,
        age=data.draw(st.sampled_from([8, 15, 29, 70])),
        sex=data.draw(st.sampled_from(list(Sex))),
        area=data.draw(st.sampled_from(world.area_list)),
    )
    if data.draw(st.booleans()):
        engine.record_consent(
            case,
            ConsentKind.STATISTICS,
            actor=world.caseworkers[index].user,
            survivor_is_child=case.is_child,
            granted=data.draw(st.booleans()),
            child=_child(case),
        )
        db.session.commit()


def _child(case: Case) -> engine.ChildConsent | None:
    if not case.is_child:
        return None
    return engine.ChildConsent(
        caregiver_consented=True,
        caregiver_relationship=CaregiverRelationship.MOTHER,
        caregiver_is_alleged_perpetrator=False,
        child_assented=True,
    )


def _a_case(data: st.DataObject) -> Case | None:
    ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))
    if not ids:
        return None
    return db.session.get(Case, data.draw(st.sampled_from(ids)))


def _actor(world: World, case: Case) -> Person:
    return world.caseworkers[[o.id for o in world.organisations].index(case.organisation_id)]


def _incident(world: World, data: st.DataObject) -> None:
    case = _a_case(data)
    if case is None:
        return
    answers = {name: False for name in ANSWERS}
    answers[data.draw(st.sampled_from(ANSWERS))] = True
    hours_ago = data.draw(st.integers(1, 24 * 200))
    reported = data.draw(st.sampled_from(list(PreviouslyReported)))
    actor = _actor(world, case).user
    correct_one: bool = data.draw(st.booleans())
    if case.incidents and correct_one:
        recorded = data.draw(st.sampled_from(list(case.incidents)))
    else:
        recorded = incident(case, actor, hours_ago=hours_ago, **answers)
    correct_incident(
        recorded, actor, hours_ago=hours_ago, answers=answers, previously_reported=reported
    )


def _statistics_consent(world: World, data: st.DataObject) -> None:
    case = _a_case(data)
    if case is None:
        return
    actor = _actor(world, case).user
    given_ = [
        c
        for c in engine.consents_of(case)
        if c.kind is ConsentKind.STATISTICS and c.withdrawn_at is None and c.granted
    ]
    if given_:
        engine.withdraw_consent(given_[0], actor=actor, reason="survivor asked")
    else:
        engine.record_consent(
            case,
            ConsentKind.STATISTICS,
            actor=actor,
            survivor_is_child=case.is_child,
            child=_child(case),
        )
    db.session.commit()


def _refer(world: World, data: st.DataObject) -> None:
    case = _a_case(data)
    if case is None or not case.incidents:
        return
    service = data.draw(st.sampled_from(world.services))
    actor = _actor(world, case).user
    consent = referral_consent(case, actor, service)
    incident = data.draw(st.sampled_from(list(case.incidents)))
    try:
        cases.refer(case.regarding(incident), request(service), consent=consent, actor=actor)
        db.session.commit()
    except RuleError:  # a rule of the referral engine said no: nothing changed
        db.session.rollback()


def _move(world: World, data: st.DataObject) -> None:
    open_ones = list(
        db.session.scalars(
            select(Referral.public_id)
            .where(Referral.state.in_([ReferralState.SENT, ReferralState.ACCEPTED]))
            .order_by(Referral.id)
        )
    )
    if not open_ones:
        return
    public_id = data.draw(st.sampled_from(open_ones))
    referral = db.session.scalar(select(Referral).where(Referral.public_id == public_id))
    assert referral is not None
    receiver = world.receivers[
        [o.id for o in world.organisations].index(referral.receiving_organisation_id)
    ]
    if referral.state is ReferralState.SENT:
        target = data.draw(st.sampled_from([ReferralState.ACCEPTED, ReferralState.DECLINED]))
    else:
        target = ReferralState.COMPLETED
    reason = "no capacity" if target is ReferralState.DECLINED else None
    feedback = "done" if target is ReferralState.COMPLETED else None
    engine.transition(public_id, target, actor=receiver.user, reason=reason, feedback=feedback)
    db.session.commit()


def _edit_case(world: World, data: st.DataObject) -> None:
    """A transfer to the other organisation, a corrected area or sex (ORM changes)."""
    case = _a_case(data)
    if case is None:
        return
    what = data.draw(st.sampled_from(["organisation", "area", "sex"]))
    if what == "organisation":
        others = [o.id for o in world.organisations if o.id != case.organisation_id]
        case.organisation_id = others[0]
    elif what == "area":
        case.area_id = data.draw(st.sampled_from(world.area_list)).id
    else:
        case.sex = data.draw(st.sampled_from(list(Sex)))
    db.session.commit()


def _rolled_back(world: World, data: st.DataObject) -> None:
    """A change flushed, then rolled back: the counts must not keep it."""
    case = _a_case(data)
    if case is None:
        return
    for consent in db.session.scalars(
        select(Consent).where(Consent.source_public_id == case.public_id)
    ):
        consent.withdrawn_at = clock.utcnow()
    case.sex = Sex.OTHER if case.sex is not Sex.OTHER else Sex.FEMALE
    db.session.flush()
    db.session.rollback()


def _time_passes(world: World, data: st.DataObject) -> None:
    clock.advance(timedelta(hours=data.draw(st.integers(1, 24 * 40))))


STEPS: list[Callable[[World, st.DataObject], None]] = [
    _open,
    _incident,
    _incident,
    _statistics_consent,
    _refer,
    _refer,
    _move,
    _move,
    _edit_case,
    _rolled_back,
    _time_passes,
]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_r24_kept_counts_and_counting_from_the_rows_publish_identical_tables(
    app: Flask, data: st.DataObject
) -> None:
    db.session.remove()
    empty_tables(app)
    world = build_world()
    for _ in range(data.draw(st.integers(5, 30))):
        data.draw(st.sampled_from(STEPS))(world, data)
    assert_counts_agree(world)

    maintained = kept_rows()
    counters.rebuild(db.session.connection())
    db.session.commit()
    assert kept_rows() == maintained


# --- named cases --------------------------------------------------------------------------


def _one_counted_case(world: World) -> Case:
    caseworker = world.caseworkers[0].user
    case = open_case(caseworker, area=world.areas.kesa)
    incident(case, caseworker, hours_ago=5, penetration=True)
    engine.record_consent(case, ConsentKind.STATISTICS, actor=caseworker, survivor_is_child=False)
    db.session.commit()
    return case


def _incidents_counted(organisation: Organisation | None = None) -> int:
    today = clock.utcnow().date()
    scope = whole_months(
        StatsScope(today, today, Granularity.MONTH, organisation.id if organisation else None)
    )
    return sum(counters.gbv_counts(scope).by_month_type.values())


def test_r24_a_consent_withdrawn_is_out_of_the_next_report() -> None:
    world = build_world()
    case = _one_counted_case(world)
    assert _incidents_counted() == 1
    consent = next(c for c in engine.consents_of(case) if c.kind is ConsentKind.STATISTICS)
    engine.withdraw_consent(consent, actor=world.caseworkers[0].user, reason="survivor asked")
    db.session.commit()
    assert _incidents_counted() == 0


def test_r24_a_rolled_back_change_leaves_the_counts_as_they_were() -> None:
    world = build_world()
    case = _one_counted_case(world)
    before = kept_rows()
    case.organisation_id = world.organisations[1].id
    db.session.flush()
    db.session.rollback()
    assert kept_rows() == before
    assert _incidents_counted(world.organisations[0]) == 1


def test_r24_a_transferred_case_counts_for_its_new_organisation() -> None:
    world = build_world()
    case = _one_counted_case(world)
    case.organisation_id = world.organisations[1].id
    db.session.commit()
    assert _incidents_counted(world.organisations[0]) == 0
    assert _incidents_counted(world.organisations[1]) == 1
    assert _incidents_counted() == 1


def test_r24_a_new_pep_window_is_counted_from_the_rows_until_rebuilt(app: Flask) -> None:
    world = build_world()
    case = _one_counted_case(world)  # the incident happened 5 hours ago
    health = world.services[2]  # the other organisation's health service
    caseworker = world.caseworkers[0].user
    consent = referral_consent(case, caseworker, health)
    referral = cases.refer(case, request(health), consent=consent, actor=caseworker)
    db.session.commit()
    clock.advance(timedelta(hours=30))
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=world.receivers[1].user)
    db.session.commit()
    today = clock.utcnow().date()
    scope = whole_months(StatsScope(today.replace(day=1), today, Granularity.MONTH, None))
    assert counters.gbv_counts(scope).rape_reached == 1  # 35 hours: within 72
    configured = app.config["CLINICAL_WINDOW_PEP_HOURS"]
    app.config["CLINICAL_WINDOW_PEP_HOURS"] = 24
    try:
        kept = counters.gbv_counts(scope)
        assert (kept.rape_reached, kept.rape_not_reached) == (0, 1)
        assert kept == services.oracle_counts(scope)
        counters.rebuild(db.session.connection())
        db.session.commit()
        assert counters.gbv_counts(scope) == services.oracle_counts(scope)
    finally:
        app.config["CLINICAL_WINDOW_PEP_HOURS"] = configured


def test_statistics_check_and_rebuild_commands(app: Flask) -> None:
    world = build_world()
    _one_counted_case(world)
    runner = app.test_cli_runner()
    assert "agree" in runner.invoke(args=["statistics", "check"]).output
    db.session.execute(delete(StatisticsCount))
    db.session.commit()
    failed = runner.invoke(args=["statistics", "check"])
    assert failed.exit_code != 0
    assert "differ" in failed.output
    rebuilt = runner.invoke(args=["statistics", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "agree" in runner.invoke(args=["statistics", "check"]).output
