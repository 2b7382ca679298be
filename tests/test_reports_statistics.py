"""GBV statistics: consent filter and de-duplication (R24), scope by role, hidden agency
identifiers in shared reports, audited exports without encrypted fields (R25)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from referral import clock
from referral.audit.models import AuditEvent
from referral.cases import services as cases
from referral.cases.models import (
    Case,
    IncidentType,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PreviouslyReported,
    TimeOfDay,
)
from referral.db import Organisation, OrganisationType
from referral.directory.models import Area, AreaLevel, Sector, Service, Sex
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import ConsentKind, ReferralState
from referral.reports import services
from referral.reports.services import Granularity, StatsScope
from referral.reports.suppression import Mark, SafeTable
from referral.security.crypto import encrypted_columns
from referral.security.policy import Role
from tests.conftest import account_csrf, form_post, sign_in
from tests.factories import (
    Person,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
    the_area,
)


def gbv_case(
    caseworker: Person,
    *,
    consent: bool = True,
    previously_reported: PreviouslyReported = PreviouslyReported.NO,
    sex: Sex = Sex.FEMALE,
    age: int = 29,
    hours_ago: float = 10,
    answers: dict[str, bool] | None = None,
    area: Area | None = None,
    **sensitive: str,
) -> Case:
    case = open_case(caseworker.user, age=age, sex=sex, area=area, **sensitive)
    now = clock.utcnow()
    data = cases.IncidentData(
        answers=answers or {"penetration": True},
        incident_at=now - timedelta(hours=hours_ago),
        reported_on=now.date(),
        time_of_day=TimeOfDay.EVENING_NIGHT,
        location_type=LocationType.ROAD,
        perpetrator_count=1,
        perpetrator_sex=Sex.MALE,
        perpetrator_age_group=PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=PerpetratorRelationship.STRANGER,
        previously_reported=previously_reported,
    )
    cases.record_incident(case, data, actor=caseworker.user)
    if consent:
        engine.record_consent(
            case, ConsentKind.STATISTICS, actor=caseworker.user, survivor_is_child=False
        )
    db.session.commit()
    return case


def scope_of(
    organisation: Organisation | None, granularity: Granularity = Granularity.MONTH
) -> StatsScope:
    today = clock.utcnow().date()
    return StatsScope(
        today.replace(day=1) - timedelta(days=60),
        today,
        granularity,
        organisation.id if organisation else None,
    )


def table(report: services.StatsReport, starts: str) -> SafeTable:
    return next(t for t in report.tables if t.title.startswith(starts))


def row_of(safe: SafeTable, label: str) -> list[str]:
    row = next(r for r in safe.rows() if r.label == label)
    return [cell.text for cell in row.cells] + [row.total.text]


def service_of(organisation: Organisation, sector: Sector) -> Service:
    """A service in the published pathway of the test area (R14)."""
    service = make_service(organisation, sector)
    creator = make_person(Role.GBV_COORDINATOR, organisation, email=f"c-{sector.value}@example.org")
    publish_pathway(creator.user, [service])
    return service


# --- counting rules ------------------------------------------------------------------------


def test_r24_only_incidents_with_consent_to_statistics_are_counted(
    caseworker: Person, org: Organisation
) -> None:
    counted = [gbv_case(caseworker) for _ in range(6)]
    for _ in range(3):
        gbv_case(caseworker, consent=False)
    withdrawn = gbv_case(caseworker)
    consent = next(c for c in engine.consents_of(withdrawn) if c.kind is ConsentKind.STATISTICS)
    engine.withdraw_consent(consent, actor=caseworker.user, reason="survivor asked")
    db.session.commit()
    refused = open_case(caseworker.user)
    cases.record_incident(refused, _incident_data(), actor=caseworker.user)
    engine.record_consent(
        refused,
        ConsentKind.STATISTICS,
        actor=caseworker.user,
        survivor_is_child=False,
        granted=False,
    )
    db.session.commit()

    report = services.gbv_report(scope_of(org))
    by_type = table(report, "Incidents by type and survivor sex")
    assert row_of(by_type, "Rape")[-1] == str(len(counted))
    assert by_type.grand_total.text == "6"


def _incident_data() -> cases.IncidentData:
    now = clock.utcnow()
    return cases.IncidentData(
        answers={"penetration": True},
        incident_at=now - timedelta(hours=10),
        reported_on=now.date(),
        time_of_day=TimeOfDay.MORNING,
        location_type=LocationType.HOME,
        perpetrator_count=1,
        perpetrator_sex=Sex.MALE,
        perpetrator_age_group=PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=PerpetratorRelationship.INTIMATE_PARTNER,
    )


def test_r24_incidents_already_reported_to_a_gbvims_organisation_are_not_counted_twice(
    caseworker: Person, org: Organisation
) -> None:
    """GBVIMS drops only incidents previously reported to a GBVIMS organisation (counted
    there); one reported to an organisation outside the GBVIMS still counts here."""
    for _ in range(7):
        gbv_case(caseworker)
    for _ in range(4):
        gbv_case(caseworker, previously_reported=PreviouslyReported.GBVIMS_ORG)
    for _ in range(3):
        gbv_case(caseworker, previously_reported=PreviouslyReported.NON_GBVIMS_ORG)
    report = services.gbv_report(scope_of(org))
    assert table(report, "Incidents by type and survivor sex").grand_total.text == "10"


def test_r24_small_counts_are_suppressed_in_every_table(
    caseworker: Person, org: Organisation
) -> None:
    for _ in range(6):
        gbv_case(caseworker)
    for _ in range(2):
        gbv_case(caseworker, sex=Sex.MALE)
    report = services.gbv_report(scope_of(org))
    by_type = table(report, "Incidents by type and survivor sex")
    assert row_of(by_type, "Rape")[:2] == ["x", "<5"]  # 6 female hidden to protect 2 male
    for safe in report.tables:
        for cell in safe.all_cells():
            if cell.shown:
                assert cell.value is not None and (cell.value == 0 or cell.value >= 5)


def test_r24_incidents_by_period_type_age_and_delay(caseworker: Person, org: Organisation) -> None:
    for _ in range(5):
        gbv_case(caseworker, answers={"physical_assault": True}, hours_ago=24 * 8)
    for _ in range(5):
        gbv_case(caseworker, hours_ago=10)
    report = services.gbv_report(scope_of(org, Granularity.QUARTER))
    periods = table(report, "Incidents by period and type")
    assert periods.row_labels[-1] == "2026 Q1"
    assert row_of(periods, "2026 Q1")[0] == "5"  # rape
    assert row_of(periods, "2026 Q1")[2] == "5"  # physical assault
    delay = table(report, "Incidents by reporting delay")
    assert row_of(delay, "0-3 days")[0] == "5"
    assert row_of(delay, "6-14 days")[0] == "5"
    ages = table(report, "Incidents by survivor age group and sex")
    assert row_of(ages, "Adults 18-59")[0] == "10"
    context = table(report, "Incidents by case context")
    assert not context.totals_published


def test_r24_share_of_rape_cases_reaching_health_care_within_72_hours(
    caseworker: Person, org: Organisation, other_org: Organisation
) -> None:
    receiver = make_person(Role.SERVICE_FOCAL_POINT, other_org)
    health = service_of(other_org, Sector.HEALTH)
    reached = [gbv_case(caseworker, hours_ago=5) for _ in range(5)]
    late = [gbv_case(caseworker, hours_ago=5) for _ in range(5)]
    for group in (reached, late):
        for case in group:
            consent = referral_consent(case, caseworker.user, health)
            referral = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
            db.session.commit()
            if group is late:
                continue
            engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
            db.session.commit()
    clock.advance(timedelta(hours=80))
    for case in late:
        referral = engine.referrals_of(case.source_kind, case.public_id)[0]
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
        db.session.commit()
    report = services.gbv_report(scope_of(org))
    care = table(report, "Rape incidents: health care within 72 hours")
    assert row_of(care, "Reached health care within 72 hours") == ["5", "5"]
    assert care.grand_total.text == "10"
    figure = next(f for f in report.figures if f.label.startswith("Rape survivors"))
    assert figure.text == "50%"


def test_referral_figures_by_sector_and_state_acceptance_and_medians(
    caseworker: Person, org: Organisation, other_org: Organisation
) -> None:
    receiver = make_person(Role.SERVICE_FOCAL_POINT, other_org)
    psychosocial = service_of(other_org, Sector.PSYCHOSOCIAL)
    referrals = []
    for _ in range(6):
        case = gbv_case(caseworker)
        consent = referral_consent(case, caseworker.user, psychosocial)
        referrals.append(
            cases.refer(case, request(psychosocial), consent=consent, actor=caseworker.user)
        )
        db.session.commit()
    clock.advance(timedelta(hours=10))
    for referral in referrals:
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
        db.session.commit()
    clock.advance(timedelta(days=3))
    for referral in referrals:
        engine.transition(referral.public_id, ReferralState.COMPLETED, actor=receiver.user)
        db.session.commit()
    report = services.gbv_report(scope_of(org))
    by_sector = table(report, "Referrals by sector and state")
    assert row_of(by_sector, "Psychosocial support")[3] == "6"  # completed
    figures = {f.label: f.text for f in report.figures}
    assert figures["Acceptance rate (accepted of answered referrals)"] == "100%"
    assert figures["Median time to acceptance"] == "10.0 hours"
    assert figures["Median time to completion"] == "3.4 days"
    assert figures["Referrals overdue now (no answer past the deadline)"] == "0"


@pytest.mark.parametrize(("accepted", "median"), [(7, "4.0 hours"), (6, "3.5 hours")])
def test_r24_median_time_to_acceptance_is_over_every_counted_referral(
    caseworker: Person,
    org: Organisation,
    other_org: Organisation,
    accepted: int,
    median: str,
) -> None:
    receiver = make_person(Role.SERVICE_FOCAL_POINT, other_org)
    psychosocial = service_of(other_org, Sector.PSYCHOSOCIAL)
    referrals = []
    for _ in range(accepted):  # one an hour: accepted together, after n, n - 1, ... 1 hours
        case = gbv_case(caseworker)
        consent = referral_consent(case, caseworker.user, psychosocial)
        referrals.append(
            cases.refer(case, request(psychosocial), consent=consent, actor=caseworker.user)
        )
        db.session.commit()
        clock.advance(timedelta(hours=1))
    for referral in referrals:
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
        db.session.commit()
    figures = {f.label: f.text for f in services.gbv_report(scope_of(org)).figures}
    assert figures["Median time to acceptance"] == median


def test_r24_figures_from_few_referrals_are_not_published(
    caseworker: Person, org: Organisation, other_org: Organisation
) -> None:
    health = service_of(other_org, Sector.HEALTH)
    case = gbv_case(caseworker)
    consent = referral_consent(case, caseworker.user, health)
    cases.refer(case, request(health), consent=consent, actor=caseworker.user)
    db.session.commit()
    clock.advance(timedelta(days=30))
    figures = {f.label: f.text for f in services.gbv_report(scope_of(org)).figures}
    assert figures["Median time to acceptance"].startswith("not published")
    assert figures["Referrals overdue now (no answer past the deadline)"] == "<5"


def test_r24_coordinator_sees_all_organisations_supervisor_only_their_own(
    caseworker: Person,
    org: Organisation,
    other_org: Organisation,
    coordinator: Person,
    supervisor: Person,
) -> None:
    other_worker = make_person(Role.CASEWORKER, other_org)
    for _ in range(6):
        gbv_case(caseworker)
    for _ in range(7):
        gbv_case(other_worker)
    today = clock.utcnow().date()
    shared = services.scope_for(coordinator.user, today, today, Granularity.MONTH)
    own = services.scope_for(supervisor.user, today, today, Granularity.MONTH)
    assert shared.shared and not own.shared
    assert table(services.gbv_report(shared), "Incidents by type").grand_total.text == "13"
    assert table(services.gbv_report(own), "Incidents by type").grand_total.text == "6"


# --- pages, access, exports --------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [Role.CASEWORKER, Role.ADMIN, Role.AUDITOR, Role.PSEA_FOCAL_POINT, Role.SERVICE_FOCAL_POINT],
)
def test_statistics_are_refused_to_other_roles(
    client: FlaskClient, org: Organisation, role: Role
) -> None:
    sign_in(client, make_person(role, org))
    assert client.get("/reports/").status_code == 403
    token = {"csrf_token": account_csrf(client)}
    assert client.post("/reports/export", data=token).status_code == 403


def test_statistics_page_shows_charts_tables_and_figures(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    for _ in range(5):
        gbv_case(caseworker)
    sign_in(client, supervisor)
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('role="img"') == 8
    assert html.count('<table class="stats"') == 8
    assert "HBI organisation" in html  # own organisation named in its own report
    assert "Anonymised incidents (CSV)" in html


def test_bad_filter_gives_field_errors_and_400(client: FlaskClient, supervisor: Person) -> None:
    sign_in(client, supervisor)
    response = client.get("/reports/?start=2026-03-01&end=2026-01-01&granularity=month")
    assert response.status_code == 400
    assert "The end comes before the start." in response.get_data(as_text=True)
    assert client.get("/reports/?start=nonsense&end=2026-01-01").status_code == 400


def test_r24_shared_report_and_its_exports_hide_agency_identifiers(
    client: FlaskClient, coordinator: Person, caseworker: Person, other_org: Organisation
) -> None:
    other_worker = make_person(Role.CASEWORKER, other_org)
    for _ in range(5):
        gbv_case(caseworker)
        gbv_case(other_worker)
    sign_in(client, coordinator)
    html = client.get("/reports/").get_data(as_text=True)
    main = html[html.index("<main") :]
    names = ["HBI", "LWHA", "HBI organisation", "LWHA organisation"]
    for name in names:
        assert name not in main
    assert "All contributing organisations" in main
    assert "Anonymised incidents" not in main  # incident-level data is not for coordinators
    for file_format in ("csv", "xlsx"):
        response = export(client, "/reports/export", file_format)
        assert response.status_code == 200
        text = exported_text(response.data, file_format)
        for name in names:
            assert name not in text
        assert "All contributing organisations" in text


def export(client: FlaskClient, url: str, file_format: str) -> Any:
    today = clock.utcnow().date()
    return form_post(
        client,
        url,
        {
            "start": (today - timedelta(days=30)).isoformat(),
            "end": today.isoformat(),
            "granularity": "month",
            "file_format": file_format,
        },
        page="/reports/",
    )


def exported_text(data: bytes, file_format: str) -> str:
    if file_format == "csv":
        return data.decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(data))
    return "\n".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def test_r25_every_export_is_audited_with_its_parameters(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    for _ in range(5):
        gbv_case(caseworker)
    sign_in(client, supervisor)
    assert export(client, "/reports/export", "xlsx").status_code == 200
    assert export(client, "/reports/incidents/export", "csv").status_code == 200
    db.session.expire_all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.exported").order_by(AuditEvent.id)
    ).all()
    assert [e.obj_id for e in events] == ["gbv_statistics", "incident_level"]
    today = clock.utcnow().date()
    for event, file_format in zip(events, ("xlsx", "csv"), strict=True):
        assert event.actor_id == supervisor.user.id
        assert event.detail["format"] == file_format
        assert event.detail["end"] == today.isoformat()
        assert event.detail["granularity"] == "month"
        assert event.detail["scope"] == "own_organisation"
    assert events[1].detail["rows"] == 5


def test_r25_incident_export_is_refused_to_coordinators(
    client: FlaskClient, coordinator: Person
) -> None:
    sign_in(client, coordinator)
    assert export(client, "/reports/incidents/export", "csv").status_code == 403


def test_r25_incident_export_selects_no_encrypted_column() -> None:
    """Statically: none of the export query's columns is an encrypted column."""
    encrypted = {(ref.table.name, ref.column.name) for ref in encrypted_columns(db.metadata)}
    assert encrypted  # the check means something
    statement = services.incident_export_statement(scope_of(make_organisation("XYZ")))
    for column in statement.selected_columns:
        table_name = getattr(getattr(column, "table", None), "name", None)
        assert (table_name, column.name) not in encrypted


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_r25_exports_contain_no_encrypted_field_or_identifier(
    client: FlaskClient, supervisor: Person, caseworker: Person, file_format: str
) -> None:
    secrets: dict[str, Any] = {
        "name": "Amina Secretname",
        "contact": "+999 555 0101",
        "location_detail": "Blue house behind the mosque",
        "narrative": "Narrative words nobody may export",
    }
    made = [gbv_case(caseworker, **secrets) for _ in range(5)]
    made[0].notes = "Private note text"
    db.session.commit()
    sign_in(client, supervisor)
    for url in ("/reports/incidents/export", "/reports/export"):
        response = export(client, url, file_format)
        assert response.status_code == 200
        text = exported_text(response.data, file_format)
        for value in [*secrets.values(), "Private note text"]:
            assert value not in text
        for case in made:
            assert case.survivor_code not in text
            assert case.public_id not in text


def test_r24_incident_export_has_consented_own_incidents_in_incident_recorder_layout(
    client: FlaskClient, supervisor: Person, caseworker: Person, other_org: Organisation
) -> None:
    other_worker = make_person(Role.CASEWORKER, other_org)
    for _ in range(3):
        gbv_case(caseworker)
    gbv_case(caseworker, consent=False)
    gbv_case(caseworker, previously_reported=PreviouslyReported.GBVIMS_ORG)
    gbv_case(other_worker)
    sign_in(client, supervisor)
    response = export(client, "/reports/incidents/export", "csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Incident number", "Month of interview", "Month of incident"]
    assert "GBV type" in rows[0]
    assert "Did you refer the client to health/medical services?" in rows[0]
    assert len(rows) == 1 + 3
    type_column = rows[0].index("GBV type")
    assert {row[type_column] for row in rows[1:]} == {IncidentType.RAPE.value}
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]
    assert rows[1][1] == clock.utcnow().strftime("%Y-%m")


def test_incident_export_needs_one_organisation() -> None:
    with pytest.raises(ValueError):
        services.incident_export_statement(scope_of(None))


def test_suppressed_marks_never_hold_values_in_the_report(
    caseworker: Person, org: Organisation
) -> None:
    for _ in range(3):
        gbv_case(caseworker)
    report = services.gbv_report(scope_of(org))
    for safe in report.tables:
        for cell in safe.all_cells():
            if cell.mark is not Mark.SHOWN:
                assert cell.value is None


def test_organisations_of_any_type_count_in_the_shared_report(coordinator: Person) -> None:
    national = make_organisation("NAT", OrganisationType.NATIONAL_NGO)
    national_worker = make_person(Role.CASEWORKER, national)
    for _ in range(5):
        gbv_case(national_worker)
    report = services.gbv_report(scope_of(None))
    assert table(report, "Incidents by type").grand_total.text == "5"


def test_incidents_by_area_and_the_area_filter(caseworker: Person, org: Organisation) -> None:
    province = Area(code="NP", name="Northern", level=AreaLevel.PROVINCE)
    alpha = Area(code="NP-A", name="Alpha district", level=AreaLevel.DISTRICT, parent=province)
    beta = Area(code="NP-B", name="Beta district", level=AreaLevel.DISTRICT, parent=province)
    camp = Area(code="NP-A-1", name="Alpha camp", level=AreaLevel.SITE, parent=alpha)
    db.session.add_all([province, alpha, beta, camp])
    db.session.commit()
    for _ in range(5):
        gbv_case(caseworker, area=camp)
    for _ in range(6):
        gbv_case(caseworker, area=beta)
    for _ in range(7):
        gbv_case(caseworker)  # the cases' test province
    everywhere = table(services.gbv_report(scope_of(org)), "Incidents by area")
    assert row_of(everywhere, "Northern")[-1] == "11"
    assert row_of(everywhere, the_area().name)[-1] == "7"
    northern = replace(scope_of(org), area_id=province.id)
    report = services.gbv_report(northern)
    assert table(report, "Incidents by type and survivor sex").grand_total.text == "11"
    by_area = table(report, "Incidents by area")
    assert by_area.row_labels == ("Alpha district", "Beta district")
    assert row_of(by_area, "Alpha district")[-1] == "5"
    assert northern.parameters()["area"] == province.public_id


def test_the_area_filter_on_the_page(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    for _ in range(5):
        gbv_case(caseworker)
    area = the_area()
    sign_in(client, supervisor)
    response = client.get(f"/reports/?start=2026-01-01&end=2026-03-02&area={area.public_id}")
    assert response.status_code == 200
    assert area.name in response.get_data(as_text=True)
    assert client.get("/reports/?start=2026-01-01&end=2026-03-02&area=nope").status_code == 400
