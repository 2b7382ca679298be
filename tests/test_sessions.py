"""Session lifetime and server-side revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from referral import clock
from referral.admin import services as admin_services
from referral.audit.models import AuditEvent
from referral.db import AuthSession, Organisation, User
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import form_post, next_totp, reauth, sign_in
from tests.factories import Person, make_organisation, make_person


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_session_cookie_is_http_only_and_not_persistent(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    cookie = client.get_cookie("referral_session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.expires is None  # no remember-me: the cookie dies with the browser


def test_new_session_on_sign_in(client: FlaskClient, admin: Person) -> None:
    """Session fixation: nothing of the session before sign-in survives it."""
    client.get("/auth/sign-in")
    before = client.get_cookie("referral_session")
    assert before is not None
    sign_in(client, admin)
    after = client.get_cookie("referral_session")
    assert after is not None and after.value != before.value

    # An attacker who planted the pre-sign-in cookie gains nothing.
    attacker = client.application.test_client()
    attacker.set_cookie("referral_session", before.value)
    assert not is_signed_in(attacker)


def test_signed_in_pages_do_not_read_the_password_hash_or_second_factor_secret(
    client: FlaskClient, caseworker: Person
) -> None:
    """Every request loads the session's user; their password hash and TOTP secret stay
    in the database unless a page needs them (sign-in, password change)."""
    sign_in(client, caseworker)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for page in ("/", "/cases/", "/go", "/auth/account"):
            assert client.get(page).status_code == 200, page
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    read = " ".join(statements)
    assert "auth_sessions" in read
    for secret in ("password_hash", "totp_secret", "totp_last_step"):
        assert secret not in read, secret


def test_idle_timeout(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    clock.advance(timedelta(minutes=19))
    assert is_signed_in(client)
    clock.advance(timedelta(minutes=19))
    assert is_signed_in(client)  # activity keeps the session alive
    clock.advance(timedelta(minutes=20))
    response = client.get("/")
    assert response.status_code == 302
    assert "Your session expired" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_absolute_timeout_even_when_active(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    for _ in range(9 * 4):  # 9 hours of activity every 15 minutes
        clock.advance(timedelta(minutes=15))
        assert is_signed_in(client)
    clock.advance(timedelta(minutes=61))
    assert not is_signed_in(client)


def test_sign_out_is_post_only_and_ends_the_server_session(
    client: FlaskClient, admin: Person
) -> None:
    sign_in(client, admin)
    assert client.get("/auth/sign-out").status_code == 405
    stolen = client.get_cookie("referral_session")
    assert stolen is not None
    form_post(client, "/auth/sign-out", {}, page="/auth/account")
    assert not is_signed_in(client)

    # A copy of the cookie taken before sign-out no longer works.
    thief = client.application.test_client()
    thief.set_cookie("referral_session", stolen.value)
    assert not is_signed_in(thief)
    assert db.session.query(AuthSession).filter(AuthSession.ended_at.is_(None)).count() == 0


def _two_sessions(app: Flask, person: Person) -> tuple[FlaskClient, FlaskClient]:
    first, second = app.test_client(), app.test_client()
    sign_in(first, person)
    sign_in(second, person)
    assert is_signed_in(first) and is_signed_in(second)
    return first, second


def test_sign_out_everywhere_ends_every_session(app: Flask, admin: Person) -> None:
    first, second = _two_sessions(app, admin)
    refused = form_post(first, "/auth/sign-out-everywhere", {}, page="/auth/account")
    assert refused.status_code == 400 and is_signed_in(first) and is_signed_in(second)
    form_post(
        first,
        "/auth/sign-out-everywhere",
        {"everywhere-confirm": "y", **reauth(admin, "everywhere")},
        page="/auth/account",
    )
    assert not is_signed_in(first)
    assert not is_signed_in(second)


def test_password_change_ends_every_session(app: Flask, admin: Person) -> None:
    first, second = _two_sessions(app, admin)
    new = "amber tractor whistles nightly"
    response = form_post(
        first,
        "/auth/account/password",
        {**reauth(admin), "password": new, "confirm": new},
        page="/auth/account",
    )
    assert response.status_code == 302
    assert not is_signed_in(first)
    assert not is_signed_in(second)


def test_password_change_needs_the_current_password(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    new = "amber tractor whistles nightly"
    response = form_post(
        client,
        "/auth/account/password",
        {**reauth(admin), "current": "wrong", "password": new, "confirm": new},
        page="/auth/account",
    )
    assert response.status_code == 400
    assert "password or the authenticator code is not correct" in response.get_data(as_text=True)
    assert is_signed_in(client)


Change = Callable[[User, User, Organisation], None]


def _change_role(user: User, actor: User, other: Organisation) -> None:
    admin_services.update_user(
        user,
        admin_services.UserData(user.email, user.full_name, Role.SUPERVISOR, user.organisation),
        actor=actor,
    )


def _change_organisation(user: User, actor: User, other: Organisation) -> None:
    admin_services.update_user(
        user, admin_services.UserData(user.email, user.full_name, user.role, other), actor=actor
    )


def _deactivate(user: User, actor: User, other: Organisation) -> None:
    admin_services.update_user(
        user,
        admin_services.UserData(user.email, user.full_name, user.role, user.organisation, False),
        actor=actor,
    )


def _reset_password(user: User, actor: User, other: Organisation) -> None:
    admin_services.reset_password(user, actor=actor)


def _reset_two_factor(user: User, actor: User, other: Organisation) -> None:
    admin_services.reset_two_factor(user, actor=actor)


@pytest.mark.parametrize(
    "change",
    [_change_role, _change_organisation, _deactivate, _reset_password, _reset_two_factor],
    ids=["role", "organisation", "deactivation", "password-reset", "2fa-reset"],
)
def test_admin_changes_revoke_sessions(
    app: Flask, admin: Person, org: Organisation, change: Change
) -> None:
    worker = make_person(Role.CASEWORKER, org)
    other = make_organisation("LLAN")
    first, second = _two_sessions(app, worker)
    change(db.session.merge(worker.user), admin.user, other)
    db.session.commit()
    assert not is_signed_in(first)
    assert not is_signed_in(second)


def test_deactivated_organisation_ends_its_users_sessions(
    app: Flask, admin: Person, org: Organisation
) -> None:
    other = make_organisation("LLAN")
    worker = make_person(Role.CASEWORKER, other)
    client = app.test_client()
    sign_in(client, worker)
    admin_services.update_organisation(
        other,
        admin_services.OrganisationData(
            other.name, other.acronym, other.org_type, other.provides_services, "UTC", False
        ),
        actor=admin.user,
    )
    db.session.commit()
    assert not is_signed_in(client)


# --- re-authentication before sensitive changes ------------------------------------------

REAUTHENTICATED = {
    "new recovery codes": ("/auth/account/recovery-codes", "codes", {"codes-confirm": "y"}),
    "sign out everywhere": ("/auth/sign-out-everywhere", "everywhere", {"everywhere-confirm": "y"}),
    "password change": (
        "/auth/account/password",
        "",
        {"password": "amber tractor whistles nightly", "confirm": "amber tractor whistles nightly"},
    ),
}


@pytest.mark.parametrize("action", list(REAUTHENTICATED))
def test_item4_stolen_session_cannot_make_sensitive_changes_without_password_and_code(
    client: FlaskClient, admin: Person, action: str
) -> None:
    """A session cookie alone (a stolen laptop, a copied cookie) cannot replace recovery
    codes, change the password or sign the owner out everywhere: the password and a
    current authenticator code are asked again, and a wrong answer is audited."""
    url, prefix, data = REAUTHENTICATED[action]
    sign_in(client, admin)
    before = _account_state(admin)
    dash = f"{prefix}-" if prefix else ""
    attempts: tuple[dict[str, str], ...] = (
        {},  # the session alone
        {f"{dash}current": admin.password, f"{dash}code": "000000"},  # password, wrong code
        {f"{dash}current": "guessed password", f"{dash}code": next_totp(admin)},
    )
    for extra in attempts:
        response = form_post(client, url, {**data, **extra}, page="/auth/account")
        assert response.status_code == 400, (action, extra)
        assert is_signed_in(client) and _account_state(admin) == before
    failures = _audit("auth.reauthentication_failed")
    assert [f.outcome for f in failures] == ["denied", "denied"]
    assert {f.detail["reason"] for f in failures} == {"code", "password"}

    response = form_post(client, url, {**data, **reauth(admin, prefix)}, page="/auth/account")
    # new recovery codes are shown on the answer itself; the others redirect
    assert response.status_code == (200 if action == "new recovery codes" else 302)
    assert _account_state(admin) != before


@pytest.mark.parametrize("action", ["reset-password", "reset-2fa"])
def test_item4_admin_resets_need_the_admins_password_and_code(
    client: FlaskClient, admin: Person, org: Organisation, action: str
) -> None:
    """A stolen administrator session cannot take over another account by resetting it."""
    worker = make_person(Role.CASEWORKER, org)
    page = f"/admin/users/{worker.user.public_id}"
    sign_in(client, admin)
    before = _account_state(worker)
    refused = form_post(client, f"{page}/{action}", {f"{action}-confirm": "y"}, page=page)
    assert refused.status_code == 400 and _account_state(worker) == before
    wrong = {f"{action}-current": admin.password, f"{action}-code": "123456"}
    refused = form_post(client, f"{page}/{action}", {f"{action}-confirm": "y", **wrong}, page=page)
    assert refused.status_code == 400 and _account_state(worker) == before
    assert _audit("auth.reauthentication_failed")[0].detail["purpose"] in (
        "reset_password",
        "reset_two_factor",
    )
    done = form_post(
        client, f"{page}/{action}", {f"{action}-confirm": "y", **reauth(admin, action)}, page=page
    )
    # a new one-time password is shown on the answer itself; a 2FA reset redirects
    assert done.status_code == (200 if action == "reset-password" else 302)
    assert _account_state(worker) != before


def test_item4_failed_reauthentication_is_throttled(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    wrong = {"codes-confirm": "y", "codes-current": admin.password, "codes-code": "000000"}
    statuses = [
        form_post(client, "/auth/account/recovery-codes", wrong, page="/auth/account").status_code
        for _ in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    right = {"codes-confirm": "y", **reauth(admin, "codes")}
    response = form_post(client, "/auth/account/recovery-codes", right, page="/auth/account")
    assert response.status_code == 429  # even the right answer waits


def _account_state(person: Person) -> tuple[object, ...]:
    db.session.expire_all()
    user = db.session.get(User, person.user.id)
    assert user is not None
    return (
        user.password_hash,
        user.session_version,
        user.totp_enrolled_at,
        sorted(code.code_hash for code in user.recovery_codes),
    )


def _audit(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )
