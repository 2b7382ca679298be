"""Real-browser test: a coordinator creates a service, drafts and publishes a pathway; a
caseworker reads it; the field sheet prints on at most two A4 pages (R15, R16)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.db import Organisation
from referral.security.policy import Role
from tests.conftest import browser_sign_in, output_dir
from tests.factories import SEA_PROCEDURE, make_areas, make_person

pytestmark = pytest.mark.browser


def test_coordinator_publishes_and_caseworker_reads_and_prints(
    page: Any, browser: Any, live_server: str, org: Organisation
) -> None:
    areas = make_areas()
    coordinator = make_person(Role.GBV_COORDINATOR, org)
    caseworker = make_person(Role.CASEWORKER, org)
    shots = output_dir("browser-pathways")

    browser_sign_in(page, coordinator)
    page.get_by_role("link", name="Services").first.click()
    page.get_by_role("link", name="New service").click()
    page.get_by_label("Organisation").select_option(org.public_id)
    page.get_by_label("Sector").select_option("health")
    page.get_by_label("Service name").fill("Kesa Women's Clinic")
    page.locator(f'input[name="areas"][value="{areas.kesa.public_id}"]').check()
    page.get_by_label("Opening hours").fill("Every day, 24 hours")
    page.get_by_label("Cost").select_option("free")
    page.get_by_label("Status", exact=True).select_option("available")
    page.get_by_label("Focal point phone").fill("+236 70 10 20 30")
    page.screenshot(path=str(shots / "1-new-service.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Service created.")).to_be_visible()

    page.goto(f"/pathways/areas/{areas.kesa.public_id}")
    page.get_by_role("button", name="Start a new version").click()
    page.get_by_role("link", name="Edit text and SOP").click()
    page.get_by_label("Title").fill("Kesa district GBV referral pathway")
    page.get_by_label("Reporting sexual exploitation and abuse (SEA)").fill(SEA_PROCEDURE)
    page.get_by_label("Standard operating procedure").fill(
        "## Time-critical care\nRefer to health first within **72 hours**."
    )
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("link", name="Add a step").click()
    page.get_by_label("Sector").select_option("health")
    page.get_by_label(re.compile("^Kesa Women's Clinic")).check()
    page.get_by_label("Guidance").fill("First when the incident happened less than 72 hours ago.")
    page.get_by_role("button", name="Save step").click()
    page.get_by_role("button", name="Send for review").click()
    page.get_by_role("link", name="Publish…").click()
    page.get_by_label(re.compile("I have checked this version")).check()
    page.screenshot(path=str(shots / "2-publish.png"), full_page=True)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Version 1 is published.")).to_be_visible()

    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        browser_sign_in(phone, caseworker)
        phone.goto(f"/pathways/areas/{areas.camp.public_id}")
        sheet = phone.locator(".pathway-sheet")
        assert "This area follows the pathway of Kesa." in sheet.inner_text()
        assert "Kesa Women's Clinic" in sheet.inner_text()
        assert "psea.lomara@example.org" in sheet.inner_text()
        phone.screenshot(path=str(shots / "3-caseworker-phone.png"), full_page=True)

        phone.emulate_media(media="print")
        assert phone.locator(".site-header nav").is_hidden()
        assert phone.locator("form").first.is_hidden()
        phone.screenshot(path=str(shots / "4-print-media.png"), full_page=True)
        pdf = phone.pdf(format="A4", print_background=False)
        (shots / "4-print.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 2, pages
    finally:
        context.close()


def test_demo_pathway_sheet_prints_on_at_most_two_a4_pages(page: Any, org: Organisation) -> None:
    """The full demo pathway of Kesa (six steps, SOP, SEA procedure) on paper."""
    from sqlalchemy import select

    from referral.demo import load_demo
    from referral.directory.models import Area
    from referral.extensions import db

    load_demo()
    camp = db.session.scalar(select(Area).where(Area.code == "AR-LOM-KES-C1"))
    assert camp is not None
    shots = output_dir("browser-pathways")
    browser_sign_in(page, make_person(Role.CASEWORKER, org))
    page.goto(f"/pathways/areas/{camp.public_id}")
    page.emulate_media(media="print")
    page.screenshot(path=str(shots / "5-demo-print-media.png"), full_page=True)
    pdf = page.pdf(format="A4")
    (shots / "5-demo-print.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, pages
