"""Field readiness, phones: the refer page and the case's referral table on a 360 px
screen while a clinical window is open."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.db import OrganisationType
from referral.directory.models import Service
from tests.conftest import browser_sign_in, output_dir
from tests.factories import (
    Person,
    incident,
    make_organisation,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}

# Elements reaching past the right edge of the screen (none when nothing scrolls sideways).
PAST_THE_EDGE = """width => [...document.querySelectorAll('body *')]
    .filter(element => element.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map(element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (element.className ? '.' + element.className : ''))"""


@pytest.fixture
def health(caseworker: Person) -> Service:
    clinic = make_organisation("KWCLINIC", OrganisationType.NATIONAL_NGO)
    service = make_service(clinic, name="Kesa Women's Clinic: clinical management of rape")
    publish_pathway(caseworker.user, [service])
    return service


def test_phone_refer_page_and_referral_table_fit_360_px_with_a_clinical_window_open(
    page: Any, caseworker: Person, health: Service
) -> None:
    """Field readiness, phones: with a clinical window open the refer page fits 360 px
    (Emergency preselected), and the case's referral table shows status, deadline and
    the withdraw action without sideways scrolling."""
    shots = output_dir("browser-field-pages")
    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=10, penetration=True)
    referral_consent(case, caseworker.user, health, shared=("name",))
    page.set_viewport_size(PHONE)
    browser_sign_in(page, caseworker)

    page.goto(f"/cases/{case.public_id}/refer")
    expect(page.get_by_text("Urgent").first).to_be_visible()
    expect(page.locator("#priority")).to_have_value("emergency")
    page.screenshot(path=str(shots / "1-refer-360.png"), full_page=True)
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []
    page.get_by_role("button", name="Send the referral").click()
    page.wait_for_url(f"**/cases/{case.public_id}")

    table = page.locator("#referrals-title ~ .table-wrap")
    expect(table).to_be_visible()
    page.screenshot(path=str(shots / "2-case-referrals-360.png"), full_page=True)
    sideways = table.evaluate("box => box.scrollWidth - box.clientWidth")
    assert sideways <= 0, f"the referral table scrolls sideways by {sideways} px"
    assert page.evaluate(PAST_THE_EDGE, PHONE["width"]) == []
    row = table.locator("tbody tr").first
    for shown in (
        row.locator(".status").first,  # status: a word and a colour
        row.get_by_text("(in "),  # the deadline and the time left
        row.get_by_role("link", name="Withdraw"),  # the action
    ):
        expect(shown).to_be_visible()
        box = shown.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
