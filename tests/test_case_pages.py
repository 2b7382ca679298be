"""Case and referral pages over HTTP: the workflow, access per role and record, the
canary in the raw database, bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from referral import clock
from referral.audit.models import AuditEvent
from referral.cases import services as cases
from referral.cases.models import Case, CaseStage, ClosureReason
from referral.db import Organisation
from referral.directory.models import Area, Sector, Service
from referral.extensions import db
from referral.referrals.models import Consent, Referral, ReferralState
from referral.security.policy import Role
from tests.conftest import form_post, fresh, sign_in
from tests.factories import (
    Person,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)

CANARY_NAME = "Canarina Zebedee-Quux"
FUTURE_DAY = "2026-03-09"  # the frozen clock stands at 2026-03-02
CANARY_NARRATIVE = "NARRATIVE-CANARY-7f3a walked to the river at dusk"


@pytest.fixture
def health(clinic: Organisation, caseworker: Person) -> Service:
    service = make_service(clinic, Sector.HEALTH)
    publish_pathway(caseworker.user, [service])
    return service


def _intake(where: Area, /, **overrides: Any) -> dict[str, Any]:
    data = {
        "mandatory_reporting_explained": "y",
        "age": "24",
        "age_group": "",
        "sex": "female",
        "area": where.public_id,
        "risk_level": "high",
        "displacement_status": "idp",
        "name": CANARY_NAME,
        "narrative": CANARY_NARRATIVE,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _count(model: Any) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_web_workflow_intake_to_referral_acceptance_and_closure(
    app: Flask,
    caseworker: Person,
    supervisor: Person,
    receiver: Person,
    health: Service,
) -> None:
    """R1, R6, R7, R4, R10, R11, R13, R9 through the pages."""
    area = health.areas[0]
    client = app.test_client()
    sign_in(client, caseworker)
    response = form_post(client, "/cases/new", _intake(area))
    assert response.status_code == 302, response.get_data(as_text=True)
    case = db.session.scalar(sa.select(Case))
    assert case is not None
    case_url = f"/cases/{case.public_id}"
    page = client.get(case_url).get_data(as_text=True)
    assert case.survivor_code in page and CANARY_NAME not in page
    assert client.get(case_url).headers["Cache-Control"] == "no-store"

    response = form_post(
        client,
        f"{case_url}/consent",
        {
            "kind": "referral",
            "granted": "yes",
            "service": health.public_id,
            "shared_fields": "name",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    consent = db.session.scalar(sa.select(Consent))
    assert consent is not None

    incident = {
        "penetration": "yes",
        "unwanted_sexual_contact": "no",
        "physical_assault": "yes",
        "forced_marriage": "no",
        "denial_of_resources": "no",
        "psychological_abuse": "no",
        "incident_date": (clock.utcnow() - timedelta(days=1)).date().isoformat(),
        "incident_time": "21:30",
        "time_of_day": "evening_night",
        "location_type": "road",
        "reported_on": clock.utcnow().date().isoformat(),
        "perpetrator_count": "1",
        "perpetrator_sex": "male",
        "perpetrator_age_group": "adult",
        "perpetrator_relationship": "stranger",
        "previously_reported": "no",
    }
    response = form_post(client, f"{case_url}/incident", incident)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(case_url).get_data(as_text=True)
    assert "Rape" in page and "Clinical windows" in page

    response = form_post(
        client,
        f"{case_url}/refer",
        {
            "service": health.public_id,
            "priority": "emergency",  # R8: the clinical window is open
            "needs": "health",
            "consent": consent.public_id,
            "shared_fields": "name",
            "note": "Please see her today",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    referral = db.session.scalar(sa.select(Referral))
    assert referral is not None and referral.time_critical  # R8: window open
    assert referral.state is ReferralState.SENT

    other = app.test_client()
    sign_in(other, receiver)
    queue = other.get("/referrals/").get_data(as_text=True)
    assert referral.reference in queue and CANARY_NAME not in queue
    page = other.get(f"/referrals/{referral.public_id}").get_data(as_text=True)
    assert CANARY_NAME in page and "Please see her today" in page
    assert CANARY_NARRATIVE not in page and "Viewing this page is recorded" in page
    assert other.get(case_url).status_code == 403  # receivers never open cases
    response = form_post(
        other,
        f"/referrals/{referral.public_id}/act",
        {"action": "accept"},
        page=f"/referrals/{referral.public_id}",
    )
    assert response.status_code == 302
    response = form_post(
        other,
        f"/referrals/{referral.public_id}/act",
        {"action": "complete"},
        page=f"/referrals/{referral.public_id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state is ReferralState.COMPLETED  # type: ignore[union-attr]

    response = form_post(
        client,
        f"{case_url}/closure",
        {"closure-reason": "needs_met", "closure-note": "", "closure-confirm": "y"},
        page=case_url,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    boss = app.test_client()
    sign_in(boss, supervisor)
    response = form_post(
        boss, f"{case_url}/closure/decision", {"decision": "approve", "confirm": "y"}, page=case_url
    )
    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(Case, case.id)
    assert closed is not None and closed.stage is CaseStage.CLOSED


def test_r6_intake_without_confirmation_keeps_what_was_typed(
    app: Flask, caseworker: Person, health: Service
) -> None:
    client = app.test_client()
    sign_in(client, caseworker)
    response = form_post(
        client, "/cases/new", _intake(health.areas[0], mandatory_reporting_explained=None)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "mandatory-reporting" in html and CANARY_NAME in html  # nothing typed is lost
    assert _count(Case) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"age": "130"},
        {"age": "-3"},
        {"age": "abc"},
        {"age": "", "age_group": ""},
        {"sex": "alien"},
        {"area": "NOTANAREA"},
        {"risk_level": "extreme"},
        {"name": "bad\x00byte"},
    ],
)
def test_intake_bad_input_is_refused_and_changes_nothing(
    app: Flask, caseworker: Person, health: Service, overrides: dict[str, str]
) -> None:
    client = app.test_client()
    sign_in(client, caseworker)
    response = form_post(client, "/cases/new", _intake(health.areas[0], **overrides))
    assert response.status_code == 400
    assert _count(Case) == 0


def _incident_form(**overrides: str) -> dict[str, str]:
    data = {
        "penetration": "no",
        "unwanted_sexual_contact": "no",
        "physical_assault": "yes",
        "forced_marriage": "no",
        "denial_of_resources": "no",
        "psychological_abuse": "no",
        "incident_date": clock.utcnow().date().isoformat(),
        "incident_time": "01:00",
        "time_of_day": "morning",
        "location_type": "home",
        "reported_on": clock.utcnow().date().isoformat(),
        "perpetrator_count": "1",
        "perpetrator_sex": "",
        "perpetrator_age_group": "adult",
        "perpetrator_relationship": "stranger",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "overrides",
    [
        {"incident_date": "2026-02-30"},
        {"incident_date": FUTURE_DAY},
        {"incident_time": "25:99"},
        {"reported_on": "2026-01-01"},
        {"perpetrator_count": "0"},
        {"penetration": "maybe"},
        {"perpetrator_relationship": "cousin"},
    ],
)
def test_incident_bad_input_is_refused_and_changes_nothing(
    app: Flask, caseworker: Person, health: Service, overrides: dict[str, str]
) -> None:
    """Impossible dates, an incident in the future, unknown answers: 400, nothing saved."""
    case = open_case(caseworker.user)
    client = app.test_client()
    sign_in(client, caseworker)
    response = form_post(client, f"/cases/{case.public_id}/incident", _incident_form(**overrides))
    assert response.status_code == 400, overrides
    db.session.expire_all()
    assert db.session.get(Case, case.id).incidents == []  # type: ignore[union-attr]


def test_refer_unknown_service_and_tampered_consent_refused(
    app: Flask, caseworker: Person, health: Service, clinic: Organisation
) -> None:
    case = open_case(caseworker.user)
    outsider_case = open_case(make_person(Role.CASEWORKER, make_organisation("ZZZ")).user)
    foreign = referral_consent(outsider_case, outsider_case.owner, health)
    unlisted = make_service(clinic, Sector.SHELTER, name="Unlisted")
    client = app.test_client()
    sign_in(client, caseworker)
    url = f"/cases/{case.public_id}/refer"
    base = {"priority": "routine", "needs": "health", "consent": ""}
    for data in (
        {**base, "service": "NOSUCHSERVICE"},
        {**base, "service": unlisted.public_id},
        {**base, "service": health.public_id, "consent": foreign.public_id},
        {**base, "service": health.public_id},  # no consent at all (R4)
        {**base, "service": health.public_id, "priority": "whenever"},
    ):
        response = form_post(client, url, data)
        assert response.status_code == 400, data
    assert _count(Referral) == 0


def test_someone_elses_public_id_is_404_and_changes_nothing(
    app: Flask, caseworker: Person, health: Service
) -> None:
    mine = open_case(caseworker.user)
    theirs = open_case(make_person(Role.CASEWORKER, make_organisation("OTH")).user)
    consent = referral_consent(theirs, theirs.owner, health)
    client = app.test_client()
    sign_in(client, caseworker)
    assert client.get(f"/cases/{theirs.public_id}").status_code == 404
    response = form_post(
        client,
        f"/cases/{mine.public_id}/consents/{consent.public_id}/withdraw",
        {"reason": "tamper"},
        page=f"/cases/{mine.public_id}",
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).withdrawn_at is None  # type: ignore[union-attr]


def test_access_per_role_and_record(
    app: Flask, org: Organisation, caseworker: Person, supervisor: Person, health: Service
) -> None:
    """Caseworker: own/assigned only; supervisor: own org; nobody from org B; admin,
    auditor, coordinators, PSEA roles and receivers cannot open cases."""
    colleague = make_person(Role.CASEWORKER, org, email="colleague@example.org")
    unassigned = open_case(colleague.user)
    url = f"/cases/{unassigned.public_id}"

    def status_for(person: Person) -> int:
        client = app.test_client()
        sign_in(client, person)
        return client.get(url).status_code

    assert status_for(caseworker) == 404
    assert status_for(colleague) == 200
    assert status_for(supervisor) == 200
    other_org = make_organisation("ORGB")
    assert status_for(make_person(Role.SUPERVISOR, other_org)) == 404
    assert status_for(make_person(Role.CASEWORKER, other_org)) == 404
    for role in (
        Role.ADMIN,
        Role.AUDITOR,
        Role.GBV_COORDINATOR,
        Role.PSEA_FOCAL_POINT,
        Role.PSEA_COORDINATOR,
        Role.VA_FOCAL_POINT,
        Role.SERVICE_FOCAL_POINT,
    ):
        assert status_for(make_person(role, org)) == 403, role
    client = app.test_client()
    sign_in(client, caseworker)
    assert unassigned.survivor_code not in client.get("/cases/").get_data(as_text=True)


def test_receiver_of_other_org_cannot_open_referral(
    app: Flask, caseworker: Person, health: Service, receiver: Person
) -> None:
    """R10/R11: only the receiving organisation's receivers see the referral."""
    from referral.cases import services as cases
    from tests.factories import request

    case = open_case(caseworker.user)
    consent = referral_consent(case, caseworker.user, health)
    with app.test_request_context():
        referral = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
    db.session.commit()
    stranger = make_person(Role.SERVICE_FOCAL_POINT, make_organisation("ELSE"))
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(f"/referrals/{referral.public_id}").status_code == 404
    assert referral.reference not in client.get("/referrals/").get_data(as_text=True)
    ok = app.test_client()
    sign_in(ok, receiver)
    assert ok.get(f"/referrals/{referral.public_id}").status_code == 200


def test_r2_reveal_of_sensitive_details_is_audited_with_field_names(
    app: Flask, caseworker: Person, health: Service
) -> None:
    case = open_case(caseworker.user, name=CANARY_NAME, narrative=CANARY_NARRATIVE)
    client = app.test_client()
    sign_in(client, caseworker)
    page = client.get(f"/cases/{case.public_id}/details").get_data(as_text=True)
    assert CANARY_NAME in page and "recorded" in page
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "case.viewed")
    ).all()
    assert events and events[-1].obj_id == case.public_id
    assert set(events[-1].fields_revealed) == {"name", "narrative"}


def test_canary_absent_from_raw_database(
    app: Flask, engine_name: str, caseworker: Person, health: Service, database_url: str
) -> None:
    """A name and narrative typed into the web form never reach the database in clear."""
    client = app.test_client()
    sign_in(client, caseworker)
    response = form_post(client, "/cases/new", _intake(health.areas[0]))
    assert response.status_code == 302
    assert _count(Case) == 1
    if engine_name == "sqlite":
        db.session.remove()
        db.engine.dispose()
        path = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
        assert raw, "database file is empty"
    else:
        tables = [t.name for t in db.metadata.sorted_tables]
        chunks = []
        with db.engine.connect() as connection:
            for table in tables:
                for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                    chunks.append(repr(tuple(row)).encode())
        raw = b"\n".join(chunks)
    for canary in (CANARY_NAME, "NARRATIVE-CANARY-7f3a"):
        assert canary.encode() not in raw
        assert canary.encode("utf-16-le") not in raw


def test_tampered_hidden_fields_are_refused_and_change_nothing(
    app: Flask, caseworker: Person, supervisor: Person, receiver: Person, health: Service
) -> None:
    from referral.cases import services as cases
    from referral.cases.models import ClosureReason
    from tests.factories import request

    case = open_case(caseworker.user)
    consent = referral_consent(case, caseworker.user, health)
    with app.test_request_context():
        referral = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
        cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=caseworker.user)
    db.session.commit()
    boss = app.test_client()
    sign_in(boss, supervisor)
    case_url = f"/cases/{case.public_id}"
    response = form_post(
        boss,
        f"{case_url}/closure/decision",
        {"decision": "obliterate", "confirm": "y"},
        page=case_url,
    )
    assert response.status_code == 400
    response = form_post(boss, f"{case_url}/stage", {"stage": "closed"}, page=case_url)
    assert response.status_code == 400
    clinic = app.test_client()
    sign_in(clinic, receiver)
    url = f"/referrals/{referral.public_id}"
    assert form_post(clinic, f"{url}/act", {"action": "complete"}, page=url).status_code == 409
    assert form_post(clinic, f"{url}/act", {"action": "explode"}, page=url).status_code == 400
    declined = {"action": "decline", "confirm": "y"}  # confirmed, but no reason
    assert form_post(clinic, f"{url}/act", declined, page=url).status_code == 400
    db.session.expire_all()
    assert db.session.get(Case, case.id).stage is CaseStage.CLOSURE_REQUESTED  # type: ignore[union-attr]
    assert db.session.get(Referral, referral.id).state is ReferralState.SENT  # type: ignore[union-attr]


def test_case_page_reads_of_the_caseworker_in_charge_only_what_it_shows(
    app: Flask, supervisor: Person, caseworker: Person
) -> None:
    """The supervisor's case page names the caseworker in charge; the statement that reads
    the case does not read that caseworker's password hash or second-factor secret."""
    from tests.test_query_counts import counting

    case = open_case(caseworker.user)
    db.session.commit()
    client = app.test_client()
    sign_in(client, supervisor)
    with counting() as statements:
        page = client.get(f"/cases/{case.public_id}")
    assert page.status_code == 200
    assert f"In charge now: {caseworker.user.full_name}." in page.get_data(as_text=True)
    case_statement = next(s for s in statements if "WHERE cases.public_id =" in s)
    assert "users_1.full_name" in case_statement
    assert "password_hash" not in case_statement and "totp_secret" not in case_statement


def test_r3_withdrawal_page_names_the_referrals_that_go_with_the_consent(
    app: Flask, caseworker: Person, clinic: Organisation
) -> None:
    """Withdrawing consent is a page of its own: the caseworker sees which pending
    referrals are withdrawn with it before ticking the box, and exactly those go."""
    health = make_service(clinic, Sector.HEALTH)
    shelter = make_service(clinic, Sector.PSYCHOSOCIAL)
    publish_pathway(caseworker.user, [health, shelter])
    case = open_case(caseworker.user)
    going_consent = referral_consent(case, caseworker.user, health)
    staying_consent = referral_consent(case, caseworker.user, shelter)
    with app.test_request_context():
        going = cases.refer(case, request(health), consent=going_consent, actor=caseworker.user)
        staying = cases.refer(
            case, request(shelter), consent=staying_consent, actor=caseworker.user
        )
    db.session.commit()
    client = app.test_client()
    sign_in(client, caseworker)
    page = f"/cases/{case.public_id}/consents/{going_consent.public_id}/withdraw"

    html = client.get(page).get_data(as_text=True)
    listed = html.split('id="withdrawn-with-it"')[1].split("</dd>")[0]
    assert going.reference in listed and staying.reference not in listed

    data = {"reason": "The survivor asked to stop", "confirm": "y"}
    assert form_post(client, page, data, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, going.id).state is ReferralState.WITHDRAWN  # type: ignore[union-attr]
    assert db.session.get(Referral, staying.id).state is ReferralState.SENT  # type: ignore[union-attr]

    again = client.get(page).get_data(as_text=True)
    assert "no longer in force" in again and 'name="confirm"' not in again


def test_case_page_links_to_withdrawals_instead_of_a_form_each(
    app: Flask, caseworker: Person, health: Service
) -> None:
    """A form per consent and per referral made the case page grow with them; each
    withdrawal has its page, reached from a link beside the consent or referral."""
    case = open_case(caseworker.user)
    consents = [referral_consent(case, caseworker.user, health) for _ in range(3)]
    with app.test_request_context():
        referral = cases.refer(case, request(health), consent=consents[0], actor=caseworker.user)
    db.session.commit()
    client = app.test_client()
    sign_in(client, caseworker)
    html = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert not re.search(r'action="[^"]*/(consents|referrals)/[^"]*/withdraw"', html)
    for consent in consents:
        assert f'href="/cases/{case.public_id}/consents/{consent.public_id}/withdraw"' in html
    assert f'href="/cases/{case.public_id}/referrals/{referral.public_id}/withdraw"' in html
    referral_page = client.get(f"/cases/{case.public_id}/referrals/{referral.public_id}/withdraw")
    assert referral_page.status_code == 200
    assert referral.reference in referral_page.get_data(as_text=True)


def links_without_forms(html: str, case_url: str, actions: tuple[str, ...]) -> None:
    """The case page links to each action's own page and carries none of their forms."""
    for action in actions:
        assert f'href="{case_url}/{action}"' in html, action
        assert f'action="{case_url}/{action}"' not in html, action


def test_rare_case_actions_have_pages_of_their_own(
    app: Flask, org: Organisation, caseworker: Person, supervisor: Person
) -> None:
    """Requesting closure, a legal hold and reassignment are reached from links on the
    case page and done on their own page, which says when the action cannot be taken."""
    colleague = make_person(Role.CASEWORKER, org, email="colleague@example.org")
    case = open_case(caseworker.user)
    db.session.commit()
    boss = app.test_client()
    sign_in(boss, supervisor)
    case_url = f"/cases/{case.public_id}"
    html = boss.get(case_url).get_data(as_text=True)
    links_without_forms(html, case_url, ("closure", "legal-hold", "reassign", "assign"))

    reassign = boss.get(f"{case_url}/reassign").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"', reassign)
    assert colleague.user.public_id in options
    assert caseworker.user.public_id not in options  # already in charge

    place = boss.get(f"{case_url}/legal-hold").get_data(as_text=True)
    assert 'name="hold-action" type="hidden" value="place"' in place
    assert 'name="hold-confirm"' not in place  # placing a hold can be undone
    data = {"hold-action": "place", "hold-reason": "Court order 4"}
    page = f"{case_url}/legal-hold"
    assert form_post(boss, page, data, page=page).status_code == 302
    release = boss.get(page).get_data(as_text=True)
    assert 'value="release"' in release and 'name="hold-confirm"' in release

    worker = app.test_client()
    sign_in(worker, caseworker)
    closure = f"{case_url}/closure"
    data = {"closure-reason": "needs_met", "closure-confirm": "y"}
    assert form_post(worker, closure, data, page=closure).status_code == 302
    again = worker.get(closure).get_data(as_text=True)
    assert "cannot be closed from this step" in again and 'name="closure-reason"' not in again


def test_action_plan_and_follow_up_notes_are_written_on_pages_of_their_own(
    app: Flask, caseworker: Person, supervisor: Person
) -> None:
    """The case page links to both forms; each page refuses bad input with its errors
    (400, nothing saved), saves good input, and offers no form once the case is closed."""
    case = open_case(caseworker.user)
    db.session.commit()
    worker = app.test_client()
    sign_in(worker, caseworker)
    case_url = f"/cases/{case.public_id}"
    html = worker.get(case_url).get_data(as_text=True)
    links_without_forms(html, case_url, ("actions", "follow-ups"))

    actions = f"{case_url}/actions"
    refused = form_post(worker, actions, {"action-need": "health", "action-goal": ""}, page=actions)
    assert refused.status_code == 400
    assert 'id="action-goal-error"' in refused.get_data(as_text=True)
    assert not fresh(case).action_items
    data = {"action-need": "health", "action-goal": "Clinic visit", "action-due_on": ""}
    added = form_post(worker, actions, data, page=actions)
    assert added.status_code == 302 and added.headers["Location"].endswith(f"{case_url}#plan")
    assert [item.goal for item in fresh(case).action_items] == ["Clinic visit"]

    notes = f"{case_url}/follow-ups"
    refused = form_post(worker, notes, {"followup-note": ""}, page=notes)
    assert refused.status_code == 400 and 'id="followup-note-error"' in refused.get_data(
        as_text=True
    )
    assert form_post(worker, notes, {"followup-note": "Called her."}, page=notes).status_code == 302
    assert [note.note for note in fresh(case).follow_ups] == ["Called her."]

    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=caseworker.user)
    db.session.commit()
    for page in (actions, notes):
        closed = worker.get(page).get_data(as_text=True)
        assert "nothing more can be changed" in closed and "<form" not in closed.split("<main")[1]


def test_supervisor_assigns_a_caseworker_on_a_page_of_its_own(
    app: Flask, org: Organisation, caseworker: Person, supervisor: Person
) -> None:
    colleague = make_person(Role.CASEWORKER, org, email="helper@example.org")
    case = open_case(caseworker.user)
    db.session.commit()
    boss = app.test_client()
    sign_in(boss, supervisor)
    page = f"/cases/{case.public_id}/assign"
    options = re.findall(r'<option[^>]*value="([^"]*)"', boss.get(page).get_data(as_text=True))
    assert colleague.user.public_id in options

    refused = form_post(boss, page, {"user": ""})
    assert refused.status_code == 400 and 'id="user-error"' in refused.get_data(as_text=True)
    assert form_post(boss, page, {"user": colleague.user.public_id}).status_code == 302
    assert colleague.user.id in fresh(case).assigned_user_ids()

    again = boss.get(page).get_data(as_text=True)
    assert colleague.user.public_id not in re.findall(r'<option[^>]*value="([^"]*)"', again)
