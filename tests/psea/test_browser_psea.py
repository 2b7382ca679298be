"""Real browser: a PSEA focal point logs an allegation, the coordinator routes it, the
concerned entity acknowledges it and reports an outcome category."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from referral.extensions import db
from referral.psea.models import Allegation, AllegationState, Outcome
from tests.conftest import browser_sign_in, output_dir
from tests.psea.conftest import Network

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
    assert page.get_by_text("Do not write the name of anyone").first.is_visible()
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
    assert page.get_by_text("Received, to route").first.is_visible()
    sign_out(page)

    browser_sign_in(page, network.coordinator)
    page.get_by_role("link", name="Allegations").click()
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Route to the PSEA focal points of").select_option(network.mission.public_id)
    page.screenshot(path=str(shots / "2-route.png"), full_page=True)
    page.get_by_role("button", name="Route allegation").click()
    assert page.get_by_text("Allegation routed.").is_visible()
    assert page.get_by_text("Routed, awaiting acknowledgement").first.is_visible()
    sign_out(page)

    browser_sign_in(page, network.mission_focal)
    page.get_by_role("link", name=reference).click()  # from the inbox
    page.get_by_role("button", name="Acknowledge receipt").click()
    assert page.get_by_text("Receipt acknowledged.").is_visible()
    page.get_by_label("Outcome category").select_option(label="Referred for investigation")
    page.get_by_role("button", name="Report outcome").click()
    assert page.get_by_text("Outcome reported.").is_visible()
    page.screenshot(path=str(shots / "3-outcome.png"), full_page=True)

    db.session.expire_all()
    allegation = db.session.scalar(sa.select(Allegation).where(Allegation.reference == reference))
    assert allegation is not None
    assert allegation.state is AllegationState.IN_PROGRESS
    assert allegation.outcome is Outcome.REFERRED_FOR_INVESTIGATION
    assert allegation.routed_to_organisation_id == network.mission.id
