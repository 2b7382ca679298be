"""Sign-in, second factor, passwords and throttling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import clock
from referral.admin import services as admin_services
from referral.audit.models import AuditEvent
from referral.db import Organisation, User
from referral.extensions import db, limiter
from referral.security import passwords, totp
from referral.security.policy import Role
from tests.conftest import csrf_from, form_post, next_totp, sign_in
from tests.factories import PASSWORD, Person, make_person


def post_credentials(client: FlaskClient, email: str, password: str) -> tuple[int, str]:
    response = form_post(client, "/auth/sign-in", {"email": email, "password": password})
    return response.status_code, response.get_data(as_text=True)


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: FlaskClient, admin: Person
) -> None:
    wrong = post_credentials(client, admin.email, "not the password at all")
    unknown = post_credentials(client, "nobody@example.org", "not the password at all")
    assert wrong[0] == unknown[0] == 401
    message = "The e-mail or password is not correct."
    assert message in wrong[1] and message in unknown[1]
    # Apart from the echoed e-mail, the pages are identical.
    assert wrong[1].replace(admin.email, "X").count("error") == unknown[1].replace(
        "nobody@example.org", "X"
    ).count("error")


def test_unknown_account_costs_an_argon2_verification(
    client: FlaskClient, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No enumeration by timing: both paths run exactly one argon2 verification."""
    calls: list[str] = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    post_credentials(client, "nobody@example.org", "whatever password")
    post_credentials(client, admin.email, "whatever password")
    assert len(calls) == 2
    assert all(h.startswith("$argon2id$") for h in calls)


def test_deactivated_user_cannot_sign_in_and_gets_the_generic_answer(
    client: FlaskClient, admin: Person
) -> None:
    admin.user.active = False
    db.session.commit()
    status, html = post_credentials(client, admin.email, PASSWORD)
    assert status == 401
    assert "The e-mail or password is not correct." in html


def test_account_is_throttled_after_repeated_failures(client: FlaskClient, admin: Person) -> None:
    for _ in range(5):
        assert post_credentials(client, admin.email, "wrong password here")[0] == 401
    # Even the right password is refused while the account waits.
    status, html = post_credentials(client, admin.email, PASSWORD)
    assert status == 429
    assert "Try again in 15 seconds." in html


def test_item5_lockout_is_a_progressive_delay_not_a_lock(
    client: FlaskClient, admin: Person
) -> None:
    """Each further failure doubles the wait (15 s, 30 s, ...) up to 5 minutes; once it has
    passed the owner signs in, however many times someone else tried."""
    for _ in range(5):
        assert post_credentials(client, admin.email, "wrong password here")[0] == 401
    clock.advance(timedelta(seconds=15))
    assert post_credentials(client, admin.email, "wrong again")[0] == 401  # 6th: wait 30 s
    clock.advance(timedelta(seconds=29))
    assert post_credentials(client, admin.email, PASSWORD)[0] == 429
    clock.advance(timedelta(seconds=1))
    for _ in range(10):  # an attacker keeps trying after every delay
        assert post_credentials(client, admin.email, "still wrong")[0] == 401
        clock.advance(timedelta(minutes=5))
    assert post_credentials(client, admin.email, "no")[0] == 401
    assert post_credentials(client, admin.email, PASSWORD)[0] == 429
    clock.advance(timedelta(minutes=5))  # the delay never exceeds 5 minutes
    assert post_credentials(client, admin.email, PASSWORD)[0] == 302
    # The right password cleared the count: one mistake now costs no wait.
    limiter.reset()  # (the per-address limit counts in real time, not the test's clock)
    other = client.application.test_client()
    assert post_credentials(other, admin.email, "typo")[0] == 401
    assert post_credentials(other, admin.email, PASSWORD)[0] == 302


def test_item5_delay_applies_alike_to_unknown_addresses(client: FlaskClient) -> None:
    for _ in range(5):
        assert post_credentials(client, "nobody@example.org", "guess")[0] == 401
    status, html = post_credentials(client, " NOBODY@example.org ", "guess")
    assert status == 429 and "Try again in 15 seconds." in html


def test_item5_lockout_cannot_be_bypassed_with_a_json_body(
    client: FlaskClient, admin: Person
) -> None:
    """Flask-WTF reads a JSON body as form data; the sign-in key must not be read from a
    different place. Non-form bodies are refused at the door."""
    for _ in range(5):
        post_credentials(client, admin.email, "wrong password here")
    token = csrf_from(client.get("/auth/sign-in").get_data(as_text=True))
    response = client.post(
        "/auth/sign-in",
        json={"email": admin.email, "password": PASSWORD, "csrf_token": token},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415
    for body, content_type in (("{}", "text/plain"), ("<x/>", "application/xml")):
        response = client.post(
            "/auth/sign-in", data=body, content_type=content_type, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 415


def test_throttling_per_account_does_not_block_other_accounts(
    client: FlaskClient, admin: Person, org: Organisation
) -> None:
    other = make_person(Role.AUDITOR, org)
    for _ in range(5):
        post_credentials(client, admin.email, "wrong password here")
    status, _ = post_credentials(client, other.email, PASSWORD)
    assert status == 302


def test_password_spraying_from_one_address_is_throttled(client: FlaskClient) -> None:
    statuses = [
        post_credentials(client, f"user{i}@example.org", "Summer2026!")[0] for i in range(25)
    ]
    assert statuses[:20] == [401] * 20
    assert 429 in statuses[20:]


def test_successful_password_does_not_count_against_the_account(
    client: FlaskClient, admin: Person
) -> None:
    for _ in range(8):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        assert post_credentials(client, admin.email, PASSWORD)[0] == 302


def test_password_hash_is_upgraded_when_parameters_change(
    client: FlaskClient, admin: Person
) -> None:
    old_hash = admin.user.password_hash
    passwords.configure(time_cost=2, memory_cost=2048, parallelism=1)
    try:
        assert post_credentials(client, admin.email, PASSWORD)[0] == 302
        db.session.expire_all()
        new_hash = db.session.get(User, admin.user.id).password_hash  # type: ignore[union-attr]
        assert new_hash != old_hash and "m=2048,t=2" in new_hash
    finally:
        passwords.configure(time_cost=1, memory_cost=1024, parallelism=1)


def test_totp_code_cannot_be_replayed(client: FlaskClient, admin: Person) -> None:
    post_credentials(client, admin.email, PASSWORD)
    code = next_totp(admin)
    assert form_post(client, "/auth/verify", {"code": code}).status_code == 302
    form_post(client, "/auth/sign-out", {}, page="/auth/account")

    post_credentials(client, admin.email, PASSWORD)
    replay = form_post(client, "/auth/verify", {"code": code})
    assert replay.status_code == 401
    assert "already used" in replay.get_data(as_text=True)


def test_totp_code_from_an_earlier_step_is_refused_after_a_later_one(
    client: FlaskClient, admin: Person
) -> None:
    assert admin.totp_secret
    earlier = totp.code_at(admin.totp_secret, clock.utcnow())
    sign_in(client, admin)  # uses the next step
    form_post(client, "/auth/sign-out", {}, page="/auth/account")
    post_credentials(client, admin.email, PASSWORD)
    assert form_post(client, "/auth/verify", {"code": earlier}).status_code == 401


def test_totp_guessing_is_throttled(client: FlaskClient, admin: Person) -> None:
    post_credentials(client, admin.email, PASSWORD)
    statuses = [
        form_post(client, "/auth/verify", {"code": f"{n:06d}"}).status_code for n in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]


def test_second_factor_page_needs_the_password_step(client: FlaskClient) -> None:
    response = client.get("/auth/verify")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


def test_password_step_alone_does_not_sign_in(client: FlaskClient, admin: Person) -> None:
    post_credentials(client, admin.email, PASSWORD)
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


def _enrol(client: FlaskClient, person: Person) -> list[str]:
    """First sign-in of a user without TOTP: returns the recovery codes shown."""
    post_credentials(client, person.email, PASSWORD)
    db.session.expire_all()
    html = client.get("/auth/enrol").get_data(as_text=True)
    secret = db.session.get(User, person.user.id).totp_secret  # type: ignore[union-attr]
    assert secret and secret in html
    person.totp_secret = secret
    response = client.post(
        "/auth/enrol", data={"code": next_totp(person), "csrf_token": csrf_from(html)}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    codes = re.findall(r"<code>([0-9a-f-]{24})</code>", page)
    assert len(codes) == totp.RECOVERY_CODE_COUNT
    return codes


def test_enrolment_is_required_and_stores_hashed_recovery_codes(
    client: FlaskClient, org: Organisation
) -> None:
    person = make_person(Role.CASEWORKER, org, enrolled=False)
    status, _ = post_credentials(client, person.email, PASSWORD)
    assert status == 302
    assert client.get("/", follow_redirects=False).status_code == 302

    codes = _enrol(client, person)
    assert client.get("/").status_code == 200

    db.session.expire_all()
    stored = db.session.get(User, person.user.id)
    assert stored is not None and stored.has_totp
    hashes = {code.code_hash for code in stored.recovery_codes}
    assert len(hashes) == 10
    assert not any(code in h for code in codes for h in hashes)
    assert {totp.hash_recovery_code(c) for c in codes} == hashes


def test_wrong_enrolment_code_is_refused(client: FlaskClient, org: Organisation) -> None:
    person = make_person(Role.CASEWORKER, org, enrolled=False)
    post_credentials(client, person.email, PASSWORD)
    response = form_post(client, "/auth/enrol", {"code": "000000"})
    assert response.status_code == 401
    assert "not right" in response.get_data(as_text=True)


def test_recovery_code_works_once(client: FlaskClient, org: Organisation) -> None:
    person = make_person(Role.CASEWORKER, org, enrolled=False)
    codes = _enrol(client, person)
    form_post(client, "/auth/sign-out", {}, page="/auth/account")

    post_credentials(client, person.email, PASSWORD)
    assert form_post(client, "/auth/verify", {"code": codes[0].upper()}).status_code == 302
    form_post(client, "/auth/sign-out", {}, page="/auth/account")

    post_credentials(client, person.email, PASSWORD)
    assert form_post(client, "/auth/verify", {"code": codes[0]}).status_code == 401
    assert form_post(client, "/auth/verify", {"code": codes[1]}).status_code == 302


def test_new_user_must_change_the_one_time_password_first(
    client: FlaskClient, org: Organisation
) -> None:
    person = make_person(Role.CASEWORKER, org, must_change_password=True)
    response = form_post(client, "/auth/sign-in", {"email": person.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/auth/first-password")
    # The second factor is not reachable before the password is changed.
    assert client.get("/auth/verify").headers["Location"].endswith("/auth/first-password")

    weak = form_post(
        client, "/auth/first-password", {"password": "password123", "confirm": "password123"}
    )
    assert weak.status_code == 400
    assert "at least 12 characters" in weak.get_data(as_text=True)

    guessable = "password1234"
    weak = form_post(client, "/auth/first-password", {"password": guessable, "confirm": guessable})
    assert weak.status_code == 400
    assert "too easy to guess" in weak.get_data(as_text=True)

    same = form_post(client, "/auth/first-password", {"password": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 400
    assert "different from the current one" in same.get_data(as_text=True)

    strong = "violet harbour seventeen kites"
    mismatch = form_post(
        client, "/auth/first-password", {"password": strong, "confirm": strong + "x"}
    )
    assert mismatch.status_code == 400

    done = form_post(client, "/auth/first-password", {"password": strong, "confirm": strong})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/verify")
    db.session.expire_all()
    stored = db.session.get(User, person.user.id)
    assert stored is not None and not stored.must_change_password
    assert passwords.verify_password(stored.password_hash, strong)


def test_sign_in_keeps_a_safe_next_and_drops_an_open_redirect(
    client: FlaskClient, admin: Person
) -> None:
    html = client.get("/auth/sign-in?next=/admin/users").get_data(as_text=True)
    client.post(
        "/auth/sign-in?next=/admin/users",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_from(html)},
    )
    response = form_post(client, "/auth/verify", {"code": next_totp(admin)})
    assert response.headers["Location"] == "/admin/users"
    form_post(client, "/auth/sign-out", {}, page="/auth/account")

    for hostile in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:x"):
        html = client.get("/auth/sign-in").get_data(as_text=True)
        client.post(
            f"/auth/sign-in?next={hostile}",
            data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_from(html)},
        )
        response = form_post(client, "/auth/verify", {"code": next_totp(admin)})
        assert response.headers["Location"] == "/", hostile
        form_post(client, "/auth/sign-out", {}, page="/auth/account")


def test_pending_sign_in_expires(client: FlaskClient, admin: Person) -> None:
    post_credentials(client, admin.email, PASSWORD)
    token = csrf_from(client.get("/auth/verify").get_data(as_text=True))
    clock.advance(timedelta(minutes=11))
    response = client.post("/auth/verify", data={"code": next_totp(admin), "csrf_token": token})
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {"email": "", "password": ""},
        {"email": "a@example.org"},
        {"password": "x"},
        {"email": "a" * 300 + "@example.org", "password": "x"},
        {"email": "a@example.org", "password": "x" * 300},
        {"email": "a\x01@example.org", "password": "x"},
    ],
)
def test_bad_sign_in_input_is_a_field_error(client: FlaskClient, data: dict[str, str]) -> None:
    response = form_post(client, "/auth/sign-in", data)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("", 400),  # a form error: the field is required
        ("1" * 41, 400),  # longer than any code
        ("abc\x00def", 400),  # NUL refused at the door
        ("12345", 401),  # well-formed but wrong: a failed attempt
        ("<script>", 401),
    ],
)
def test_bad_second_factor_input_is_refused(
    client: FlaskClient, admin: Person, code: str, status: int
) -> None:
    post_credentials(client, admin.email, PASSWORD)
    response = form_post(client, "/auth/verify", {"code": code})
    assert response.status_code == status
    assert "<script>" not in response.get_data(as_text=True)


def test_item6_one_time_password_expires_after_the_configured_hours(
    client: FlaskClient, app: Flask, admin: Person, org: Organisation
) -> None:
    """A one-time password an administrator sets (new user, reset) works for
    ONE_TIME_PASSWORD_HOURS; after that the right password is refused, saying why, and
    the refusal is audited; a reset gives a fresh one."""
    app.config["ONE_TIME_PASSWORD_HOURS"] = 2
    try:
        data = admin_services.UserData(
            email="new.worker@example.org",
            full_name="New Worker",
            role=Role.CASEWORKER,
            organisation=org,
        )
        user, one_time = admin_services.create_user(data, actor=admin.user)
        db.session.commit()
        assert user.one_time_password_expires_at == clock.utcnow() + timedelta(hours=2)

        clock.advance(timedelta(hours=1, minutes=59))
        response = form_post(client, "/auth/sign-in", {"email": user.email, "password": one_time})
        assert response.headers["Location"].endswith("/auth/first-password")

        clock.advance(timedelta(minutes=1))
        status, page = post_credentials(app.test_client(), user.email, one_time)
        assert status == 401 and "one-time password has expired" in page
        refusal = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "auth.sign_in_failed")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert refusal is not None and refusal.detail == {"reason": "one_time_password_expired"}
        status, page = post_credentials(app.test_client(), user.email, "a wrong password!")
        assert status == 401 and "expired" not in page  # a guess learns nothing

        fresh = admin_services.reset_password(user, actor=admin.user)
        db.session.commit()
        response = form_post(
            app.test_client(), "/auth/sign-in", {"email": user.email, "password": fresh}
        )
        assert response.headers["Location"].endswith("/auth/first-password")
    finally:
        app.config["ONE_TIME_PASSWORD_HOURS"] = 72
