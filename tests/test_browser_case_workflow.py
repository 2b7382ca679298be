"""Real-browser walk of the case workflow: intake -> consent -> incident -> referral ->
acceptance by the receiving organisation -> completion -> closure approved by a supervisor."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from referral import clock
from referral.cases.models import Case, CaseStage
from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.referrals.models import Referral, ReferralState
from referral.security.policy import Role
from tests.conftest import browser_sign_in, new_tab, output_dir
from tests.factories import make_organisation, make_person, make_service, publish_pathway

pytestmark = pytest.mark.browser


def _tab(browser: Any, live_server: str) -> Any:
    return new_tab(browser, live_server, 390, 844)


def test_case_workflow_in_a_real_browser(browser: Any, live_server: str, org: Organisation) -> None:
    shots = output_dir("browser-case-workflow")
    caseworker = make_person(Role.CASEWORKER, org)
    supervisor = make_person(Role.SUPERVISOR, org)
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    receiver = make_person(Role.SERVICE_FOCAL_POINT, clinic)
    service = make_service(clinic, Sector.HEALTH, name="Clinic of Kesa")
    publish_pathway(caseworker.user, [service])
    area = service.areas[0]

    worker = _tab(browser, live_server)
    browser_sign_in(worker, caseworker)
    worker.goto("/cases/new")
    worker.check("#mandatory_reporting_explained")
    worker.fill("#age", "19")
    worker.select_option("#sex", "female")
    worker.select_option("#area", area.public_id)
    worker.select_option("#risk_level", "high")
    worker.select_option("#displacement_status", "idp")
    worker.fill("#name", "Browser Canary")
    worker.fill("#narrative", "Story told once, in private.")
    worker.screenshot(path=str(shots / "1-intake.png"), full_page=True)
    worker.get_by_role("button", name="Open the case").click()
    worker.wait_for_url("**/cases/*")
    code = db.session.scalar(db.select(Case.survivor_code))
    assert code is not None and worker.get_by_role("heading", name=f"Case {code}").is_visible()
    assert "Browser Canary" not in worker.content()

    worker.get_by_role("link", name="Record consent").click()
    worker.select_option("#kind", "referral")
    worker.check("input[name=granted][value=yes]")
    worker.select_option("#service", service.public_id)
    worker.check("input[name=shared_fields][value=name]")
    worker.get_by_role("button", name="Record consent").click()
    worker.wait_for_url("**/cases/*")
    expect(worker.get_by_text("Consent recorded.")).to_be_visible()

    worker.get_by_role("link", name="Record the incident").click()
    for question in (
        "penetration",
        "unwanted_sexual_contact",
        "physical_assault",
        "forced_marriage",
        "denial_of_resources",
        "psychological_abuse",
    ):
        worker.check(
            f"input[name={question}][value={'yes' if question == 'penetration' else 'no'}]"
        )
    yesterday = (clock.utcnow() - timedelta(days=1)).date().isoformat()
    worker.fill("#incident_date", yesterday)
    worker.fill("#incident_time", "22:00")
    worker.select_option("#time_of_day", "evening_night")
    worker.select_option("#location_type", "road")
    worker.fill("#reported_on", clock.utcnow().date().isoformat())
    worker.select_option("#perpetrator_age_group", "adult")
    worker.select_option("#perpetrator_relationship", "stranger")
    worker.check("input[name=previously_reported][value=no]")
    worker.get_by_role("button", name="Save the incident").click()
    worker.wait_for_url("**/cases/*")
    assert worker.locator(".incident-type").first.inner_text() == "Rape"
    expect(worker.get_by_role("heading", name="Clinical windows")).to_be_visible()
    worker.screenshot(path=str(shots / "2-case.png"), full_page=True)

    worker.get_by_role("link", name="Refer to a service").click()
    worker.check(f'input[name=service][value="{service.public_id}"]')
    worker.check("input[name=needs][value=health]")
    consent_value = worker.locator("#consent option").nth(1).get_attribute("value")
    worker.select_option("#consent", consent_value)
    worker.check("input[name=shared_fields][value=name]")
    worker.fill("#note", "Needs PEP today")
    worker.screenshot(path=str(shots / "3-refer.png"), full_page=True)
    worker.get_by_role("button", name="Send the referral").click()
    worker.wait_for_url("**/cases/*")
    reference = db.session.scalar(db.select(Referral.reference))
    assert reference is not None and worker.get_by_text(f"Referral {reference} sent").is_visible()

    clinic_tab = _tab(browser, live_server)
    browser_sign_in(clinic_tab, receiver)
    expect(clinic_tab.get_by_role("link", name=f"{reference} · {code}")).to_be_visible()
    clinic_tab.goto("/referrals/")
    clinic_tab.get_by_role("link", name=reference).click()
    expect(clinic_tab.get_by_text("Browser Canary")).to_be_visible()  # consented
    assert "Story told once" not in clinic_tab.content()  # never the narrative
    clinic_tab.get_by_role("button", name="Accept").click()
    assert clinic_tab.locator("#referral-state").inner_text() == "Accepted"
    clinic_tab.get_by_role("button", name="Service provided").click()
    assert clinic_tab.locator("#referral-state").inner_text() == "Service provided"
    clinic_tab.screenshot(path=str(shots / "4-received.png"), full_page=True)

    worker.reload()
    expect(worker.get_by_role("table").get_by_text("Service provided")).to_be_visible()
    worker.get_by_text("Request closure").first.click()
    worker.select_option("#closure-reason", "needs_met")
    worker.get_by_label(re.compile("Once a supervisor approves the closure")).check()
    worker.get_by_role("button", name="Request closure").click()
    worker.wait_for_url("**/cases/*")
    assert worker.locator("#case-stage").inner_text() == "6. Closure awaiting approval"

    boss = _tab(browser, live_server)
    browser_sign_in(boss, supervisor)
    boss.get_by_role("link", name=code).click()
    boss.get_by_label(re.compile("Closing ends the work on the case")).check()
    boss.get_by_role("button", name="Approve closure").click()
    boss.wait_for_url("**/cases/*")
    assert boss.locator("#case-stage").inner_text() == "Closed"
    boss.screenshot(path=str(shots / "5-closed.png"), full_page=True)

    db.session.expire_all()
    case = db.session.scalar(db.select(Case))
    referral = db.session.scalar(db.select(Referral))
    assert case is not None and case.stage is CaseStage.CLOSED
    assert referral is not None and referral.state is ReferralState.COMPLETED
    for tab in (worker, clinic_tab, boss):
        tab.context.close()
