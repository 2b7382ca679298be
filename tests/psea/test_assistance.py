"""R21: victim assistance through the ordinary referral engine, into existing GBV
case-management services; the VA focal point sees statuses, never case content."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral.assistance import services as assistance
from referral.assistance.models import AssistanceNeed, AssistanceRecord
from referral.cases.models import Case
from referral.db import User
from referral.directory.models import AgeGroup, Sector, Service, Sex
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import (
    Consent,
    ConsentKind,
    Need,
    Priority,
    Referral,
    ReferralState,
    SourceKind,
)
from referral.security.policy import Permission, Role, has_permission
from referral.workflow import RuleError
from tests.conftest import form_post, sign_in
from tests.factories import Network, Services, make_person, record_allegation, the_area
from tests.factories import open_case as open_gbv_case
from tests.psea.conftest import actions


@pytest.fixture
def in_request(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def open_record(va: User, **changes: Any) -> AssistanceRecord:
    values: dict[str, Any] = {
        "age_group": AgeGroup.ADULT,
        "sex": Sex.FEMALE,
        "area": the_area(),
        "needs": [AssistanceNeed.MEDICAL, AssistanceNeed.PSYCHOSOCIAL],
        "consents_to_assistance": True,
    }
    values.update(changes)
    found = assistance.open_record(assistance.AssistanceData(**values), actor=va)
    db.session.commit()
    return found


def refer(va: User, found: AssistanceRecord, service: Service, **changes: Any) -> Referral:
    values: dict[str, Any] = {
        "service": service,
        "priority": Priority.URGENT,
        "survivor_consents": True,
    }
    values.update(changes)
    referral = assistance.refer(found, assistance.AssistanceReferral(**values), actor=va)
    db.session.commit()
    return referral


@pytest.mark.usefixtures("in_request")
def test_r21_assistance_does_not_wait_for_the_allegation(
    network: Network, gbv_services: Services
) -> None:
    """The allegation is still waiting for routing: assistance goes ahead anyway."""
    allegation = record_allegation(network.ngo_focal, consents_to_assistance=True)
    found = open_record(network.va.user, allegation_public_id=allegation.public_id)
    referral = refer(network.va.user, found, gbv_services.case_management)
    assert allegation.state.value == "received"
    assert referral.state is ReferralState.SENT
    assert referral.source_kind is SourceKind.ASSISTANCE
    assert referral.source_public_id == found.public_id
    assert referral.receiving_organisation_id == gbv_services.provider.id
    assert referral.sector is Sector.GBV_CASE_MANAGEMENT
    assert set(referral.needs.split(",")) == {Need.HEALTH.value, Need.PSYCHOSOCIAL.value}
    assert referral.survivor_code == found.survivor_code
    assert re.fullmatch(r"VA-26-\w{5}", found.survivor_code)
    kinds = set(
        db.session.scalars(
            sa.select(Consent.kind).where(Consent.source_public_id == found.public_id)
        )
    )
    assert kinds == {ConsentKind.SERVICES, ConsentKind.REFERRAL}  # R3: separate records
    assert {"assistance.opened", "assistance.referred"} <= set(actions("assistance."))


@pytest.mark.usefixtures("in_request")
def test_r21_standalone_record_needs_no_perpetrator_or_allegation(
    network: Network, gbv_services: Services
) -> None:
    found = open_record(network.va.user)
    assert found.allegation_public_id is None
    assert refer(network.va.user, found, gbv_services.case_management).state is (ReferralState.SENT)
    columns = {c.name for c in AssistanceRecord.__table__.columns}
    assert not [c for c in columns if "name" in c or "perpetrator" in c or "narrative" in c]


@pytest.mark.usefixtures("in_request")
def test_r21_no_assistance_or_referral_without_consent(
    network: Network, gbv_services: Services
) -> None:
    with pytest.raises(RuleError):
        open_record(network.va.user, consents_to_assistance=False)
    db.session.rollback()
    found = open_record(network.va.user)
    with pytest.raises(RuleError) as error:
        refer(network.va.user, found, gbv_services.case_management, survivor_consents=False)
    assert error.value.field == "survivor_consents"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0


@pytest.mark.usefixtures("in_request")
def test_r21_only_gbv_case_management_services_of_the_pathway(
    network: Network, gbv_services: Services
) -> None:
    found = open_record(network.va.user)
    options = assistance.case_management_options(found)
    assert [o.service.id for o in options] == [gbv_services.case_management.id]
    with pytest.raises(RuleError):
        refer(network.va.user, found, gbv_services.health)


@pytest.mark.usefixtures("in_request")
def test_r21_child_survivor_needs_caregiver_consent_facts(
    network: Network, gbv_services: Services
) -> None:
    """R5 applies to assistance too: the engine's child-consent rules."""
    with pytest.raises(RuleError) as error:
        open_record(network.va.user, age_group=AgeGroup.ADOLESCENT)
    assert error.value.field == "caregiver_consented"
    db.session.rollback()
    child = engine.ChildConsent(
        caregiver_consented=False, child_assented=True, best_interest_note="Aunt not reachable."
    )
    found = open_record(network.va.user, age_group=AgeGroup.ADOLESCENT, child=child)
    referral = refer(network.va.user, found, gbv_services.case_management, child=child)
    assert referral.state is ReferralState.SENT


def test_r21_allegation_must_be_marked_for_assistance(
    client: FlaskClient, network: Network
) -> None:
    not_marked = record_allegation(network.ngo_focal, consents_to_assistance=False)
    marked = record_allegation(network.ngo_focal, consents_to_assistance=True)
    sign_in(client, network.va)
    assert client.get(f"/assistance/new?allegation={not_marked.public_id}").status_code == 404
    page = client.get(f"/assistance/new?allegation={marked.public_id}")
    assert page.status_code == 200
    assert marked.reference in page.get_data(as_text=True)


def test_r21_va_refers_through_pages_and_sees_status_never_case_content(
    app: Flask, network: Network, gbv_services: Services
) -> None:
    allegation = record_allegation(network.ngo_focal, consents_to_assistance=True)
    va = app.test_client()
    sign_in(va, network.va)
    html = va.get(f"/allegations/{allegation.public_id}").get_data(as_text=True)
    assert f"/assistance/new?allegation={allegation.public_id}" in html
    response = form_post(
        va,
        "/assistance/new",
        {
            "allegation": allegation.public_id,
            "consents_to_assistance": "y",
            "age_group": AgeGroup.ADULT.value,
            "sex": Sex.FEMALE.value,
            "area": the_area().public_id,
            "needs": [AssistanceNeed.MEDICAL.value, AssistanceNeed.SAFETY_PROTECTION.value],
        },
        page=f"/assistance/new?allegation={allegation.public_id}",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    record_url = response.headers["Location"]
    found = db.session.scalar(sa.select(AssistanceRecord))
    assert found is not None and found.allegation_public_id == allegation.public_id
    refused = form_post(
        va,
        f"{record_url}/refer",
        {"service": gbv_services.case_management.public_id, "priority": "urgent"},
        page=record_url,
    )
    assert refused.status_code == 400  # no referral consent ticked
    sent = form_post(
        va,
        f"{record_url}/refer",
        {
            "service": gbv_services.case_management.public_id,
            "priority": "urgent",
            "survivor_consents": "y",
        },
        page=record_url,
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    referral = db.session.scalar(sa.select(Referral))
    assert referral is not None
    assert "Sent, awaiting answer" in va.get(record_url).get_data(as_text=True)

    with app.test_request_context():
        receiver = db.session.get(User, gbv_services.receiver.user.id)
        assert receiver is not None
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver)
        db.session.commit()
    page = va.get(record_url).get_data(as_text=True)
    assert "Accepted" in page
    assert "/cases/" not in page
    assert not has_permission(network.va.user, Permission.HANDLE_CASES)
    listing = va.get("/assistance/").get_data(as_text=True)
    assert found.survivor_code in listing and "Accepted" in listing


def test_assistance_visibility(app: Flask, network: Network, gbv_services: Services) -> None:
    with app.test_request_context():
        found = open_record(network.va.user)
    other_va = make_person(Role.VA_FOCAL_POINT, network.agency, email="va2@example.org")
    client = app.test_client()
    sign_in(client, other_va)
    assert client.get(f"/assistance/{found.public_id}").status_code == 404
    assert found.survivor_code not in client.get("/assistance/").get_data(as_text=True)
    for role in (Role.CASEWORKER, Role.PSEA_FOCAL_POINT, Role.PSEA_COORDINATOR, Role.ADMIN):
        client = app.test_client()
        sign_in(client, make_person(role, network.un, email=f"{role.value}.x@example.org"))
        assert client.get("/assistance/").status_code == 403, role
        assert client.get(f"/assistance/{found.public_id}").status_code == 403, role


def test_r21_inbox_lists_consenting_survivors_without_a_record(
    app: Flask, network: Network, gbv_services: Services
) -> None:
    waiting = record_allegation(network.ngo_focal, consents_to_assistance=True)
    served = record_allegation(network.ngo_focal, consents_to_assistance=True)
    hidden = record_allegation(network.ngo_focal, consents_to_assistance=False)
    with app.test_request_context():
        open_record(network.va.user, allegation_public_id=served.public_id)
    client = app.test_client()
    sign_in(client, network.va)
    inbox = client.get("/").get_data(as_text=True)
    assert waiting.reference in inbox
    assert served.reference not in inbox
    assert hidden.reference not in inbox
    assert f"/assistance/new?allegation={waiting.public_id}" in inbox


def test_r21_receiving_organisation_opens_a_case_with_sea_context(
    app: Flask, network: Network, gbv_services: Services
) -> None:
    """On acceptance the receiving organisation opens the case; its context says SEA by aid
    or peacekeeping personnel (derived from the referral's source, never typed); the VA
    focal point sees the referral status and never the case."""
    with app.test_request_context():
        found = open_record(network.va.user)
        referral = refer(network.va.user, found, gbv_services.case_management)
        receiver = db.session.get(User, gbv_services.receiver.user.id)
        assert receiver is not None
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver)
        db.session.commit()
    caseworker = make_person(Role.CASEWORKER, gbv_services.provider)
    client = app.test_client()
    sign_in(client, caseworker)
    new_url = f"/cases/new?referral={referral.public_id}"
    assert new_url in client.get("/").get_data(as_text=True).replace("&amp;", "&")
    page = client.get(new_url).get_data(as_text=True)
    assert "SEA by aid or peacekeeping personnel" in page
    intake = {
        "mandatory_reporting_explained": "y",
        "age": "",
        "age_group": AgeGroup.ADULT.value,
        "sex": Sex.FEMALE.value,
        "area": the_area().public_id,
        "risk_level": "medium",
        "displacement_status": "idp",
    }
    response = form_post(client, new_url, intake)
    assert response.status_code == 302, response.get_data(as_text=True)
    case = db.session.scalar(sa.select(Case))
    assert case is not None
    assert case.sea_by_aid_personnel is True
    assert case.origin_referral_id == referral.id
    case_page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert "SEA by aid or peacekeeping personnel" in case_page
    assert client.get(new_url).status_code == 404  # one case per referral
    assert new_url not in client.get("/").get_data(as_text=True).replace("&amp;", "&")

    other = app.test_client()
    sign_in(other, make_person(Role.CASEWORKER, network.ngo, email="cw2@example.org"))
    assert other.get(new_url).status_code == 404

    va = app.test_client()
    sign_in(va, network.va)
    assert va.get(f"/cases/{case.public_id}").status_code == 403
    status_page = va.get(f"/assistance/{found.public_id}").get_data(as_text=True)
    assert "Accepted" in status_page and case.survivor_code not in status_page


def test_a_case_opened_without_referral_has_no_sea_context(
    app: Flask, network: Network, gbv_services: Services
) -> None:
    caseworker = make_person(Role.CASEWORKER, gbv_services.provider)
    with app.test_request_context():
        case = open_gbv_case(caseworker.user)
    assert case.sea_by_aid_personnel is False and case.origin_referral_id is None
