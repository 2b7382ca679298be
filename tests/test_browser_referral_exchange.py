"""Field readiness, receiver and sender talk, in a real browser: the receiver sees the
referring organisation and the caseworker's work contact, records the outcome with a short
encrypted feedback note, and both sides read the referral's history within their rights."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.cases import services as cases
from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.referrals.models import Priority, Referral
from referral.security.policy import Role
from tests.conftest import browser_sign_in, new_tab
from tests.factories import (
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)

pytestmark = pytest.mark.browser


def test_receiver_and_sender_talk_through_the_referral_in_a_browser(
    browser: Any, live_server: str, org: Organisation
) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    receiver = make_person(Role.SERVICE_FOCAL_POINT, clinic)
    service = make_service(clinic, Sector.HEALTH, name="Clinic of Kesa")
    publish_pathway(caseworker.user, [service])
    case = open_case(caseworker.user)
    consent = referral_consent(case, caseworker.user, service)
    referral = cases.refer(
        case,
        request(service, Priority.URGENT, note="Needs a check-up"),
        consent=consent,
        actor=caseworker.user,
    )
    db.session.commit()
    reference, referral_url = referral.reference, f"/referrals/{referral.public_id}"

    clinic_tab = new_tab(browser, live_server, 360, 800)
    browser_sign_in(clinic_tab, receiver)
    clinic_tab.goto(referral_url)
    expect(clinic_tab.locator("#referring-organisation")).to_contain_text(org.name)
    expect(clinic_tab.locator("#referred-by")).to_contain_text(caseworker.user.full_name)
    expect(clinic_tab.locator("#referred-by a")).to_have_attribute(
        "href", f"mailto:{caseworker.email}"
    )
    clinic_tab.get_by_role("button", name="Accept").click()
    clinic_tab.fill("#feedback-complete", "Seen on Monday; follow-up visit in two weeks.")
    clinic_tab.get_by_role("button", name="Service provided").click()
    expect(clinic_tab.locator("#referral-state")).to_have_text("Service provided")
    history = clinic_tab.get_by_role("region", name=f"History of referral {reference}")
    for state in ("Drafted", "Sent", "Accepted", "Service provided"):
        expect(history.get_by_text(state, exact=True)).to_be_visible()
    expect(history).to_contain_text("Seen on Monday")
    clinic_tab.context.close()

    worker = new_tab(browser, live_server, 360, 800)
    browser_sign_in(worker, caseworker)
    worker.goto(f"/cases/{case.public_id}")
    history = worker.get_by_role("region", name=f"History of referral {reference}")
    expect(history.get_by_text("Service provided", exact=True)).to_be_visible()
    expect(history).to_contain_text(f"CLINIC ({receiver.user.full_name})")
    expect(history).to_contain_text("Seen on Monday; follow-up visit in two weeks.")
    worker.context.close()

    db.session.expire_all()
    stored = db.session.scalar(db.select(Referral))
    assert stored is not None
    assert stored.feedback_note == "Seen on Monday; follow-up visit in two weeks."
