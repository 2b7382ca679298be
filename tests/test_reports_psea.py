"""PSEA statistics for the network coordinator (R19, R21, R24, R25)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import clock
from referral.audit.models import AuditEvent
from referral.db import Organisation, OrganisationType
from referral.directory.models import AgeGroup, Sector, Sex
from referral.extensions import db
from referral.psea import services as psea
from referral.psea.models import (
    Allegation,
    Category,
    Channel,
    EntityType,
    PersonnelCategory,
    SurvivorAgeGroup,
    SurvivorSex,
)
from referral.referrals.models import Priority, Referral, ReferralState, SourceKind
from referral.reports import psea_stats
from referral.reports.services import Granularity, StatsReport, StatsScope
from referral.reports.suppression import SafeTable
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import Person, make_organisation, make_person, make_service


@pytest.fixture
def entity() -> Organisation:
    """A member of the network: it has a PSEA focal point."""
    organisation = make_organisation("UNX", OrganisationType.UN_AGENCY)
    make_person(Role.PSEA_FOCAL_POINT, organisation)
    return organisation


def allegation(actor: Person, *, child: bool = False, narrative: str | None = None) -> Allegation:
    age = SurvivorAgeGroup.UNDER_18 if child else SurvivorAgeGroup.ADULT
    made = psea.record_allegation(
        psea.AllegationData(
            received_at=clock.utcnow(),
            channel=Channel.HOTLINE,
            incident_from=None,
            incident_to=None,
            area=None,
            category=Category.SEXUAL_EXPLOITATION,
            entity_type=EntityType.UN_AGENCY,
            entity_organisation=None,
            personnel_category=PersonnelCategory.STAFF,
            survivors={(age, SurvivorSex.FEMALE): 1},
            consents_to_assistance=True,
            narrative=narrative,
        ),
        actor=actor.user,
    )
    db.session.commit()
    return made


def scope() -> StatsScope:
    today = clock.utcnow().date()
    return StatsScope(
        today - timedelta(days=40), today + timedelta(days=5), Granularity.MONTH, None
    )


def table(report: StatsReport, starts: str) -> SafeTable:
    return next(t for t in report.tables if t.title.startswith(starts))


def row(safe: SafeTable, label: str) -> list[str]:
    found = next(r for r in safe.rows() if r.label == label)
    return [cell.text for cell in found.cells] + [found.total.text]


def test_r19_routing_within_deadline_acknowledgement_and_median_routing_time(
    psea_coordinator: Person, entity: Organisation
) -> None:
    received = [allegation(psea_coordinator) for _ in range(10)]
    clock.advance(timedelta(hours=1))
    for item in received[:5]:
        psea.route(item, entity, actor=psea_coordinator.user)
    db.session.commit()
    clock.advance(timedelta(hours=29))
    for item in received[5:]:
        psea.route(item, entity, actor=psea_coordinator.user)
    db.session.commit()
    focal_point = db.session.scalar(
        select(psea_coordinator.user.__class__).where(
            psea_coordinator.user.__class__.organisation_id == entity.id
        )
    )
    assert focal_point is not None
    for item in received[:5]:
        psea.acknowledge(item, actor=focal_point)
    db.session.commit()

    report = psea_stats.psea_report(scope())
    routing = table(report, "Allegations by routing")
    assert row(routing, "Routed within the deadline") == ["5", "5"]
    assert row(routing, "Routed after the deadline") == ["5", "5"]
    figures = {f.label: f.text for f in report.figures}
    assert figures["Routed within the deadline (of routed allegations)"] == "50%"
    assert (
        figures["Acknowledged by the entity within the deadline (of routed allegations)"] == "50%"
    )
    assert figures["Median time from receipt to routing"] == "15.5 hours"


def test_r24_psea_tables_by_category_personnel_entity_type_and_survivor_age(
    psea_coordinator: Person,
) -> None:
    for _ in range(6):
        allegation(psea_coordinator)
    for _ in range(5):
        allegation(psea_coordinator, child=True)
    report = psea_stats.psea_report(scope())
    by_month = table(report, "Allegations by month received")
    assert by_month.grand_total.text == "11"
    assert by_month.column_totals[0].text == "6"  # sexual exploitation
    assert by_month.column_totals[2].text == "5"  # R20: sexual abuse of a child
    assert row(table(report, "Allegations by personnel"), "Staff member")[-1] == "11"
    assert row(table(report, "Allegations by type of entity"), "UN agency") == ["11"] * 2
    survivors = table(report, "Survivors by age group")
    assert row(survivors, "Under 18")[0] == "5"
    assert row(survivors, "Adult")[0] == "6"


def test_r24_small_psea_counts_are_suppressed(psea_coordinator: Person) -> None:
    for _ in range(2):
        allegation(psea_coordinator)
    report = psea_stats.psea_report(scope())
    assert table(report, "Allegations by type of entity").grand_total.text == "<5"


def test_r21_assistance_referrals_by_sector_and_outcome(
    psea_coordinator: Person, entity: Organisation, org: Organisation
) -> None:
    health = make_service(entity, Sector.GBV_CASE_MANAGEMENT)
    for index in range(5):
        db.session.add(
            Referral(
                source_kind=SourceKind.ASSISTANCE,
                source_public_id=f"assist{index}",
                survivor_code=f"VA-26-{index}",
                sending_organisation_id=org.id,
                created_by_id=psea_coordinator.user.id,
                receiving_organisation_id=entity.id,
                service_id=health.id,
                sector=Sector.GBV_CASE_MANAGEMENT,
                priority=Priority.URGENT,
                state=ReferralState.ACCEPTED,
                sent_at=clock.utcnow(),
                age_group=AgeGroup.ADULT,
                sex=Sex.FEMALE,
            )
        )
    db.session.commit()
    report = psea_stats.psea_report(scope())
    assistance = table(report, "Assistance referrals")
    assert row(assistance, "GBV case management")[1] == "5"  # accepted


def test_psea_statistics_are_for_the_psea_coordinator_only(
    client: FlaskClient, org: Organisation
) -> None:
    sign_in(client, make_person(Role.GBV_COORDINATOR, org))
    assert client.get("/reports/psea").status_code == 403


def test_psea_coordinator_lands_on_psea_statistics_with_charts(
    client: FlaskClient, psea_coordinator: Person
) -> None:
    for _ in range(5):
        allegation(psea_coordinator)
    sign_in(client, psea_coordinator)
    assert "PSEA statistics" in client.get("/reports/").get_data(as_text=True)
    page = client.get("/reports/psea")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('role="img"') == html.count('<table class="stats"') == 7
    assert client.get("/reports/psea?start=x&end=y").status_code == 400


def test_r25_psea_export_is_audited_and_names_no_agency_or_narrative(
    client: FlaskClient, psea_coordinator: Person, entity: Organisation
) -> None:
    for _ in range(5):
        allegation(psea_coordinator, narrative="Words that stay encrypted")
    sign_in(client, psea_coordinator)
    today = clock.utcnow().date()
    response = form_post(
        client,
        "/reports/psea/export",
        {
            "start": (today - timedelta(days=10)).isoformat(),
            "end": today.isoformat(),
            "granularity": "month",
            "file_format": "csv",
        },
        page="/reports/psea",
    )
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert "Words that stay encrypted" not in text
    for name in ("HBI", "UNX", "HBI organisation", "UNX organisation"):
        assert name not in text
    db.session.expire_all()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.exported")
    ).one()
    assert event.obj_id == "psea_statistics"
    assert event.detail["format"] == "csv"
    assert event.detail["scope"] == "all_organisations"
