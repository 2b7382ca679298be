"""Item 4: the GBVIMS Incident Recorder export for supervisors (own organisation only):
the Incident Recorder's 42 headers in its order, its value vocabulary, a Menu Data sheet,
headers in English, French and Arabic, withheld columns empty and explained, stable
incident ids, audited (R25)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from sqlalchemy import select

from referral import clock
from referral.admin import lists
from referral.admin.lists import CountryList
from referral.audit.models import AuditEvent
from referral.cases.models import Incident, PreviouslyReported
from referral.db import Organisation
from referral.directory.models import Area, AreaLevel, Sector
from referral.extensions import db
from referral.referrals import services as engine
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import (
    Person,
    make_person,
    make_service,
    publish_pathway,
    referral_consent,
    request,
    the_area,
)
from tests.test_reports_statistics import gbv_case

# The Incident Recorder's "Incident Data" headers, in its order.
IR_HEADERS = [
    "INCIDENT ID",
    "SURVIVOR CODE",
    "CASE MANAGER CODE",
    "DATE OF INTERVIEW",
    "DATE OF INCIDENT",
    "DATE OF BIRTH",
    "SEX",
    "ETHNICITY",
    "COUNTRY OF ORIGIN",
    "CIVIL / MARITAL STATUS",
    "DISPLACEMENT STATUS AT REPORT",
    "PERSON WITH DISABILITY?",
    "UNACCOMPANIED OR SEPARATED CHILD?",
    "STAGE OF DISPLACEMENT AT INCIDENT",
    "INCIDENT TIME OF DAY",
    "INCIDENT LOCATION",
    "INCIDENT COUNTY",
    "INCIDENT DISTRICT",
    "INCIDENT CAMP / TOWN",
    "GBV TYPE",
    "HARMFUL TRADITIONAL PRACTICE",
    "MONEY, GOODS, BENEFITS AND / OR SERVICES EXCHANGED ?",
    "TYPE OF ABDUCTION",
    "PREVIOUSLY REPORTED THIS INCIDENT?",
    "PREVIOUS GBV INCIDENTS?",
    "No. ALLEGED PRIMARY PERPETRATOR(S)",
    "ALLEGED PERPETRATOR SEX",
    "PREVIOUS INCIDENT WITH THIS PERPETRATOR",
    "ALLEGED PERPETRATOR AGE GROUP",
    "ALLEGED PERPETRATOR - SURVIVOR RELATIONSHIP",
    "ALLEGED PERPETRATOR OCCUPATION",
    "REFERRED TO YOU FROM?",
    "SAFE HOUSE / SHELTER",
    "HEALTH / MEDICAL SERVICES",
    "PSYCHOSOCIAL SERVICES",
    "WANTS LEGAL ACTION?",
    "LEGAL ASSISTANCE SERVICES",
    "POLICE / OTHER SECURITY ACTOR",
    "LIVELIHOODS PROGRAM",
    "CHILD PROTECTION SERVICES / EDUCATION SERVICES",
    "CONSENT GIVEN",
    "REPORTING AGENCY CODE",
]
WITHHELD = ["SURVIVOR CODE", "CASE MANAGER CODE", "DATE OF BIRTH", "ETHNICITY"]
URL = "/reports/incident-recorder/export"


def download(client: FlaskClient, language: str = "en") -> Any:
    today = clock.utcnow().date()
    return form_post(
        client,
        URL,
        {
            "start": (today - timedelta(days=30)).isoformat(),
            "end": today.isoformat(),
            "granularity": "month",
            "language": language,
        },
        page="/reports/",
    )


def workbook_of(response: Any) -> Workbook:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(io.BytesIO(response.data))


def data_rows(book: Workbook) -> list[dict[str, Any]]:
    sheet = book["Incident Data"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(IR_HEADERS, row, strict=True)) for row in rows[1:]]


def test_item4_first_sheet_has_the_42_incident_recorder_headers_in_order(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    gbv_case(caseworker)
    sign_in(client, supervisor)
    book = workbook_of(download(client))
    assert book.sheetnames[0] == "Incident Data"
    assert "Menu Data" in book.sheetnames and "About" in book.sheetnames
    header = [cell.value for cell in book["Incident Data"][1]]
    assert len(IR_HEADERS) == 42
    assert header == IR_HEADERS
    menu = [cell.value for cell in book["Menu Data"][1]]
    assert menu == [
        "CASEWORKER CODE",
        "ETHNICITY",
        "INCIDENT LOCATION",
        "INCIDENT COUNTY",
        "INCIDENT DISTRICT",
        "INCIDENT CAMP",
    ]


@pytest.mark.parametrize(
    ("language", "first", "last"),
    [
        ("fr", "ID DE L'INCIDENT", "CODE DE L'ORGANISATION DÉCLARANTE"),
        ("ar", "رقم الحادثة", "رمز الجهة المبلغة"),
    ],
)
def test_item4_headers_in_french_and_arabic_keep_the_columns(
    client: FlaskClient,
    supervisor: Person,
    caseworker: Person,
    language: str,
    first: str,
    last: str,
) -> None:
    gbv_case(caseworker)
    sign_in(client, supervisor)
    sheet = workbook_of(download(client, language))["Incident Data"]
    header = [cell.value for cell in sheet[1]]
    assert len(header) == 42
    assert header[0] == first and header[-1] == last
    assert len(set(header)) == 42
    assert sheet.cell(row=2, column=7).value == "F"  # values keep the IR vocabulary


def test_item4_values_use_the_incident_recorder_vocabulary(
    client: FlaskClient, supervisor: Person, caseworker: Person, org: Organisation
) -> None:
    province = the_area()  # Lomara, where the pathway is published
    district = Area(code="AR-LOM-K", name="Kesa", level=AreaLevel.DISTRICT, parent=province)
    camp = Area(code="AR-LOM-K-C", name="Kesa North camp", level=AreaLevel.SITE, parent=district)
    db.session.add_all([district, camp])
    db.session.commit()
    case = gbv_case(
        caseworker,
        age=16,
        area=camp,
        previously_reported=PreviouslyReported.GBVIMS_ORG,
        hours_ago=24 * 3,
    )
    service = make_service(org, Sector.HEALTH)
    publish_pathway(make_person(Role.GBV_COORDINATOR, org).user, [service])
    engine.create_referral(
        case,
        request(service),
        consent=referral_consent(case, caseworker.user, service),
        actor=caseworker.user,
    )
    db.session.commit()
    sign_in(client, supervisor)
    book = workbook_of(download(client))
    (row,) = data_rows(book)
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert incident is not None
    assert row["INCIDENT ID"] == incident.public_id
    assert row["SEX"] == "F"
    assert row["GBV TYPE"] == "Rape"
    assert row["PREVIOUSLY REPORTED THIS INCIDENT?"] == "Yes-GBVIMS Org / Agency"
    assert row["ALLEGED PERPETRATOR SEX"] == "M"
    assert row["ALLEGED PERPETRATOR - SURVIVOR RELATIONSHIP"] == "No relation"
    assert row["No. ALLEGED PRIMARY PERPETRATOR(S)"] == 1
    assert row["MONEY, GOODS, BENEFITS AND / OR SERVICES EXCHANGED ?"] == "No"
    assert row["INCIDENT TIME OF DAY"] == "Evening / Night (sunset to sunrise)"
    assert row["INCIDENT LOCATION"] == "Road"
    assert (row["INCIDENT COUNTY"], row["INCIDENT DISTRICT"], row["INCIDENT CAMP / TOWN"]) == (
        "Lomara",
        "Kesa",
        "Kesa North camp",
    )
    assert row["HEALTH / MEDICAL SERVICES"] == "Referred"
    assert row["PSYCHOSOCIAL SERVICES"] is None
    assert row["CONSENT GIVEN"] == "Yes"
    assert row["REPORTING AGENCY CODE"] == org.acronym
    # dates are real dates shown dd-Mon-YYYY
    interview = book["Incident Data"].cell(row=2, column=4)
    assert isinstance(interview.value, datetime | date)
    assert interview.number_format == "dd-mmm-yyyy"
    assert interview.value.strftime("%Y-%m-%d") == clock.utcnow().date().isoformat()
    # the Menu Data sheet offers the country lists and the areas, never records
    menu = list(book["Menu Data"].iter_rows(values_only=True))
    locations = [r[2] for r in menu[1:] if r[2]]
    assert locations == [item.label for item in lists.items(CountryList.LOCATION_TYPE)]
    assert menu[1][3:6] == ("Lomara", "Kesa", "Kesa North camp")


def test_item4_withheld_columns_stay_in_place_empty_and_about_says_why(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    made = [gbv_case(caseworker, name="Amina Secretname") for _ in range(3)]
    sign_in(client, supervisor)
    book = workbook_of(download(client))
    for row in data_rows(book):
        for header in WITHHELD:
            assert row[header] is None
    everything = "\n".join(
        str(value)
        for sheet in book.worksheets
        for line in sheet.iter_rows(values_only=True)
        for value in line
        if value is not None
    )
    for case in made:
        assert case.survivor_code not in everything
        assert case.public_id not in everything
    assert "Amina Secretname" not in everything
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r and r[0]}
    for header in WITHHELD:
        assert about.get(header), header


def test_item4_incident_ids_are_stable_across_exports(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    gbv_case(caseworker)
    sign_in(client, supervisor)
    first = [row["INCIDENT ID"] for row in data_rows(workbook_of(download(client)))]
    gbv_case(caseworker)
    second = [row["INCIDENT ID"] for row in data_rows(workbook_of(download(client)))]
    assert len(first) == 1 and len(second) == 2
    assert first[0] in second and len(set(second)) == 2


def test_item4_only_own_consenting_incidents_leave(
    client: FlaskClient, supervisor: Person, caseworker: Person, other_org: Organisation
) -> None:
    mine = gbv_case(caseworker)
    gbv_case(caseworker, consent=False)
    gbv_case(caseworker, answers={"penetration": False})  # non-GBV
    gbv_case(make_person(Role.CASEWORKER, other_org))
    sign_in(client, supervisor)
    rows = data_rows(workbook_of(download(client)))
    incident = db.session.scalar(select(Incident).where(Incident.case_id == mine.id))
    assert incident is not None
    assert [row["INCIDENT ID"] for row in rows] == [incident.public_id]


@pytest.mark.parametrize(
    "role", [Role.CASEWORKER, Role.GBV_COORDINATOR, Role.ADMIN, Role.SERVICE_FOCAL_POINT]
)
def test_item4_only_supervisors_export(
    client: FlaskClient, org: Organisation, caseworker: Person, role: Role
) -> None:
    gbv_case(caseworker)
    sign_in(client, make_person(role, org, email=f"{role.value}@x.example.org"))
    today = clock.utcnow().date()
    html = client.get("/auth/account").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = client.post(
        URL,
        data={
            "start": today.isoformat(),
            "end": today.isoformat(),
            "granularity": "month",
            "language": "en",
            "csrf_token": csrf_from(html),
        },
    )
    assert response.status_code == 403


def test_item4_export_is_audited_r25(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    gbv_case(caseworker)
    gbv_case(caseworker)
    sign_in(client, supervisor)
    workbook_of(download(client, "fr"))
    db.session.expire_all()
    (event,) = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "report.exported", AuditEvent.obj_id == "incident_recorder"
        )
    ).all()
    assert event.actor_id == supervisor.user.id
    assert event.detail["rows"] == 2
    assert event.detail["language"] == "fr"
    assert event.detail["scope"] == "own_organisation"


def test_item4_bad_language_is_a_400(
    client: FlaskClient, supervisor: Person, caseworker: Person
) -> None:
    sign_in(client, supervisor)
    assert download(client, "xx").status_code == 400
