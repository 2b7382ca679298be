"""Real browser: a PSEA focal point logs an allegation, the coordinator routes it, the
concerned entity acknowledges it and reports an outcome category."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from referral.cases.models import Case
from referral.directory.models import AgeGroup, Sex
from referral.extensions import db
from referral.psea.models import Allegation, AllegationState, Outcome
from referral.referrals.models import Referral, SourceKind
from referral.security.policy import Role
from tests.conftest import browser_sign_in, output_dir
from tests.factories import Network, Services, make_person, record_allegation, the_area

pytestmark = pytest.mark.browser


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/sign-in")


def test_allegation_logged_routed_acknowledged_and_outcome_reported(
    page: Any, network: Network
) -> None:
    shots = output_dir("browser-psea")

    browser_sign_in(page, network.ngo_focal)
    page.get_by_role("link", name="Allegations").click()
    page.get_by_role("link", name="Record an allegation").click()
    expect(page.get_by_text("Do not write the name of anyone").first).to_be_visible()
    page.get_by_label("Channel").select_option(label="Hotline or phone")
    page.get_by_label("Category", exact=True).select_option(label="Sexual exploitation")
    page.get_by_label("Entity of the alleged perpetrator").select_option(network.mission.public_id)
    page.get_by_label("Category of personnel").select_option(label="Military personnel")
    page.get_by_label("Adult, female").fill("1")
    page.get_by_label("The survivor consents to be contacted for victim assistance").check()
    page.get_by_label("Short summary (optional)").fill("Reported at the market, evening.")
    page.screenshot(path=str(shots / "1-intake.png"), full_page=True)
    page.get_by_role("button", name="Record allegation").click()
    page.wait_for_url("**/allegations/*")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Allegation SEA-26-")
    reference = heading.removeprefix("Allegation ").strip()
    expect(page.get_by_text("Received, to route").first).to_be_visible()
    sign_out(page)

    browser_sign_in(page, network.coordinator)
    page.get_by_role("link", name="Allegations").click()
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Route to the PSEA focal points of").select_option(network.mission.public_id)
    page.screenshot(path=str(shots / "2-route.png"), full_page=True)
    page.get_by_label(re.compile("Routing cannot be undone")).check()
    page.get_by_role("button", name="Route allegation").click()
    expect(page.get_by_text("Allegation routed.")).to_be_visible()
    expect(page.get_by_text("Routed, awaiting acknowledgement").first).to_be_visible()
    sign_out(page)

    browser_sign_in(page, network.mission_focal)
    page.get_by_role("link", name=reference).click()  # from the inbox
    page.get_by_role("button", name="Acknowledge receipt").click()
    expect(page.get_by_text("Receipt acknowledged.")).to_be_visible()
    page.get_by_label("Outcome category").select_option(label="Referred for investigation")
    page.get_by_role("button", name="Report outcome").click()
    expect(page.get_by_text("Outcome reported.")).to_be_visible()
    page.screenshot(path=str(shots / "3-outcome.png"), full_page=True)

    db.session.expire_all()
    allegation = db.session.scalar(sa.select(Allegation).where(Allegation.reference == reference))
    assert allegation is not None
    assert allegation.state is AllegationState.IN_PROGRESS
    assert allegation.outcome is Outcome.REFERRED_FOR_INVESTIGATION
    assert allegation.routed_to_organisation_id == network.mission.id


def test_va_refers_survivor_to_gbv_case_management_and_sees_acceptance(
    page: Any, network: Network, gbv_services: Services
) -> None:
    """R21 in the browser: from the allegation to a referral the GBV case-management
    service accepts, and a case opened with the SEA context."""
    shots = output_dir("browser-psea")
    caseworker = make_person(Role.CASEWORKER, gbv_services.provider)
    allegation = record_allegation(network.ngo_focal, consents_to_assistance=True)

    browser_sign_in(page, network.va)
    page.get_by_role("link", name="Allegations").click()
    page.get_by_role("link", name=allegation.reference).click()
    page.get_by_role("link", name="Open an assistance record for this survivor").click()
    page.get_by_label(
        "The survivor (or, for a child, the caregiver) consents to assistance"
    ).check()
    page.get_by_label("Age group").select_option(AgeGroup.ADULT.value)
    page.get_by_label("Sex").select_option(Sex.FEMALE.value)
    page.get_by_label("Area where the survivor lives").select_option(the_area().public_id)
    page.get_by_label("Medical care").check()
    page.get_by_label("Psychosocial support").check()
    page.screenshot(path=str(shots / "4-assistance.png"), full_page=True)
    page.get_by_role("button", name="Open assistance record").click()
    expect(page.get_by_text("Not referred yet.")).to_be_visible()
    page.get_by_label("GBV case-management service").select_option(
        gbv_services.case_management.public_id
    )
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("The survivor consents to this referral to the chosen organisation").check()
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_text("Referral sent to KCSS.")).to_be_visible()
    expect(page.get_by_text("Sent, awaiting answer")).to_be_visible()

    referral = db.session.scalar(sa.select(Referral))
    assert referral is not None and referral.source_kind is SourceKind.ASSISTANCE
    sign_out(page)

    # The GBV case-management service accepts from its queue...
    browser_sign_in(page, gbv_services.receiver)
    page.goto(f"/referrals/{referral.public_id}")
    page.get_by_role("button", name="Accept").click()
    assert page.locator("#referral-state").inner_text() == "Accepted"
    sign_out(page)

    # ...and a caseworker of that organisation opens the case from the inbox (R21).
    browser_sign_in(page, caseworker)
    page.locator(f"a[href*='referral={referral.public_id}']").click()
    expect(page.get_by_text("SEA by aid or peacekeeping personnel").first).to_be_visible()
    page.check("#mandatory_reporting_explained")
    page.select_option("#area", the_area().public_id)
    page.select_option("#risk_level", "medium")
    page.select_option("#displacement_status", "idp")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url("**/cases/*")
    expect(page.get_by_text("SEA by aid or peacekeeping personnel").first).to_be_visible()
    page.screenshot(path=str(shots / "6-case-with-sea-context.png"), full_page=True)
    case = db.session.scalar(sa.select(Case))
    assert case is not None and case.sea_by_aid_personnel
    sign_out(page)

    # The VA focal point sees the referral accepted, and nothing of the case.
    browser_sign_in(page, network.va)
    page.goto("/assistance/")
    page.get_by_role("link", name=page.locator("td a").first.inner_text()).click()
    expect(page.get_by_text("Accepted", exact=True)).to_be_visible()
    assert case.survivor_code not in page.content()
    assert page.locator("a[href*='/cases/']").count() == 0
    page.screenshot(path=str(shots / "5-assistance-accepted.png"), full_page=True)
