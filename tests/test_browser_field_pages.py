"""Field readiness in a real browser: the sign-in page's language links, and the audit
log's action list and long values."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.db import Organisation
from referral.security.policy import Role
from tests.conftest import browser_sign_in, output_dir
from tests.factories import (
    make_person,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}

# Elements reaching past the right edge of the screen (none when nothing scrolls sideways).
PAST_THE_EDGE = """width => [...document.querySelectorAll('body *')]
    .filter(element => element.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map(element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (element.className ? '.' + element.className : ''))"""


def test_sign_in_page_switches_language(page: Any) -> None:
    """Field readiness, sign-in language switch: English, French, Arabic (right to left)."""
    page.goto("/auth/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="العربية").click()
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_audit_log_action_is_a_list_and_long_values_wrap(page: Any, org: Organisation) -> None:
    """Field readiness, audit log: the action filter lists the actions the log holds, and
    a long e-mail or request id wraps instead of widening the table."""
    auditor = make_person(
        Role.AUDITOR,
        org,
        email="a.very.long.mailbox.name.for.the.field.auditor@lomara-humanitarian-network.example.org",
    )
    browser_sign_in(page, auditor)
    page.goto("/audit/")
    action = page.locator("select#action")
    expect(action).to_be_visible()
    options = action.locator("option").all_inner_texts()
    assert ("auth.sign_in" in options and "auth.second_factor_passed" in options) or (
        "auth.sign_in" in options
    )
    action.select_option("auth.sign_in")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr").first).to_contain_text("auth.sign_in")
    table = page.locator(".table-wrap")
    assert table.evaluate("box => box.scrollWidth - box.clientWidth") <= 0
    page.screenshot(path=str(output_dir("browser-field-pages") / "3-audit.png"), full_page=True)
