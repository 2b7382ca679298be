"""Browser journeys, one per role: sign-in and authenticator code, the role's main work,
sign-out; each on a desktop (1280x900) and on a phone (360x640), over the demo data of
Lomara (loaded once for the module). A screenshot per step goes to
test-output/journeys/<viewport>/<role>/NN-<step>.png, and every distinct page a journey
reaches is scanned by axe-core (tests/accessibility.py; summary in test-output/axe.txt)
and must fit the screen's width (only a wide table may scroll, inside its own box).

One more journey, on the phone, is read in Arabic (the user's language setting): the
pages are laid out right to left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral import clock
from referral.cases import services as cases
from referral.cases.models import Case, CaseStage, ClosureReason
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import ReferralState
from referral.security.policy import Role
from tests.accessibility import AxeScanner, describe
from tests.conftest import output_dir
from tests.demo_world import (  # noqa: F401 - fixtures used by this module
    demo_world_fixture,
    keep_module_data,
)
from tests.factories import (
    ARABIC_READER,
    CLINIC,
    DEMO_EMAILS,
    Account,
    DemoWorld,
    demo_clinic,
    demo_user,
    open_case,
    sent_referral_to_the_clinic,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("journeys")]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 640}}


WIDER_THAN_THE_SCREEN = """width => document.documentElement.scrollWidth <= width ? [] :
    [...document.querySelectorAll('body *')]
        .filter(element => element.getBoundingClientRect().right > width)
        .slice(0, 5)
        .map(element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : ''))"""


class Journey:
    """One person's walk through the pages: a screenshot and an axe scan per step."""

    def __init__(
        self, browser: Any, live_server: str, viewport: str, name: str, scanner: AxeScanner
    ) -> None:
        self.shots = output_dir(f"journeys/{viewport}/{name}")
        for old in self.shots.glob("*.png"):
            old.unlink()
        self.context = browser.new_context(base_url=live_server, viewport=VIEWPORTS[viewport])
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.scanner = scanner
        self.width = VIEWPORTS[viewport]["width"]
        self.steps = 0
        self.failing: list[str] = []

    def step(self, name: str) -> None:
        self.steps += 1
        self.page.screenshot(path=str(self.shots / f"{self.steps:02d}-{name}.png"), full_page=True)
        scan = self.scanner.scan(self.page)
        if scan is not None and scan.failing:
            self.failing.append(scan.page + "\n" + "\n".join(map(describe, scan.failing)))
        # Only wide tables may scroll sideways (inside their own box), never the whole page.
        too_wide = self.page.evaluate(WIDER_THAN_THE_SCREEN, self.width)
        if too_wide:
            self.failing.append(f"{self.page.url}: wider than {self.width} px: {too_wide}")

    def go(self, link: str) -> None:
        """Follow a link of the main navigation."""
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()

    def sign_in(self, account: Account) -> None:
        page = self.page
        page.goto("/")
        page.wait_for_url("**/auth/sign-in**")
        page.get_by_label("E-mail").fill(account.email)
        page.get_by_label("Password", exact=True).fill(account.password)
        self.step("sign-in")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/auth/verify")
        page.get_by_label("Code from your authenticator app, or a recovery code").fill(
            account.next_code()
        )
        self.step("authenticator-code")
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url("**/")
        expect(page.get_by_role("heading", name="What needs you now")).to_be_visible()
        self.step("inbox")

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_url("**/auth/sign-in")
        expect(self.page.get_by_text("You are signed out.")).to_be_visible()
        self.step("signed-out")

    def finish(self) -> None:
        self.context.close()
        assert not self.failing, "axe or layout problems\n" + "\n\n".join(self.failing)


@pytest.fixture(scope="module")
def scanner() -> Iterator[AxeScanner]:
    found = AxeScanner()
    yield found
    found.write_summary(output_dir("journeys").parent / "axe.txt")


@pytest.fixture(params=list(VIEWPORTS))
def journey(
    request: pytest.FixtureRequest, browser: Any, live_server: str, scanner: AxeScanner
) -> Iterator[Callable[[str], Journey]]:
    started: list[Journey] = []

    def start(name: str) -> Journey:
        walk = Journey(browser, live_server, request.param, name, scanner)
        started.append(walk)
        return walk

    yield start
    for walk in started:
        walk.context.close()  # again, when the journey ended early


def choose(select: Any, text: str) -> None:
    """Pick the option of a select whose text contains ``text``."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


# --- the journeys ----------------------------------------------------------------------


def test_caseworker_opens_a_case_records_consent_and_refers(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    walk = journey("caseworker")
    page = walk.page
    walk.sign_in(demo_world.account(Role.CASEWORKER))

    walk.go("Cases")
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    walk.step("cases")
    page.get_by_role("link", name="Open a case").click()
    walk.step("intake")
    page.get_by_label("Age in years").fill("24")
    page.get_by_label("Sex").select_option("female")
    choose(page.get_by_label("Area where the survivor lives"), "Kesa")
    page.get_by_label("Risk level").select_option("high")
    page.get_by_label("Displacement status").select_option("idp")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_text("Please correct the fields marked below.")).to_be_visible()
    walk.step("intake-needs-the-reporting-duty")  # R6: nothing typed is lost
    expect(page.get_by_label("Age in years")).to_have_value("24")
    page.locator("#mandatory_reporting_explained").check()
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url(re.compile(r"/cases/[0-9A-Z]{16}$"))
    heading = page.get_by_role("heading", level=1)
    code = heading.inner_text().removeprefix("Case ").strip()
    assert re.fullmatch(r"GBV-\d{2}-[0-9A-Z]{5}", code), code  # R1: a code, no name
    walk.step("case-opened")

    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Consent to").select_option("referral")
    page.locator("input[name=granted][value=yes]").check()
    choose(page.get_by_label("Receiving service (for a referral)"), CLINIC)
    walk.step("consent")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded.")).to_be_visible()
    walk.step("consent-recorded")

    page.get_by_role("link", name="Refer to a service").click()
    page.get_by_role("radio", name=re.compile(re.escape(CLINIC))).check()
    page.locator("input[name=needs][value=health]").check()
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Consent for this referral").select_option(index=1)
    page.get_by_label("Referral note for the receiver").fill("Please see her today.")
    walk.step("refer")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_text(re.compile(r"Referral \S+ sent"))).to_be_visible()
    walk.step("referral-sent")
    walk.sign_out()
    walk.finish()

    case = db.session.scalar(select(Case).where(Case.survivor_code == code))
    assert case is not None
    assert [r.state for r in engine.referrals_of(case.source_kind, case.public_id)] == [
        ReferralState.SENT
    ]


def test_service_focal_point_accepts_completes_and_declines(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    to_accept = sent_referral_to_the_clinic()
    to_decline = sent_referral_to_the_clinic()
    walk = journey("service_focal_point")
    page = walk.page
    walk.sign_in(demo_world.account(Role.SERVICE_FOCAL_POINT))
    waiting = f"{to_accept.reference} · {to_accept.survivor_code}"  # R10: the org's queue
    expect(page.get_by_role("link", name=waiting)).to_be_visible()

    walk.go("Referrals")
    walk.step("queue")
    page.get_by_role("link", name=to_accept.reference).click()
    expect(page.locator("#referral-state")).to_have_text("Awaiting answer")
    walk.step("referral")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#referral-state")).to_have_text("Accepted")
    walk.step("accepted")
    page.get_by_role("button", name="Service provided").click()
    expect(page.locator("#referral-state")).to_have_text("Service provided")
    walk.step("service-provided")

    walk.go("Referrals")
    page.get_by_role("link", name=to_decline.reference).click()
    page.get_by_role("button", name="Decline").click()
    expect(page.locator(".has-error")).to_be_visible()  # R13: a reason is required
    walk.step("decline-needs-a-reason")
    page.get_by_label("Reason (required)").first.fill("No female doctor this week.")
    page.locator("#confirm-decline").check()  # declining cannot be undone
    page.get_by_role("button", name="Decline").click()
    expect(page.locator("#referral-state")).to_have_text("Declined")
    walk.step("declined")
    walk.sign_out()
    walk.finish()

    db.session.expire_all()
    assert to_accept.state is ReferralState.COMPLETED
    assert to_decline.state is ReferralState.DECLINED


def test_gbv_coordinator_edits_a_service_and_publishes_a_pathway(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    walk = journey("gbv_coordinator")
    page = walk.page
    walk.sign_in(demo_world.account(Role.GBV_COORDINATOR))
    hours = f"Every day, 24 hours (checked {clock.utcnow():%H:%M:%S})"

    walk.go("Services")
    walk.step("services")
    page.get_by_role("link", name=CLINIC).click()
    walk.step("service")
    page.get_by_role("link", name="Edit service").click()
    page.get_by_label("Opening hours").fill(hours)
    walk.step("edit-service")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Service saved.")).to_be_visible()
    walk.step("service-saved")

    walk.go("Pathways")
    walk.step("pathways")
    page.get_by_role("link", name="Dalo", exact=True).click()
    walk.step("pathway")
    page.get_by_role("button", name="Start a new version").click()
    expect(page.get_by_text(re.compile(r"Draft version \d+ started."))).to_be_visible()
    walk.step("draft")
    page.get_by_role("link", name="Edit text and SOP").click()
    page.get_by_label("What changed in this version").fill(
        "Opening hours checked with the services."
    )
    walk.step("edit-draft")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Send for review").click()
    page.get_by_role("link", name="Publish…").click()
    page.get_by_label(re.compile("I have checked this version")).check()
    walk.step("publish")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text(re.compile(r"Version \d+ is published."))).to_be_visible()
    walk.step("published")

    walk.go("Statistics")
    expect(page.get_by_role("heading", name="GBV statistics", level=1)).to_be_visible()
    walk.step("statistics")
    walk.sign_out()
    walk.finish()


def test_psea_focal_point_logs_and_routes_an_allegation(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    walk = journey("psea_focal_point")
    page = walk.page
    walk.sign_in(demo_world.account(Role.PSEA_FOCAL_POINT))

    walk.go("Allegations")
    walk.step("allegations")
    page.get_by_role("link", name="Record an allegation").click()
    page.get_by_label("Channel").select_option(index=1)
    page.get_by_label("Category", exact=True).select_option(index=1)
    choose(page.get_by_label("Area", exact=True), "Kesa")
    choose(page.get_by_label("Entity of the alleged perpetrator"), "LWHA")
    page.get_by_label("Category of personnel").select_option(index=1)
    page.locator("#survivors_adult_female").fill("1")
    page.get_by_label("The survivor consents to be contacted for victim assistance").check()
    walk.step("record-allegation")
    page.get_by_role("button", name="Record allegation").click()
    expect(page.get_by_text(re.compile(r"Allegation \S+ recorded."))).to_be_visible()
    walk.step("allegation-recorded")
    # LWHA has no PSEA focal point: nothing is chosen for the focal point, who sends it on.
    choose(page.get_by_label("Route to the PSEA focal points of"), "send to the coordinator")
    page.get_by_role("button", name="Route allegation").click()
    expect(page.get_by_text("Sent to the network coordinator for manual routing.")).to_be_visible()
    walk.step("allegation-routed")
    walk.sign_out()
    walk.finish()


def test_psea_coordinator_watches_the_deadlines(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    walk = journey("psea_coordinator")
    page = walk.page
    walk.sign_in(demo_world.account(Role.PSEA_COORDINATOR))

    walk.go("Allegations")
    expect(page.get_by_role("heading", name="Network overview")).to_be_visible()
    walk.step("network-overview")
    page.locator(".dashboard a[href*=overdue]").click()
    overdue = page.locator("tbody tr", has=page.locator(".status-overdue"))
    expect(overdue.first).to_be_visible()  # R19: the routing deadline has passed
    walk.step("overdue-allegations")
    overdue.first.get_by_role("link").click()
    expect(page.locator(".status-overdue")).to_be_visible()
    walk.step("overdue-allegation")
    walk.go("Statistics")
    expect(page.get_by_role("heading", level=1)).to_contain_text("PSEA")
    walk.step("psea-statistics")
    page.get_by_label("Count by").select_option("quarter")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports/psea?**")
    walk.step("psea-statistics-by-quarter")
    walk.sign_out()
    walk.finish()


def test_va_focal_point_refers_a_survivor_into_gbv_services(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    walk = journey("va_focal_point")
    page = walk.page
    walk.sign_in(demo_world.account(Role.VA_FOCAL_POINT))

    walk.go("Assistance")
    walk.step("assistance")
    page.get_by_role("link", name="Open a record (survivor came directly)").click()
    page.get_by_label(re.compile("consents to assistance")).check()
    page.get_by_label("Age group").select_option(index=3)
    page.get_by_label("Sex").select_option("female")
    choose(page.get_by_label("Area where the survivor lives"), "Kesa")
    page.locator("input[name=needs]").first.check()
    walk.step("open-record")
    page.get_by_role("button", name="Open assistance record").click()
    expect(page.get_by_text(re.compile(r"Assistance record \S+ opened."))).to_be_visible()
    walk.step("record-opened")
    page.get_by_label("GBV case-management service").select_option(index=1)
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label(re.compile("consents to this referral")).check()
    walk.step("refer")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_text(re.compile(r"Referral sent to \S+\."))).to_be_visible()
    expect(page.locator("tbody .status").first).to_have_text(
        "Sent, awaiting answer"
    )  # R21: status only
    walk.step("referral-sent")
    walk.sign_out()
    walk.finish()


def test_supervisor_approves_a_closure(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    worker = demo_user(DEMO_EMAILS[Role.CASEWORKER])
    case = open_case(worker, area=demo_clinic().areas[0])
    cases.request_closure(case, ClosureReason.NEEDS_MET, "Safe and supported.", actor=worker)
    db.session.commit()
    walk = journey("supervisor")
    page = walk.page
    walk.sign_in(demo_world.account(Role.SUPERVISOR))

    page.get_by_role("link", name=case.survivor_code, exact=True).click()
    expect(page.locator("#case-stage")).to_have_text("6. Closure awaiting approval")
    walk.step("closure-requested")
    page.locator(".confirm input[type=checkbox]").check()  # closing cannot be undone
    page.get_by_role("button", name="Approve closure").click()
    expect(page.locator("#case-stage")).to_have_text("Closed")
    walk.step("closed")
    walk.go("Cases")
    walk.step("cases")
    walk.sign_out()
    walk.finish()

    db.session.expire_all()
    assert case.stage is CaseStage.CLOSED


def test_admin_creates_a_user(journey: Callable[[str], Journey], demo_world: DemoWorld) -> None:
    walk = journey("admin")
    page = walk.page
    walk.sign_in(demo_world.account(Role.ADMIN))
    email = f"new.{clock.utcnow():%H%M%S}@demo.example.org"

    walk.go("Users")
    walk.step("users")
    page.get_by_role("link", name="New user").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Please correct the fields marked below.")).to_be_visible()
    walk.step("new-user-errors")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Full name").fill("Rosa Tembo")
    page.get_by_label("Role").select_option("caseworker")
    choose(page.get_by_label("Organisation"), "HBI")
    walk.step("new-user")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#one-time-password")).not_to_be_empty()
    walk.step("one-time-password")
    page.get_by_role("link", name="Back to users").click()
    expect(page.get_by_role("cell", name=email)).to_be_visible()
    walk.step("users-with-new-user")
    walk.sign_out()
    walk.finish()


def test_auditor_reads_and_verifies_the_audit_log(
    journey: Callable[[str], Journey], demo_world: DemoWorld
) -> None:
    walk = journey("auditor")
    page = walk.page
    walk.sign_in(demo_world.account(Role.AUDITOR))

    walk.go("Audit log")
    walk.step("audit-log")
    page.get_by_label("Action").select_option("auth.sign_in")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr").first).to_contain_text("auth.sign_in")
    walk.step("filtered")
    page.get_by_role("button", name="Verify chain").click()
    expect(page.get_by_text("Intact")).to_be_visible()
    walk.step("chain-verified")
    walk.sign_out()
    walk.finish()


def test_arabic_on_the_phone(
    browser: Any, live_server: str, scanner: AxeScanner, demo_world: DemoWorld
) -> None:
    """The user's language setting switches the pages to Arabic, right to left. Only ids and
    structure are used here: the Arabic catalogue is being translated."""
    walk = Journey(browser, live_server, "phone", "caseworker-arabic", scanner)
    page = walk.page
    try:
        walk.sign_in(demo_world.account(ARABIC_READER))
        page.goto("/auth/account")
        page.locator("#locale").select_option("ar")
        page.locator("form[action$='/account/language'] [type=submit]").click()
        page.wait_for_url("**/auth/account")
        rtl = page.locator("html[dir=rtl][lang=ar]")
        expect(rtl).to_have_count(1)
        walk.step("account-in-arabic")
        for step, path in (("inbox", "/"), ("cases", "/cases/"), ("intake", "/cases/new")):
            page.goto(path)
            expect(rtl).to_have_count(1)
            walk.step(step)
        # right to left: the brand sits at the right edge of the header
        header = page.locator(".site-header").bounding_box()
        brand = page.locator(".brand").bounding_box()
        assert header and brand and brand["x"] + brand["width"] > header["width"] * 0.6
        page.locator("#mandatory_reporting_explained").check()
        page.locator("#age").fill("19")
        page.locator("#sex").select_option("female")
        choose(page.locator("#area"), "Kesa")  # area names are data, never translated
        page.locator("#risk_level").select_option("medium")
        page.locator("#displacement_status").select_option("idp")
        page.locator("main form [type=submit]").click()
        page.wait_for_url(re.compile(r"/cases/[0-9A-Z]{16}$"))
        expect(rtl).to_have_count(1)
        walk.step("case-opened")
        page.locator("form[action$='/auth/sign-out'] [type=submit]").click()
        page.wait_for_url("**/auth/sign-in")
        walk.step("signed-out")
        walk.finish()
    finally:
        walk.context.close()
