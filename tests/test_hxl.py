"""HXL: the service directory to CSV/XLSX with a hashtag row and back; areas from a
COD-style table of P-codes."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from referral.api import hxl
from referral.audit.models import AuditEvent
from referral.db import Organisation
from referral.directory.models import Area, AreaLevel, Sector, Service, ServiceStatus
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import Areas, Person, make_areas, make_organisation, make_person, make_service

COD = """admin0Name_en,admin0Pcode,admin1Name_en,admin1Pcode,admin2Name_en,admin2Pcode
#country+name+i_en,#country+code,#adm1+name+i_en,#adm1+code,#adm2+name+i_en,#adm2+code
Ardenia,AR,Lomara,AR01,Kesa,AR0101
Ardenia,AR,Lomara,AR01,Dalo,AR0102
Ardenia,AR,Tavi,AR02,Soro,AR0201
"""


def _rows(text: str) -> list[list[str]]:
    return hxl.read_table(text.encode("utf-8"), "table.csv")


def _directory(admin: Person) -> tuple[Organisation, Areas, Service]:
    organisation = make_organisation("CLIN")
    areas = make_areas()
    service = make_service(
        organisation, Sector.HEALTH, "=HYPERLINK(evil) clinic", [areas.kesa, areas.dalo]
    )
    service.focal_point_phone = "+236 70 11 22 33"
    db.session.commit()
    return organisation, areas, service


def test_export_has_a_4w_hashtag_row_and_one_row_per_area(admin: Person) -> None:
    _organisation, _areas, service = _directory(admin)
    data = hxl.export_directory("csv", actor=admin.user)
    db.session.commit()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    tags = rows[1]
    for tag in (
        "#org+name",
        "#sector+code",
        "#adm1+code",
        "#adm2+code",
        "#loc+code",
        "#status",
        "#contact+phone",
        "#activity+name",
        "#adm1+name",
        "#adm2+name",
    ):
        assert tag in tags, tag
    body = rows[2:]
    assert len(body) == 2  # Kesa and Dalo
    district = {row[tags.index("#adm2+code")] for row in body}
    assert district == {"AR-LOM-01", "AR-LOM-02"}
    assert {row[tags.index("#adm1+code")] for row in body} == {"AR-LOM"}
    assert body[0][tags.index("#activity+code")] == service.public_id
    # a spreadsheet would run these as formulas: written as text
    assert body[0][tags.index("#activity+name")].startswith("'=")
    assert body[0][tags.index("#contact+phone")].startswith("'+")
    exported = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "directory.exported")
    ).all()
    assert exported and exported[-1].detail["rows"] == 2


def test_the_exported_table_imports_back_unchanged_csv_and_xlsx(admin: Person) -> None:
    _directory(admin)
    for file_format in ("csv", "xlsx"):
        data = hxl.export_directory(file_format, actor=admin.user)
        rows = hxl.read_table(data, f"services.{file_format}")
        result = hxl.import_directory(rows, actor=admin.user)
        assert result.ok, result.errors
        assert (result.created, result.updated) == (0, 1)
        db.session.commit()
    service = db.session.scalar(select(Service))
    assert service is not None
    assert service.name == "=HYPERLINK(evil) clinic"
    assert service.focal_point_phone == "+236 70 11 22 33"
    assert sorted(a.code for a in service.areas) == ["AR-LOM-01", "AR-LOM-02"]


def test_xlsx_export_has_the_hashtag_row(admin: Person) -> None:
    _directory(admin)
    data = hxl.export_directory("xlsx", actor=admin.user)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].value == "#activity+code"


def test_import_creates_services_from_a_4w_table_in_any_column_order(admin: Person) -> None:
    make_organisation("LWHA")
    make_areas()
    table = """Where,Who,What,Sector,Status,Ages,Phone
#adm2 +code,#org +acronym,#activity+name,#sector+code,#status,#targeted+age,#contact+phone
AR-LOM-01,LWHA,Women's centre,psychosocial,limited,18-59;60+,+236 1
AR-LOM-02,LWHA,Women's centre,psychosocial,limited,18-59;60+,+236 1
AR-LOM,LWHA,Legal desk,legal_aid,,,
"""
    result = hxl.import_directory(_rows(table), actor=admin.user)
    assert result.ok, result.errors
    assert (result.created, result.updated) == (2, 0)
    db.session.commit()
    centre = db.session.scalar(select(Service).where(Service.name == "Women's centre"))
    assert centre is not None
    assert centre.status is ServiceStatus.LIMITED
    assert [g.value for g in centre.accepted_age_groups] == ["18-59", "60+"]
    assert sorted(a.code for a in centre.areas) == ["AR-LOM-01", "AR-LOM-02"]


def test_import_refuses_the_whole_file_on_any_bad_row(admin: Person) -> None:
    make_organisation("LWHA")
    make_areas()
    table = """#org+acronym,#activity+name,#sector+code,#adm2+code,#status
LWHA,Good clinic,health,AR-LOM-01,available
LWHA,Nowhere clinic,health,XX99,available
NOBODY,Ghost clinic,health,AR-LOM-01,available
LWHA,Odd clinic,astrology,AR-LOM-01,available
"""
    result = hxl.import_directory(_rows(table), actor=admin.user)
    assert not result.ok
    assert [e.line for e in result.errors] == [3]  # rows are checked, then services
    db.session.rollback()
    table = table.replace("LWHA,Nowhere clinic,health,XX99,available\n", "")
    result = hxl.import_directory(_rows(table), actor=admin.user)
    assert {e.line for e in result.errors} == {3, 4}
    db.session.rollback()
    assert db.session.scalar(select(Service)) is None
    assert not hxl.import_directory(_rows("name,sector\nx,health\n"), actor=admin.user).ok


def test_cod_table_creates_areas_with_p_codes_and_parents(admin: Person) -> None:
    result = hxl.import_cod_areas(_rows(COD), actor=admin.user)
    assert result.ok, result.errors
    assert (result.created, result.updated) == (6, 0)
    db.session.commit()
    by_code = {a.code: a for a in db.session.scalars(select(Area))}
    assert by_code["AR"].level is AreaLevel.COUNTRY
    assert (
        by_code["AR01"].level is AreaLevel.PROVINCE
        and by_code["AR01"].parent_id == by_code["AR"].id
    )
    assert by_code["AR0102"].level is AreaLevel.DISTRICT
    assert by_code["AR0102"].parent_id == by_code["AR01"].id
    assert by_code["AR0201"].name == "Soro"
    again = hxl.import_cod_areas(_rows(COD.replace("Soro", "Soro town")), actor=admin.user)
    assert (again.created, again.updated) == (0, 6)
    db.session.commit()
    assert db.session.scalar(select(Area.name).where(Area.code == "AR0201")) == "Soro town"


def test_cod_table_errors_name_their_line(admin: Person) -> None:
    clash = COD + "Ardenia,AR,Tavi,AR02,Kesa,AR0101\n"
    result = hxl.import_cod_areas(_rows(clash), actor=admin.user)
    assert [e.line for e in result.errors] == [6]
    assert not hxl.import_cod_areas(_rows("a,b\n#adm1+name,#x\nL,1\n"), actor=admin.user).ok
    assert not hxl.import_cod_areas(_rows("a,b\nno,tags\n"), actor=admin.user).ok


def test_the_pages_export_and_import(client: FlaskClient, admin: Person) -> None:
    organisation, _areas, _service = _directory(admin)
    coordinator = make_person(Role.GBV_COORDINATOR, organisation)
    sign_in(client, coordinator)
    response = form_post(
        client, "/directory/hxl/export", {"file_format": "csv"}, page="/directory/"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    exported = response.get_data()
    html = client.get("/directory/hxl/import").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(html)
    response = client.post(
        "/directory/hxl/import",
        data={"csrf_token": token, "file": (io.BytesIO(exported), "services.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        "/directory/hxl/areas",
        data={"csrf_token": token, "file": (io.BytesIO(b"not,a\ntable,at all\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "No HXL hashtag row" in response.get_data(as_text=True)
