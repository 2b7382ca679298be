"""Keyboard only (page.keyboard, no mouse, no element handles filled): the skip link, a
visible focus indicator on every stop, a label for every input and error messages tied to
their fields, on the sign-in pages and the case intake form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from referral.db import Organisation
from referral.security.policy import Role
from tests.conftest import next_totp, output_dir
from tests.factories import Person, make_person, the_area

pytestmark = pytest.mark.browser

FOCUSED = "document.activeElement"

# What the focused element looks like: a visible focus indicator is an outline or a
# box-shadow that is not "none".
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
    visible: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0,
  };
}"""

# Every control a person fills in, and the accessible label it has (empty when none).
UNLABELLED = """() => [...document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]), select, textarea")]
  .filter(el => {
    const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
      .map(id => document.getElementById(id)?.textContent || "").join(" ");
    const text = [...el.labels].map(l => l.textContent).join(" ")
      + (el.getAttribute("aria-label") || "") + by;
    return !text.trim();
  })
  .map(el => el.name || el.id)"""

# Each field marked invalid, with the text of the elements its aria-describedby names.
INVALID_FIELDS = """() => [...document.querySelectorAll("[aria-invalid=true]")].map(el => ({
  name: el.name,
  described: (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)
    .map(id => document.getElementById(id))
    .filter(node => node && node.classList.contains("error"))
    .map(node => node.textContent.trim()),
}))"""


def at(path: str) -> re.Pattern[str]:
    """The URL of a path, with or without the fragment a used skip link leaves (#main)."""
    return re.compile(re.escape(path) + r"(#main)?$")


class Keyboard:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops: list[dict[str, Any]] = []

    def tab(self) -> dict[str, Any]:
        self.page.keyboard.press("Tab")
        focused: dict[str, Any] = self.page.evaluate(FOCUS_STYLE)
        self.stops.append(focused)
        assert focused["outline"] or focused["shadow"], f"no visible focus on {focused}"
        assert focused["visible"], f"focused element out of sight: {focused}"
        return focused

    def tab_to(self, selector: str, limit: int = 40) -> None:
        """Tab forwards until the element matching ``selector`` has the focus."""
        for _ in range(limit):
            self.tab()
            if self.page.evaluate(f"{FOCUSED}.matches({selector!r})"):
                return
        raise AssertionError(f"{selector} never got the focus by Tab")

    def skip_to_content(self) -> None:
        """The first Tab reaches the skip link; Enter moves the focus to main."""
        first = self.tab()
        assert "skip-link" in first["cls"], first
        self.page.keyboard.press("Enter")
        assert self.page.evaluate(f"{FOCUSED}.id") == "main"


def assert_every_input_labelled(page: Any) -> None:
    assert page.evaluate(UNLABELLED) == []


def assert_errors_tied_to_fields(page: Any, expected: set[str]) -> None:
    invalid = {item["name"]: item["described"] for item in page.evaluate(INVALID_FIELDS)}
    assert expected <= set(invalid), invalid
    for name, messages in invalid.items():
        assert messages and all(messages), f"{name}: no error text tied to it"
    # and every error message on the page belongs to a field marked invalid
    tied = {m for messages in invalid.values() for m in messages}
    shown = {t.strip() for t in page.locator("p.error").all_inner_texts()}
    assert shown <= tied, shown - tied


def sign_in_by_keyboard(page: Any, person: Person, keys: Keyboard) -> None:
    page.goto("/auth/sign-in")
    keys.skip_to_content()
    keys.tab_to("#email")
    page.keyboard.type(person.email)
    page.keyboard.press("Enter")  # no password: the form comes back with an error
    expect(page.locator(".error-summary")).to_be_visible()
    assert_errors_tied_to_fields(page, {"password"})
    assert page.locator("#email").input_value() == person.email
    assert_every_input_labelled(page)
    page.screenshot(path=str(output_dir("keyboard") / "1-sign-in-error.png"))

    # The form was sent from /auth/sign-in#main: the answer starts Tab at main.
    keys.tab_to("#password")
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    page.wait_for_url(at("/auth/verify"))
    assert_every_input_labelled(page)
    keys.tab_to("#code")  # the first stop in main (#main, kept by the redirect, wins
    # over the field's autofocus)
    page.keyboard.type(next_totp(person))
    page.keyboard.press("Enter")
    page.wait_for_url(at("/"))


def test_sign_in_and_case_intake_by_keyboard(page: Any, org: Organisation) -> None:
    area = the_area()
    person = make_person(Role.CASEWORKER, org)
    page.set_viewport_size({"width": 360, "height": 640})
    keys = Keyboard(page)
    sign_in_by_keyboard(page, person, keys)

    # From the inbox to the intake form through the main navigation.
    keys.tab_to("nav a[href='/cases/']")
    page.keyboard.press("Enter")
    page.wait_for_url(at("/cases/"))
    keys.skip_to_content()
    keys.tab_to("a[href='/cases/new']")
    page.keyboard.press("Enter")
    page.wait_for_url(at("/cases/new"))
    assert_every_input_labelled(page)

    keys.skip_to_content()
    keys.tab_to("#age")  # passes the mandatory-reporting box without ticking it
    page.keyboard.type("31")
    keys.tab_to("#sex")
    page.keyboard.type("Female")
    keys.tab_to("#area")
    page.keyboard.type(area.name)
    keys.tab_to("#risk_level")
    page.keyboard.type("High")
    keys.tab_to("#displacement_status")
    page.keyboard.type("Resident")
    keys.tab_to("button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.locator(".error-summary")).to_be_visible()
    assert_errors_tied_to_fields(page, {"mandatory_reporting_explained"})
    assert page.locator("#age").input_value() == "31"  # nothing typed is lost
    assert page.locator("#area").input_value() == area.public_id
    page.screenshot(path=str(output_dir("keyboard") / "2-intake-error.png"), full_page=True)

    keys.tab_to("#mandatory_reporting_explained")
    page.keyboard.press("Space")
    keys.tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/cases/[0-9A-Z]{16}(#main)?$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case GBV-")
    kinds = {stop["tag"] for stop in keys.stops}
    assert {"a", "input", "select", "button"} <= kinds, kinds
