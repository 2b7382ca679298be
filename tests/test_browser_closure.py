"""Field readiness, closure in a real browser (R9): the supervisor reads the caseworker's
closure note, a refusal needs a reason the caseworker then reads, a closed case offers no
action its transition table forbids, and a supervisor reopens it with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.cases import services as cases
from referral.cases.models import ActionStatus, CaseStage
from referral.db import Organisation
from referral.extensions import db
from referral.referrals.models import Need
from referral.security.policy import Role
from tests.conftest import browser_sign_in, new_tab
from tests.factories import incident, make_person, open_case

pytestmark = pytest.mark.browser


def _tab(browser: Any, live_server: str) -> Any:
    return new_tab(browser, live_server, 360, 800)


def test_closure_note_refusal_reason_closed_case_actions_and_reopening_in_a_browser(
    browser: Any, live_server: str, org: Organisation
) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    supervisor = make_person(Role.SUPERVISOR, org)
    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=200)
    cases.add_action_item(case, Need.HEALTH, "Clinic visit", None, actor=caseworker.user)
    db.session.commit()
    code, url = case.survivor_code, f"/cases/{case.public_id}"

    worker = _tab(browser, live_server)
    browser_sign_in(worker, caseworker)
    worker.goto(url)
    worker.get_by_text("Request closure").first.click()
    worker.select_option("#closure-reason", "needs_met")
    worker.fill("#closure-note", "Safe at her sister's; goals met.")
    worker.locator("#closure-confirm").check()
    worker.get_by_role("button", name="Request closure").click()
    worker.wait_for_url(f"**{url}")
    # nothing more can be changed while the closure is pending
    for action in (
        "Record consent",
        "Record another incident",
        "Correct incident 1",
        "Refer to a service",
    ):
        expect(worker.get_by_role("link", name=action)).to_have_count(0)
    expect(worker.get_by_role("button", name="Update")).to_have_count(0)
    expect(worker.get_by_role("button", name="Move")).to_have_count(0)

    boss = _tab(browser, live_server)
    browser_sign_in(boss, supervisor)
    boss.goto(url)
    expect(boss.locator("#closure-note-shown")).to_contain_text("Safe at her sister's; goals met.")
    boss.get_by_text("Refuse closure").first.click()
    expect(boss.locator("#refuse-reason")).to_have_attribute("required", "")
    boss.fill("#refuse-reason", "Check the safety plan with her first.")
    boss.get_by_role("button", name="Refuse closure").click()
    boss.wait_for_url(f"**{url}")
    expect(boss.get_by_text("Closure refused.")).to_be_visible()

    worker.reload()
    expect(worker.locator("#closure-refused")).to_contain_text(
        "Check the safety plan with her first."
    )
    assert worker.locator("#case-stage").inner_text() == "5. Follow-up"
    worker.get_by_text("Request closure").first.click()
    worker.select_option("#closure-reason", "needs_met")
    worker.locator("#closure-confirm").check()
    worker.get_by_role("button", name="Request closure").click()
    worker.wait_for_url(f"**{url}")
    expect(worker.locator("#closure-refused")).to_have_count(0)

    boss.reload()
    boss.locator("#approve-closure-confirm").check()
    boss.get_by_role("button", name="Approve closure").click()
    boss.wait_for_url(f"**{url}")
    assert boss.locator("#case-stage").inner_text() == "Closed"
    for page in (boss, worker):
        page.goto(url)
        for action in (
            "Record consent",
            "Record another incident",
            "Correct incident 1",
            "Refer to a service",
            "Request closure",
            "Reassign the case",
        ):
            expect(page.get_by_role("link", name=action)).to_have_count(0)
        for button in ("Update", "Move", "Request closure", "Approve closure", "Add"):
            expect(page.get_by_role("button", name=button, exact=True)).to_have_count(0)
    expect(worker.get_by_text("Reopen the case")).to_have_count(0)  # supervisors only

    boss.get_by_text("Reopen the case").first.click()
    expect(boss.locator("#reopen-reason")).to_have_attribute("required", "")
    boss.fill("#reopen-reason", "She came back: new threats.")
    boss.get_by_role("button", name="Reopen the case").click()
    boss.wait_for_url(f"**{url}")
    assert boss.locator("#case-stage").inner_text() == "5. Follow-up"
    expect(boss.locator("#case-reopened")).to_contain_text("She came back: new threats.")
    expect(boss.get_by_role("button", name="Update")).to_have_count(1)

    db.session.expire_all()
    assert case.stage is CaseStage.FOLLOW_UP and case.closed_at is None
    assert code and case.reopened_at is not None
    assert case.action_items[0].status is ActionStatus.PLANNED
    for tab in (worker, boss):
        tab.context.close()
