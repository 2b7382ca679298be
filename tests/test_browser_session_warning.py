"""Real-browser test: the page warns before the idle timeout ends the session."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from referral.db import Organisation
from referral.security.policy import Role
from tests.conftest import browser_sign_in
from tests.factories import make_person

pytestmark = pytest.mark.browser


def test_session_expiry_warning(page: Any, app: Flask, org: Organisation) -> None:
    person = make_person(Role.CASEWORKER, org)
    browser_sign_in(page, person)
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()

    idle = app.config["SESSION_IDLE_MINUTES"]
    app.config["SESSION_IDLE_MINUTES"] = 2  # the next page ends its session within 2 min
    try:
        page.goto("/")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("less than 2 minutes")
    finally:
        app.config["SESSION_IDLE_MINUTES"] = idle
