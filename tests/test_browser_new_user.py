"""Real-browser journey: an administrator creates a caseworker, who then signs in with the
one-time password, chooses a password, sets up the authenticator and reaches the inbox."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referral import clock
from referral.db import Organisation, User
from referral.extensions import db
from referral.security import totp
from tests.conftest import browser_sign_in, output_dir
from tests.factories import Person

pytestmark = pytest.mark.browser


def test_admin_created_user_signs_in_changes_password_enrols_and_reaches_inbox(
    page: Any, admin: Person, org: Organisation
) -> None:
    """Field readiness, admin-created users: the user the form creates is active and can
    sign in (before, the form did not show the Active box and saved every user
    deactivated, so the one-time password met "e-mail or password incorrect")."""
    shots = output_dir("browser-new-user")
    browser_sign_in(page, admin)

    page.goto("/admin/users/new")
    page.get_by_label("E-mail").fill("amina.new@example.org")
    page.get_by_label("Full name").fill("Amina New")
    page.get_by_label("Role").select_option(label="GBV caseworker")
    page.get_by_label("Organisation").select_option(label=f"{org.acronym} ({org.name})")
    page.screenshot(path=str(shots / "1-new-user.png"))
    page.get_by_role("button", name="Save").click()
    one_time_password = page.locator("#one-time-password").inner_text().strip()
    assert one_time_password
    page.screenshot(path=str(shots / "2-one-time-password.png"))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/sign-in")

    page.get_by_label("E-mail").fill("amina.new@example.org")
    page.get_by_label("Password", exact=True).fill(one_time_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/auth/first-password")
    new_password = "harbour violet kettle marching 7"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Repeat the new password").fill(new_password)
    page.get_by_role("button", name="Set password").click()

    page.wait_for_url("**/auth/enrol")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("6-digit code shown by your authenticator app").fill(
        totp.code_at(secret, clock.utcnow())
    )
    page.get_by_role("button", name="Confirm and continue").click()
    page.get_by_role("link", name="I have kept them, continue").click()
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="What needs you now")).to_be_visible()
    page.screenshot(path=str(shots / "3-inbox.png"))

    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.email == "amina.new@example.org")).one()
    assert user.active and user.has_totp and not user.must_change_password
