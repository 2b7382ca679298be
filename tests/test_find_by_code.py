"""Field readiness, search by code: the survivor code, referral reference and allegation
reference people say aloud find the record in the case list, the referral queue, the
allegation list and the audit log, and the "go to code" box opens it, only for users who
may open it: for anyone else it answers exactly as for a code that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.audit.models import AuditEvent
from referral.cases.models import Case
from referral.db import Organisation, OrganisationType
from referral.db.base import normalise_code
from referral.directory.models import Service
from referral.extensions import db
from referral.psea.models import Allegation
from referral.referrals import services as engine
from referral.referrals.models import Referral
from referral.security.policy import Role
from tests.conftest import sign_in
from tests.factories import (
    Person,
    incident,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)
from tests.factories import record_allegation as record

NOT_FOUND = "Nothing you can open has the code"


@dataclass
class World:
    worker: Person
    colleague: Person  # same organisation, neither owner nor assigned
    receiver: Person
    other_receiver: Person  # a service focal point of an organisation not referred to
    case: Case
    other_case: Case
    referral: Referral
    allegation: Allegation
    focal: Person  # the PSEA focal point who recorded the allegation
    other_focal: Person
    auditor: Person
    coordinator: Person  # GBV coordinator: no record has a code for them


@pytest.fixture
def world(org: Organisation) -> World:
    clinic_org = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    elsewhere = make_organisation("ELSE", OrganisationType.NATIONAL_NGO)
    worker = make_person(Role.CASEWORKER, org)
    health: Service = make_service(clinic_org)
    publish_pathway(worker.user, [health])
    case = open_case(worker.user)
    incident(case, worker.user, hours_ago=200, penetration=True)
    consent = referral_consent(case, worker.user, health)
    referral = engine.create_referral(case, request(health), consent=consent, actor=worker.user)
    db.session.commit()
    focal = make_person(Role.PSEA_FOCAL_POINT, org)
    return World(
        worker=worker,
        colleague=make_person(Role.CASEWORKER, org, email="colleague@example.org"),
        receiver=make_person(Role.SERVICE_FOCAL_POINT, clinic_org),
        other_receiver=make_person(Role.SERVICE_FOCAL_POINT, elsewhere),
        case=case,
        other_case=open_case(worker.user),
        referral=referral,
        allegation=record(focal),
        focal=focal,
        other_focal=make_person(Role.PSEA_FOCAL_POINT, elsewhere),
        auditor=make_person(Role.AUDITOR, org),
        coordinator=make_person(Role.GBV_COORDINATOR, org),
    )


def _as(app: Flask, person: Person) -> FlaskClient:
    client = app.test_client()
    sign_in(client, person)
    return client


def test_codes_are_read_as_people_type_them() -> None:
    """Field readiness, search by code: case, spaces, typographic dashes and the
    look-alike letters the codes never use (O, I, L) do not matter."""
    assert normalise_code(" gbv 26\u20137kq3m ") == "GBV-26-7KQ3M"
    assert normalise_code("GBV267KQ3M") == "GBV-26-7KQ3M"
    assert normalise_code("ref-26-o1l2x") == "REF-26-0112X"
    assert normalise_code("SEA-26-ABCDE") == "SEA-26-ABCDE"
    assert normalise_code("x" * 100) == ""
    assert normalise_code("   ") == ""


def test_case_list_finds_a_case_by_survivor_code_or_referral_reference(
    app: Flask, world: World
) -> None:
    """Field readiness, search by code, in the case list (own cases only)."""
    worker = _as(app, world.worker)
    case_link = f'href="/cases/{world.case.public_id}"'
    other_link = f'href="/cases/{world.other_case.public_id}"'
    by_code = worker.get(f"/cases/?code={world.case.survivor_code.lower()}").get_data(True)
    assert case_link in by_code and other_link not in by_code
    by_reference = worker.get(f"/cases/?code={world.referral.reference}").get_data(True)
    assert case_link in by_reference and other_link not in by_reference
    nothing = worker.get("/cases/?code=GBV-26-ZZZZZ").get_data(as_text=True)
    assert "No case matches these filters." in nothing

    colleague = _as(app, world.colleague)  # not the owner, not assigned
    page = colleague.get(f"/cases/?code={world.case.survivor_code}").get_data(as_text=True)
    assert case_link not in page and "No case matches these filters." in page


def test_referral_queue_finds_by_reference_or_survivor_code(app: Flask, world: World) -> None:
    """Field readiness, search by code, in the receiving organisation's queue."""
    link = f'href="/referrals/{world.referral.public_id}"'
    receiver = _as(app, world.receiver)
    for code in (world.referral.reference, world.case.survivor_code):
        page = receiver.get(f"/referrals/?code={code}").get_data(as_text=True)
        assert link in page, code
    assert link not in receiver.get("/referrals/?code=REF-26-ZZZZZ").get_data(as_text=True)
    other = _as(app, world.other_receiver)
    page = other.get(f"/referrals/?code={world.referral.reference}").get_data(as_text=True)
    assert link not in page and "No referral to your organisation has the code" in page


def test_allegation_list_finds_by_reference(app: Flask, world: World) -> None:
    """Field readiness, search by code, in the allegation list (visible ones only)."""
    other_allegation = record(world.focal)
    link = f'href="/allegations/{world.allegation.public_id}"'
    focal = _as(app, world.focal)
    page = focal.get(f"/allegations/?code={world.allegation.reference}").get_data(True)
    assert link in page and f'href="/allegations/{other_allegation.public_id}"' not in page
    outsider = _as(app, world.other_focal)
    page = outsider.get(f"/allegations/?code={world.allegation.reference}").get_data(True)
    assert link not in page and "No allegation matches these filters." in page


def test_auditor_finds_every_event_of_a_case_by_survivor_code(app: Flask, world: World) -> None:
    """Field readiness, search by code, in the audit log: the case's own events, its
    incident's, consent's and referral's, and none of another case."""
    auditor = _as(app, world.auditor)
    page = auditor.get(f"/audit/?code={world.case.survivor_code}").get_data(as_text=True)
    events = db.session.scalars(db.select(AuditEvent)).all()
    case_events = {
        e.id
        for e in events
        if e.obj_id == world.case.public_id
        or e.obj_id == world.referral.public_id
        or e.obj_id == world.case.incidents[0].public_id
        or (e.obj_type == "consent" and e.action.startswith("consent."))
    }
    shown = {e.id for e in events if f"<td>{e.id}</td>" in page}
    assert case_events and shown == case_events
    actions = {e.action for e in events if e.id in shown}
    assert {"case.opened", "consent.recorded", "referral.created"} <= actions
    assert any(e.obj_type == "referral" for e in events if e.id in shown)
    other = {e.id for e in events if e.obj_id == world.other_case.public_id}
    assert other and not other & shown

    by_reference = auditor.get(f"/audit/?code={world.referral.reference}").get_data(True)
    assert f"<code>{world.referral.public_id}</code>" in by_reference
    assert f"<code>{world.case.public_id}</code>" not in by_reference
    unknown = auditor.get("/audit/?code=GBV-26-ZZZZZ").get_data(as_text=True)
    assert "No events match these filters." in unknown


def test_go_to_code_opens_only_what_the_user_may_open(app: Flask, world: World) -> None:
    """Field readiness, search by code: the "go to code" box of each role; a record the
    user may not open gets the very answer a code that does not exist gets."""
    expected = [
        (world.worker, world.case.survivor_code, f"/cases/{world.case.public_id}"),
        (world.worker, world.referral.reference, f"/cases/{world.case.public_id}"),
        (world.receiver, world.referral.reference, f"/referrals/{world.referral.public_id}"),
        (world.receiver, world.case.survivor_code, f"/referrals/{world.referral.public_id}"),
        (world.focal, world.allegation.reference, f"/allegations/{world.allegation.public_id}"),
        (world.auditor, world.case.survivor_code, f"/audit/?code={world.case.survivor_code}"),
    ]
    for person, code, location in expected:
        response = _as(app, person).get(f"/go?code={code.lower()}")
        assert response.status_code == 302, (person.email, code)
        assert response.headers["Location"] == location

    def answer(client: FlaskClient, code: str) -> tuple[int, str]:
        response = client.get(f"/go?code={code}")
        html = response.get_data(as_text=True)
        return response.status_code, html[html.index("<h1>") : html.index("</main>")]

    hidden = [
        (world.colleague, world.case.survivor_code),
        (world.other_receiver, world.referral.reference),
        (world.other_focal, world.allegation.reference),
        (world.coordinator, world.case.survivor_code),
        (world.worker, world.allegation.reference),
    ]
    for person, code in hidden:
        client = _as(app, person)
        status, html = answer(client, code)
        unknown_status, unknown_html = answer(client, "GBV-26-ZZZZZ")
        assert status == unknown_status == 404, (person.email, code)
        assert NOT_FOUND in html
        assert html.replace(code, "X") == unknown_html.replace("GBV-26-ZZZZZ", "X")


def test_go_to_code_box_shows_to_roles_that_find_records_by_code(app: Flask, world: World) -> None:
    for person in (world.worker, world.receiver, world.focal, world.auditor):
        assert 'id="go-code"' in _as(app, person).get("/").get_data(as_text=True)
    assert 'id="go-code"' not in _as(app, world.coordinator).get("/").get_data(as_text=True)
