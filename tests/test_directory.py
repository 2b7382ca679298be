"""Areas, their CSV import, services and the service search."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.db import Organisation
from referral.directory import services
from referral.directory.models import AgeGroup, Area, AreaLevel, Sector, Service, ServiceStatus, Sex
from referral.extensions import db
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import account_csrf, csrf_from, form_post, sign_in
from tests.factories import Areas, Person, make_areas, make_organisation, make_person, make_service


@pytest.fixture(autouse=True)
def _in_request(app: Flask) -> Iterator[None]:
    """Service functions build translated messages, which need a request (locale)."""
    with app.test_request_context():
        yield


@pytest.fixture
def areas() -> Areas:
    return make_areas()


def names(rows: list[Service]) -> list[str]:
    return sorted(s.name for s in rows)


# --- area hierarchy search ---------------------------------------------------------------


def test_search_by_area_includes_services_of_parent_areas(areas: Areas, org: Organisation) -> None:
    """A service covering the province serves its districts and their sites."""
    make_service(org, Sector.HEALTH, "Province clinic", [areas.province])
    make_service(org, Sector.PSYCHOSOCIAL, "Kesa safe space", [areas.kesa])
    make_service(org, Sector.LEGAL_AID, "Dalo legal desk", [areas.dalo])
    make_service(org, Sector.SHELTER, "National hotline", [areas.country])

    def search(area: Area) -> list[str]:
        return names(services.search_services(services.ServiceFilter(area=area)).rows)

    assert search(areas.kesa) == ["Kesa safe space", "National hotline", "Province clinic"]
    assert search(areas.camp) == ["Kesa safe space", "National hotline", "Province clinic"]
    assert search(areas.dalo) == ["Dalo legal desk", "National hotline", "Province clinic"]
    assert search(areas.province) == ["National hotline", "Province clinic"]


def test_search_filters_sector_age_sex_status(areas: Areas, org: Organisation) -> None:
    make_service(org, Sector.HEALTH, "Women's clinic", [areas.kesa], sexes=[Sex.FEMALE])
    make_service(org, Sector.HEALTH, "Adult clinic", [areas.kesa], age_groups=[AgeGroup.ADULT])
    make_service(
        org, Sector.PSYCHOSOCIAL, "Closed space", [areas.kesa], status=ServiceStatus.SUSPENDED
    )

    def search(**kw: object) -> list[str]:
        return names(
            services.search_services(services.ServiceFilter(area=areas.kesa, **kw)).rows  # type: ignore[arg-type]
        )

    assert search(sector=Sector.HEALTH) == ["Adult clinic", "Women's clinic"]
    assert search(sex=Sex.MALE) == ["Adult clinic", "Closed space"]
    assert search(age_group=AgeGroup.ADOLESCENT) == ["Closed space", "Women's clinic"]
    assert search(status=ServiceStatus.SUSPENDED) == ["Closed space"]


def test_search_pages_by_keyset(areas: Areas, org: Organisation) -> None:
    for i in range(5):
        make_service(org, Sector.OTHER, f"Service {i}", [areas.kesa])
    first = services.search_services(services.ServiceFilter(), limit=2)
    assert names(first.rows) == ["Service 0", "Service 1"]
    assert first.next_cursor is not None
    second = services.search_services(services.ServiceFilter(), cursor=first.next_cursor, limit=2)
    assert names(second.rows) == ["Service 2", "Service 3"]
    third = services.search_services(services.ServiceFilter(), cursor=second.next_cursor, limit=2)
    assert names(third.rows) == ["Service 4"] and third.next_cursor is None


def test_every_role_can_browse_and_search(
    client: FlaskClient, areas: Areas, org: Organisation
) -> None:
    make_service(org, Sector.HEALTH, "Province clinic", [areas.province])
    caseworker = make_person(Role.CASEWORKER, org)
    sign_in(client, caseworker)
    response = client.get(f"/directory/?area={areas.camp.public_id}&sector=health")
    assert response.status_code == 200
    assert b"Province clinic" in response.data
    assert b"New service" not in response.data
    response = client.get("/directory/?sector=not-a-sector")
    assert response.status_code == 400


# --- areas ------------------------------------------------------------------------------


def test_area_level_must_be_below_parent(areas: Areas) -> None:
    with pytest.raises(RuleError) as error:
        services.create_area(
            services.AreaData("X", "X", AreaLevel.PROVINCE, areas.kesa), actor=None
        )
    assert error.value.field == "parent"
    with pytest.raises(RuleError):
        services.create_area(services.AreaData("Y", "Y", AreaLevel.DISTRICT, None), actor=None)


def test_area_csv_import_creates_the_hierarchy(coordinator: Person) -> None:
    content = (
        "code,name,level,parent_code\n"
        "AR-LOM-01,Kesa,district,AR-LOM\n"  # child before its parent: fine
        "AR,Republic of Ardenia,country,\n"
        "AR-LOM,Lomara,province,AR\n"
    )
    result = services.import_areas_csv(content, actor=coordinator.user)
    db.session.commit()
    assert result.ok and result.created == 3
    kesa = db.session.scalar(select(Area).where(Area.code == "AR-LOM-01"))
    assert kesa is not None and [a.code for a in services.area_chain(kesa)] == [
        "AR-LOM-01",
        "AR-LOM",
        "AR",
    ]


def test_area_csv_import_is_all_or_nothing_with_row_errors(coordinator: Person) -> None:
    content = (
        "code,name,level,parent_code\n"
        "AR,Republic of Ardenia,country,\n"
        "AR-LOM,Lomara,province,AR\n"
        "AR-LOM-01,,district,AR-LOM\n"  # line 4: no name
        "AR-LOM-02,Dalo,county,AR-LOM\n"  # line 5: unknown level
        "AR-LOM-03,Mavi,district,AR-XXX\n"  # line 6: unknown parent
        "AR-LOM,Lomara again,province,AR\n"  # line 7: repeated code
        "AR-P2,Other,province,AR-LOM\n"  # line 8: parent of the same or lower level
    )
    result = services.import_areas_csv(content, actor=coordinator.user)
    assert not result.ok
    assert [e.line for e in result.errors] == [4, 5, 6, 7, 8]
    assert "name" in result.errors[0].message
    assert "level" in result.errors[1].message
    assert "AR-XXX" in result.errors[2].message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Area)) == 0


def _import_areas(client: FlaskClient, content: bytes) -> Any:
    page = client.get("/directory/areas/import").get_data(as_text=True)
    return client.post(
        "/directory/areas/import",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(content), "areas.csv")},
        content_type="multipart/form-data",
    )


def test_area_csv_import_over_http_reports_errors(client: FlaskClient, coordinator: Person) -> None:
    sign_in(client, coordinator)
    bad = b"code,name,level,parent_code\nAR,Ardenia,country,\nAR-1,Lomara,province,NOPE\n"
    response = _import_areas(client, bad)
    assert response.status_code == 400
    assert "Line 3: unknown parent_code NOPE" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Area)) == 0
    response = _import_areas(client, b"code,name\nA,B\n")
    assert response.status_code == 400
    assert "Missing columns: level, parent_code" in response.get_data(as_text=True)


def test_item9_area_csv_with_an_oversized_field_is_a_400_with_a_message(
    client: FlaskClient, coordinator: Person
) -> None:
    """A field over the csv module's limit (128 KiB) was a 500; now the line is named."""
    sign_in(client, coordinator)
    huge = b"code,name,level,parent_code\nAR,Ardenia,country,\nAR-1," + b"x" * 200_000
    response = _import_areas(client, huge + b",province,AR\n")
    assert response.status_code == 400
    assert "Line 3: This line is not valid CSV" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Area)) == 0


# --- services ---------------------------------------------------------------------------


def test_coordinator_creates_and_suspends_a_service(
    client: FlaskClient, coordinator: Person, areas: Areas, org: Organisation
) -> None:
    sign_in(client, coordinator)
    data = {
        "organisation": org.public_id,
        "sector": "health",
        "name": "Kesa clinic",
        "areas": [areas.kesa.public_id],
        "age_groups": ["18-59", "60+"],
        "sexes": ["female"],
        "cost": "free",
        "status": "available",
        "focal_point_phone": "+236 70 00 00 01",
    }
    response = form_post(client, "/directory/services/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    service = db.session.scalar(select(Service).where(Service.name == "Kesa clinic"))
    assert service is not None
    assert service.accepted_age_groups == [AgeGroup.ADULT, AgeGroup.OLDER_ADULT]
    assert service.accepted_sexes == [Sex.FEMALE]

    url = f"/directory/services/{service.public_id}/edit"
    response = form_post(client, url, {**data, "status": "suspended"})
    assert response.status_code == 400  # a suspension needs its reason
    assert "Say why the service is suspended" in response.get_data(as_text=True)
    response = form_post(client, url, {**data, "status": "suspended", "status_note": "no staff"})
    assert response.status_code == 302
    db.session.expire_all()
    assert service.status is ServiceStatus.SUSPENDED and service.status_note == "no staff"


def test_service_form_keeps_what_was_typed_on_error(
    client: FlaskClient, coordinator: Person, areas: Areas, org: Organisation
) -> None:
    sign_in(client, coordinator)
    response = form_post(
        client,
        "/directory/services/new",
        {
            "organisation": org.public_id,
            "sector": "health",
            "name": "Typed name",
            "cost": "free",
            "status": "available",
            "sexes": ["female"],
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="Typed name"' in html and "Choose at least one area." in html


@pytest.mark.parametrize(
    "role",
    [r for r in Role if r is not Role.GBV_COORDINATOR],
)
def test_only_gbv_coordinators_edit_the_directory(
    client: FlaskClient, role: Role, areas: Areas, org: Organisation
) -> None:
    """Roles other than gbv_coordinator cannot edit services, areas or pathways."""
    service = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    person = make_person(role, make_organisation("OTH"))
    sign_in(client, person)
    for url in (
        "/directory/services/new",
        f"/directory/services/{service.public_id}/edit",
        "/directory/areas/new",
        "/directory/areas/import",
        f"/directory/areas/{areas.kesa.public_id}",
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={"csrf_token": account_csrf(client)}).status_code == 403
    new_version = f"/pathways/areas/{areas.kesa.public_id}/new"
    assert client.post(new_version, data={"csrf_token": account_csrf(client)}).status_code == 403


def test_search_loads_a_page_in_a_fixed_number_of_queries(areas: Areas, org: Organisation) -> None:
    """No query per row: services, their organisations and areas come in two queries."""
    from sqlalchemy import event

    for i in range(12):
        make_service(org, Sector.OTHER, f"Service {i:02d}", [areas.kesa, areas.dalo])
    db.session.expire_all()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = services.search_services(services.ServiceFilter(sector=Sector.OTHER), limit=10)
        shown = [(s.organisation.acronym, [a.name for a in s.areas]) for s in page.rows]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(shown) == 10 and shown[0] == ("HBI", ["Dalo", "Kesa"])
    assert len(statements) == 2, statements
