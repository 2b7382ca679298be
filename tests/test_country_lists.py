"""Country adaptation: the lists a country adapts (ethnicity, incident location types,
referred from, occupations) are kept by an administrator with stable codes; the GBVIMS
core lists stay fixed in code."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.admin import lists
from referral.admin.lists import CountryList, ListItem
from referral.audit.models import AuditEvent
from referral.cases.models import Incident, IncidentType
from referral.db import Organisation
from referral.extensions import db
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import form_post, sign_in
from tests.factories import Person, correct_incident, incident, make_person, open_case


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_item6_unadapted_list_offers_the_default_items_with_stable_codes(
    signed_in_admin: FlaskClient,
) -> None:
    codes = [item.code for item in lists.items(CountryList.REFERRED_FROM)]
    assert codes[:2] == ["health_medical", "psychosocial"]
    assert not lists.is_adapted(CountryList.REFERRED_FROM)
    html = signed_in_admin.get("/admin/lists/referred_from").get_data(as_text=True)
    assert "health_medical" in html and "Default items" not in html
    assert "Not adapted yet" in html


def test_item6_admin_adds_an_item_and_the_defaults_keep_their_codes(
    signed_in_admin: FlaskClient,
) -> None:
    response = form_post(
        signed_in_admin,
        "/admin/lists/location_type",
        {"code": "water_point", "label": "Water point"},
    )
    assert response.status_code == 302
    stored = db.session.scalars(
        select(ListItem).where(ListItem.list_name == CountryList.LOCATION_TYPE)
    ).all()
    codes = [row.code for row in stored]
    assert codes[0] == "home" and codes[-1] == "water_point"
    assert [e.detail["code"] for e in _events("admin.list_item_added")] == ["water_point"]


def test_item6_ethnicity_list_starts_empty_and_is_filled_by_the_admin(
    signed_in_admin: FlaskClient,
) -> None:
    assert lists.items(CountryList.ETHNICITY) == []
    for code, label in (("kesani", "Kesani"), ("dalo", "Dalo")):
        response = form_post(
            signed_in_admin, "/admin/lists/ethnicity", {"code": code, "label": label}
        )
        assert response.status_code == 302
    assert lists.choices(CountryList.ETHNICITY) == [("kesani", "Kesani"), ("dalo", "Dalo")]


def test_item6_rewording_keeps_the_code_and_deactivating_keeps_old_records(
    signed_in_admin: FlaskClient, admin: Person
) -> None:
    case = open_case(make_person(Role.CASEWORKER, admin.user.organisation).user)
    incident(case, case.owner)  # location type "road", a default item
    response = form_post(
        signed_in_admin,
        "/admin/lists/location_type/road",
        {"label": "Road or path"},  # "active" unticked: no longer offered
    )
    assert response.status_code == 302
    assert lists.labels(CountryList.LOCATION_TYPE)["road"] == "Road or path"
    assert "road" not in dict(lists.choices(CountryList.LOCATION_TYPE))
    # the incident keeps its code; saving it again keeps the deactivated item
    stored = db.session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert stored is not None and stored.location_type == "road"
    assert dict(lists.choices(CountryList.LOCATION_TYPE, keep="road"))["road"] == "Road or path"
    correct_incident(stored, case.owner)
    # a new incident cannot name it any more
    other = open_case(case.owner)
    with pytest.raises(RuleError) as refused:
        incident(other, case.owner)
    assert refused.value.field == "location_type"
    changed = _events("admin.list_item_changed")
    assert changed[-1].detail == {"code": "road", "changed": ["active", "label"], "active": False}
    # several lists read at once (the case page) give what each gives alone
    kinds = (CountryList.LOCATION_TYPE, CountryList.OCCUPATION, CountryList.ETHNICITY)
    assert lists.labels_of(*kinds) == {kind: lists.labels(kind) for kind in kinds}


def test_item6_codes_never_change_and_bad_input_is_a_field_error(
    signed_in_admin: FlaskClient,
) -> None:
    for data, message in (
        ({"code": "home", "label": "Family home"}, "already used"),
        ({"code": "Home Base", "label": "Home base"}, "Lowercase letters"),
        ({"code": "hut", "label": "home"}, "already has this label"),
        ({"code": "hut", "label": ""}, "This field is required"),
        ({"code": "hut", "label": "x" * 201}, "200"),
    ):
        response = form_post(signed_in_admin, "/admin/lists/location_type", data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert signed_in_admin.get("/admin/lists/gbv_type").status_code == 404
    assert signed_in_admin.get("/admin/lists/location_type/nowhere").status_code == 404


def test_item6_incident_types_are_a_fixed_gbvims_list_not_an_adapted_one() -> None:
    assert "incident_type" not in CountryList.__members__.values()
    assert [t.value for t in IncidentType][:6] == [
        "rape",
        "sexual_assault",
        "physical_assault",
        "forced_marriage",
        "denial_of_resources",
        "psychological_abuse",
    ]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CASEWORKER, Role.GBV_COORDINATOR])
def test_item6_only_an_administrator_edits_the_lists(
    client: FlaskClient, org: Organisation, role: Role
) -> None:
    sign_in(client, make_person(role, org))
    assert client.get("/admin/lists").status_code == 403
    assert client.get("/admin/lists/ethnicity").status_code == 403


def test_item6_lists_page_names_every_list(signed_in_admin: FlaskClient) -> None:
    html = signed_in_admin.get("/admin/lists").get_data(as_text=True)
    for name in ("ethnicity", "location_type", "referred_from", "occupation"):
        assert f"/admin/lists/{name}" in html
    assert "fixed" in html


def test_item6_incident_form_offers_the_adapted_location_types(
    client: FlaskClient, org: Organisation
) -> None:
    worker = make_person(Role.CASEWORKER, org)
    case = open_case(worker.user)
    lists.add_item(CountryList.LOCATION_TYPE, "water_point", "Water point", actor=worker.user)
    db.session.commit()
    sign_in(client, worker)
    html = client.get(f"/cases/{case.public_id}/incident").get_data(as_text=True)
    assert 'value="water_point"' in html and "Water point" in html
