"""Field readiness: the R8 clinical-window alarm stops once care is arranged or the case
is closed, and a closed case shows its windows as closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from referral import clock
from referral.cases import services as cases
from referral.cases.models import Case, ClosureReason
from referral.clinical import WindowStatus, care_arranged
from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector, Service
from referral.extensions import db
from referral.home.inbox import inbox_for
from referral.referrals import services as engine
from referral.referrals.models import Priority, Referral, ReferralState
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

ALARM = "Clinical windows closing"


@pytest.fixture(autouse=True)
def _request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def people(org: Organisation) -> dict[str, Person]:
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    return {
        "caseworker": make_person(Role.CASEWORKER, org),
        "supervisor": make_person(Role.SUPERVISOR, org),
        "receiver": make_person(Role.SERVICE_FOCAL_POINT, clinic),
    }


@pytest.fixture
def health(people: dict[str, Person]) -> Service:
    service = make_service(people["receiver"].user.organisation, Sector.HEALTH)
    publish_pathway(people["caseworker"].user, [service])
    return service


def _alarmed(person: Person) -> list[str]:
    sections = {str(s.title): s.items for s in inbox_for(person.user)}
    return [item.title for item in sections[ALARM]]


def _case_with_referral(people: dict[str, Person], health: Service) -> tuple[Case, Referral]:
    worker = people["caseworker"].user
    case = open_case(worker)
    incident(case, worker, hours_ago=10, penetration=True)
    consent = referral_consent(case, worker, health)
    referral = cases.refer(
        case, request(health, priority=Priority.EMERGENCY), consent=consent, actor=worker
    )
    db.session.commit()
    return case, referral


def test_r8_care_arranged_is_a_health_referral_accepted_or_completed() -> None:
    assert care_arranged([("health", "accepted")])
    assert care_arranged([("legal", "sent"), ("health", "completed")])
    assert not care_arranged([("health", "sent"), ("health", "declined")])
    assert not care_arranged([("psychosocial", "accepted")])


@pytest.mark.parametrize("target", [ReferralState.ACCEPTED, ReferralState.COMPLETED])
def test_clinical_window_alarm_stops_when_the_health_referral_is_accepted_or_completed_r8(
    people: dict[str, Person], health: Service, target: ReferralState, client: Any
) -> None:
    case, referral = _case_with_referral(people, health)
    assert _alarmed(people["caseworker"]) == [case.survivor_code]
    assert engine.pathway_options(case)[0].urgent
    sign_in(client, people["caseworker"])
    assert 'status-urgent">Open' in client.get(f"/cases/{case.public_id}").get_data(as_text=True)

    receiver = people["receiver"].user
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver)
    if target is ReferralState.COMPLETED:
        engine.transition(referral.public_id, ReferralState.COMPLETED, actor=receiver)
    db.session.commit()

    assert _alarmed(people["caseworker"]) == []
    # a second health referral is no longer marked urgent: care is arranged
    assert not engine.pathway_options(case)[0].urgent
    latest = case.latest_incident
    assert latest is not None
    now = clock.utcnow()
    statuses = {
        w.status(now, case_open=True, care_arranged=True) for w in latest.clinical_windows()
    }
    assert statuses == {WindowStatus.CARE_ARRANGED}

    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert "Care arranged" in page
    assert 'status-urgent">Open' not in page


def test_clinical_window_alarm_goes_on_while_the_health_referral_is_only_sent_or_declined_r8(
    people: dict[str, Person], health: Service
) -> None:
    case, referral = _case_with_referral(people, health)
    engine.transition(
        referral.public_id, ReferralState.DECLINED, actor=people["receiver"].user, reason="Full"
    )
    db.session.commit()
    assert _alarmed(people["caseworker"]) == [case.survivor_code]


def test_closed_case_shows_clinical_windows_as_closed_and_raises_no_alarm_r8(
    people: dict[str, Person], health: Service, client: Any
) -> None:
    worker = people["caseworker"].user
    case = open_case(worker)
    incident(case, worker, hours_ago=10, penetration=True)
    assert _alarmed(people["caseworker"]) == [case.survivor_code]
    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=worker)
    db.session.commit()
    assert _alarmed(people["caseworker"]) == []
    cases.decide_closure(case, approve=True, actor=people["supervisor"].user)
    db.session.commit()
    assert _alarmed(people["caseworker"]) == []

    sign_in(client, people["supervisor"])
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert page.count("Closed with the case") == 2  # PEP and emergency contraception
    assert 'status-urgent">Open' not in page
