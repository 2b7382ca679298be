"""An administrator's reset of a user's password or second factor (the one way an
administrator can take an account over) is shown to the user at their next sign-in, once,
stays listed on their account page, and is in the audit log."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from referral.db import Organisation, User
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import csrf_from, form_post, next_totp, reauth, sign_in
from tests.factories import Person, make_person
from tests.test_audit import events

PASSWORD_NOTICE = "Your password was reset by an administrator on Mar 2, 2026"
TWO_FACTOR_NOTICE = "Your two-factor sign-in was reset by an administrator on Mar 2, 2026"


def _admin_resets(app: Flask, admin: Person, worker: Person, *, password: bool) -> str | None:
    """The administrator resets the worker's password (returns the one-time password
    shown) or second factor, then signs out."""
    client = app.test_client()
    sign_in(client, admin)
    page = f"/admin/users/{worker.user.public_id}"
    if password:
        response = form_post(
            client,
            f"{page}/reset-password",
            {"reset-password-confirm": "y", **reauth(admin, "reset-password")},
            page=page,
        )
        assert response.status_code == 200
        match = re.search(r'id="one-time-password">([^<]+)<', response.get_data(as_text=True))
        assert match
        return match.group(1)
    response = form_post(
        client,
        f"{page}/reset-2fa",
        {"reset-2fa-confirm": "y", **reauth(admin, "reset-2fa")},
        page=page,
    )
    assert response.status_code == 302
    return None


def test_item10_password_reset_by_an_admin_is_shown_once_at_next_sign_in(
    app: Flask, client: FlaskClient, admin: Person, org: Organisation
) -> None:
    worker = make_person(Role.CASEWORKER, org)
    one_time = _admin_resets(app, admin, worker, password=True)
    assert one_time

    # The audit log names the reset, who did it and whose account.
    reset = events("admin.password_reset")
    assert len(reset) == 1
    assert reset[0].actor_id == admin.user.id and reset[0].obj_id == worker.user.public_id

    # The worker's next sign-in: one-time password, a new one, the authenticator code.
    response = form_post(client, "/auth/sign-in", {"email": worker.email, "password": one_time})
    assert response.headers["Location"].endswith("/auth/first-password")
    new_password = "violet harbour seventeen kites"
    response = form_post(
        client, "/auth/first-password", {"password": new_password, "confirm": new_password}
    )
    assert response.headers["Location"].endswith("/auth/verify")
    response = form_post(client, "/auth/verify", {"code": next_totp(worker)})
    assert response.status_code == 302
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert PASSWORD_NOTICE in landing
    assert TWO_FACTOR_NOTICE not in landing
    shown = events("auth.admin_reset_notice_shown")
    assert len(shown) == 1
    assert shown[0].actor_id == worker.user.id and shown[0].detail == {"resets": ["password"]}

    # Once: the following page and the following sign-in no longer show it...
    account = client.get("/auth/account").get_data(as_text=True)
    assert PASSWORD_NOTICE not in account
    form_post(client, "/auth/sign-out", {}, page="/auth/account")
    worker.password = new_password
    sign_in(client, worker)
    inbox = client.get("/")
    assert inbox.status_code == 200
    assert "reset by an administrator" not in inbox.get_data(as_text=True)
    assert len(events("auth.admin_reset_notice_shown")) == 1
    # ...but the account page keeps listing it, from the audit log.
    assert "Password reset: " in account and "Mar 2, 2026" in account


def test_item10_two_factor_reset_by_an_admin_is_shown_at_the_enrolment_that_follows(
    app: Flask, client: FlaskClient, admin: Person, org: Organisation
) -> None:
    worker = make_person(Role.CASEWORKER, org)
    _admin_resets(app, admin, worker, password=False)
    assert [e.obj_id for e in events("admin.two_factor_reset")] == [worker.user.public_id]

    response = form_post(
        client, "/auth/sign-in", {"email": worker.email, "password": worker.password}
    )
    assert response.headers["Location"].endswith("/auth/enrol")
    html = client.get("/auth/enrol").get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(User, worker.user.id)
    assert stored is not None and stored.totp_secret
    worker.totp_secret = stored.totp_secret
    response = client.post(
        "/auth/enrol", data={"code": next_totp(worker), "csrf_token": csrf_from(html)}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert TWO_FACTOR_NOTICE in page and PASSWORD_NOTICE not in page
    assert events("auth.admin_reset_notice_shown")[0].detail == {"resets": ["two_factor"]}
    later = client.get("/auth/account").get_data(as_text=True)
    assert TWO_FACTOR_NOTICE not in later and "Two-factor sign-in reset: " in later
    db.session.expire_all()
    stored = db.session.get(User, worker.user.id)
    assert stored is not None and stored.two_factor_reset_by_admin_at is None


def test_item10_account_page_says_when_no_admin_ever_reset_it(
    client: FlaskClient, org: Organisation
) -> None:
    worker = make_person(Role.CASEWORKER, org)
    sign_in(client, worker)
    page = client.get("/auth/account").get_data(as_text=True)
    assert "An administrator has never reset your password or two-factor sign-in." in page
