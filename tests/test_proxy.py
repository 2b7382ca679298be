"""Behind a reverse proxy: the client address and scheme come from the headers of the
trusted proxies only (PROXY_COUNT), for sign-in throttling and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.audit.models import AuditEvent
from referral.extensions import db, limiter
from tests.conftest import csrf_from, make_app
from tests.factories import Person

PROXY = "10.0.0.2"


@pytest.fixture
def proxied_app(database_url: str, app: Flask) -> Iterator[Flask]:
    """The application configured for one trusted proxy, on the test database."""
    application = make_app(database_url, PROXY_COUNT=1)
    with application.app_context():
        limiter.reset()
        yield application
    db.session.remove()


def failed_sign_in(client: FlaskClient, email: str, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    environ = {"REMOTE_ADDR": PROXY}
    html = client.get("/auth/sign-in", headers=headers, environ_base=environ).get_data(as_text=True)
    return int(
        client.post(
            "/auth/sign-in",
            data={"email": email, "password": "not the password", "csrf_token": csrf_from(html)},
            headers=headers,
            environ_base=environ,
        ).status_code
    )


def test_item2_trusted_proxy_gives_each_client_its_own_sign_in_bucket(
    proxied_app: Flask,
) -> None:
    """One client spraying sign-ins through the proxy is throttled; another is not."""
    client = proxied_app.test_client()
    statuses = [failed_sign_in(client, f"u{i}@example.org", "198.51.100.1") for i in range(22)]
    assert 429 in statuses
    assert failed_sign_in(client, "other@example.org", "198.51.100.2") == 401


def test_item2_audit_records_the_client_the_proxy_names(proxied_app: Flask, admin: Person) -> None:
    client = proxied_app.test_client()
    # A client-written entry before the proxy's own one is ignored.
    failed_sign_in(client, admin.email, "6.6.6.6, 198.51.100.9")
    db.session.expire_all()
    addresses = db.session.scalars(
        select(AuditEvent.client_address).where(AuditEvent.action == "auth.sign_in_failed")
    ).all()
    assert addresses == ["198.51.100.9"]


def test_item2_https_scheme_from_the_trusted_proxy(proxied_app: Flask) -> None:
    client = proxied_app.test_client()
    response = client.get(
        "/auth/sign-in",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_item2_without_a_trusted_proxy_forwarded_headers_are_ignored(
    client: FlaskClient, admin: Person
) -> None:
    """PROXY_COUNT=0: a client cannot choose its address to escape throttling or to
    forge the audit trail, nor claim HTTPS."""
    statuses = [failed_sign_in(client, f"u{i}@example.org", f"198.51.100.{i}") for i in range(22)]
    assert 429 in statuses
    db.session.expire_all()
    addresses = set(db.session.scalars(select(AuditEvent.client_address)).all())
    assert addresses == {PROXY}
    response = client.get("/auth/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
