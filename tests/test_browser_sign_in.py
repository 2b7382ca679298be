"""Real-browser test: a new user signs in, chooses a password, enrols TOTP, signs out."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral import clock
from referral.db import Organisation, User
from referral.extensions import db
from referral.security import totp
from referral.security.policy import Role
from tests.conftest import output_dir
from tests.factories import PASSWORD, make_person

pytestmark = pytest.mark.browser


def test_first_sign_in_with_enrolment_then_sign_out(page: Any, org: Organisation) -> None:
    person = make_person(Role.CASEWORKER, org, enrolled=False, must_change_password=True)
    shots = output_dir("browser-sign-in")

    page.goto("/")
    page.wait_for_url("**/auth/sign-in**")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.screenshot(path=str(shots / "1-sign-in.png"))
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/auth/first-password")
    new_password = "river lantern quietly orbit 9"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Repeat the new password").fill(new_password)
    page.screenshot(path=str(shots / "2-first-password.png"))
    page.get_by_role("button", name="Set password").click()

    page.wait_for_url("**/auth/enrol")
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().strip()
    page.screenshot(path=str(shots / "3-enrol.png"))
    page.get_by_label("6-digit code shown by your authenticator app").fill(
        totp.code_at(secret, clock.utcnow())
    )
    page.get_by_role("button", name="Confirm and continue").click()

    codes = page.locator("#recovery-codes li")
    assert codes.count() == totp.RECOVERY_CODE_COUNT
    page.screenshot(path=str(shots / "4-recovery-codes.png"))
    page.get_by_role("link", name="I have kept them, continue").click()
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="What needs you now")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/sign-in")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.screenshot(path=str(shots / "5-signed-out.png"))

    page.goto("/")
    page.wait_for_url("**/auth/sign-in**")

    db.session.expire_all()
    stored = db.session.get(User, person.user.id)
    assert stored is not None and stored.has_totp and not stored.must_change_password
