"""The case page printed: a clean summary for the paper file. Printed in headless
Chromium with print media; the PDF and a screenshot go to test-output/print/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from referral import clock
from referral.cases import services as cases
from referral.cases.models import Case
from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.referrals.models import Need
from referral.security.policy import Role
from tests.conftest import browser_sign_in, output_dir
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

pytestmark = pytest.mark.browser

NAME_CANARY = "Printcanary Zuleika"
GOAL = "Accompany her to the clinic for PEP"

# Everything the page shows that must not reach the paper, and how it looks printed.
HIDDEN_WHEN_PRINTED = """() => {
  const hidden = (el) => getComputedStyle(el).display === "none" || el.offsetParent === null;
  const all = (selector) => Array.from(document.querySelectorAll(selector));
  return {
    navigation: all("header nav, .breadcrumbs, .skip-link").every(hidden),
    forms: all("form").length > 0 && all("form").every(hidden),
    buttons: all("button, .button, summary").every(hidden),
    inputs: all("input, select, textarea").every(hidden),
  };
}"""
COLOURS_WHEN_PRINTED = """() => {
  const shown = Array.from(document.querySelectorAll("main *")).filter(
    (el) => el.offsetParent !== null && el.textContent.trim() !== "");
  return {
    colours: Array.from(new Set(shown.map((el) => getComputedStyle(el).color))),
    backgrounds: Array.from(new Set(shown.map((el) => getComputedStyle(el).backgroundColor))),
    body: getComputedStyle(document.body).backgroundColor,
  };
}"""


def _case_for_the_file(app: Flask, org: Organisation) -> tuple[Person, Case]:
    caseworker = make_person(Role.CASEWORKER, org)
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    service = make_service(clinic, Sector.HEALTH, name="Kesa clinic")
    publish_pathway(caseworker.user, [service])
    case = open_case(caseworker.user, name=NAME_CANARY)
    incident(case, caseworker.user, hours_ago=10)
    consent = referral_consent(case, caseworker.user, service)
    with app.test_request_context():
        cases.refer(case, request(service), consent=consent, actor=caseworker.user)
        cases.add_action_item(
            case,
            Need.HEALTH,
            GOAL,
            (clock.utcnow() + timedelta(days=2)).date(),
            actor=caseworker.user,
        )
    db.session.commit()
    return caseworker, case


def test_case_page_prints_as_a_clean_summary(
    app: Flask, page: Any, org: Organisation, live_server: str
) -> None:
    caseworker, case = _case_for_the_file(app, org)
    browser_sign_in(page, caseworker)
    page.goto(f"/cases/{case.public_id}")
    on_screen = page.inner_text("body")
    assert "Sign out" in on_screen and "Withdraw" in on_screen

    page.emulate_media(media="print")
    folder = output_dir("print")
    page.screenshot(path=str(folder / "case-summary.png"), full_page=True)
    pdf = page.pdf(path=str(folder / "case-summary.pdf"), format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and (folder / "case-summary.pdf").stat().st_size > 1000

    hidden = page.evaluate(HIDDEN_WHEN_PRINTED)
    assert hidden == {"navigation": True, "forms": True, "buttons": True, "inputs": True}
    printed = page.inner_text("body")  # innerText leaves out what print CSS hides
    referral = case.survivor_code
    for expected in (
        f"Case {referral}",
        "1. Engagement and intake",  # status
        "Rape",  # incident type
        "Mar 1, 2026",  # incident date, in the organisation's zone
        "reported within 3 days",
        "Kesa clinic (CLINIC)",  # referrals
        GOAL,  # action plan (shown on screen, its reveal audited)
        "Case summary printed",
    ):
        assert expected in printed, expected
    for absent in ("Sign out", "Withdraw consent", "Request closure", "Open sensitive details"):
        assert absent not in printed, absent
    assert NAME_CANARY not in printed  # never shown on this page, so never printed

    colours = page.evaluate(COLOURS_WHEN_PRINTED)
    assert colours["colours"] == ["rgb(0, 0, 0)"]
    assert set(colours["backgrounds"]) <= {"rgba(0, 0, 0, 0)"}
    assert colours["body"] == "rgb(255, 255, 255)"


def test_revealed_details_print_only_what_the_screen_shows(
    app: Flask, page: Any, org: Organisation, live_server: str
) -> None:
    caseworker, case = _case_for_the_file(app, org)
    browser_sign_in(page, caseworker)
    page.goto(f"/cases/{case.public_id}/details")  # the reveal is recorded in the audit log
    page.emulate_media(media="print")
    folder = output_dir("print")
    page.pdf(path=str(folder / "case-sensitive-details.pdf"), format="A4")
    printed = page.inner_text("body")
    assert NAME_CANARY in printed  # revealed on screen, so on paper too
    assert "Viewing this page is recorded" in printed
    assert "Save notes" not in printed
