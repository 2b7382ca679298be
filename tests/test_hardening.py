"""Hardening: request ids, decryption failures in the audit trail, private database files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral import create_app
from referral.audit.models import AuditEvent
from referral.db import Organisation
from referral.extensions import db
from referral.security.policy import Role
from tests.casehelpers import open_case
from tests.conftest import Person, csrf_from, make_person, sign_in


@pytest.fixture
def caseworker(org: Organisation) -> Person:
    return make_person(Role.CASEWORKER, org)


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("5f0c6a8e-8d2b-4c1e-9a57-3b2f1d0e4c6a", True),  # a UUID
        ("Root=1-67891233-abcdef012345678912345678", True),  # an AWS-style trace id
        ("0123456789abcdef", True),
        ("abc", False),  # too short
        ("x" * 65, False),  # too long
        ("has spaces in it", False),
        ('"><script>alert(1)</script>', False),
        ("id;rm -rf /tmp/x", False),
        ("-starts-with-a-dash", False),
    ],
)
def test_item9_client_request_id_is_validated_or_replaced(
    client: FlaskClient, caseworker: Person, given: str, kept: bool
) -> None:
    """A proxy's X-Request-ID is kept only if it looks like an id (letters, digits and
    ._:+/=-, 8 to 64 characters); otherwise the request gets a random one, in the
    response header and in the audit trail alike."""
    page = client.get("/auth/sign-in", headers={"X-Request-ID": given})
    answered = page.headers["X-Request-ID"]
    assert (answered == given) is kept
    if not kept:
        assert len(answered) == 16 and int(answered, 16) >= 0
    response = client.post(
        "/auth/sign-in",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": caseworker.email,
            "password": "not the password",
        },
        headers={"X-Request-ID": given},
    )
    assert response.status_code == 401
    [failed] = _events("auth.sign_in_failed")
    assert failed.request_id == response.headers["X-Request-ID"]
    assert (failed.request_id == given) is kept


def test_item9_decryption_failure_is_an_audit_event(app: Flask, caseworker: Person) -> None:
    """A sensitive field that does not open (tampered, moved, lost key) is a 500 page and
    an audit event naming the record and column (never a value)."""
    case = open_case(caseworker.user, name="Canary Tampered")
    raw = bytearray(
        db.session.execute(
            sa.text("SELECT name FROM cases WHERE id = :id"), {"id": case.id}
        ).scalar_one()
    )
    raw[-1] ^= 0x01  # one bit of the tag
    db.session.execute(
        sa.text("UPDATE cases SET name = :v WHERE id = :id"), {"v": bytes(raw), "id": case.id}
    )
    db.session.commit()
    client = app.test_client()
    sign_in(client, caseworker)
    response = client.get(f"/cases/{case.public_id}/details")
    assert response.status_code == 500
    assert "Canary" not in response.get_data(as_text=True)
    failures = _events("crypto.decryption_failed")
    assert len(failures) == 1
    failure = failures[0]
    assert (failure.outcome, failure.obj_type, failure.obj_id) == ("error", "cases", case.public_id)
    assert failure.detail["column"] == "name"
    assert failure.actor_id == caseworker.user.id
    assert "Canary" not in str(failure.detail)


def test_item9_sqlite_database_files_are_created_private(tmp_path: Path) -> None:
    """The SQLite file, and its -wal and -shm files, are readable by the app's user alone
    whatever the umask; so is a backup."""
    from referral.lifecycle.backup import backup

    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "fresh" / "referral.sqlite"
        app = create_app({"DATABASE_URL": f"sqlite:///{path}"}, testing=True)
        with app.app_context():
            db.session.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            db.session.execute(sa.text("INSERT INTO probe (id) VALUES (1)"))
            db.session.commit()
            files = sorted(path.parent.glob("referral.sqlite*"))
            assert {f.name for f in files} >= {"referral.sqlite", "referral.sqlite-wal"}
            for file in files:
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
            copy = backup(db.engine, tmp_path / "backup.sqlite")
            assert stat.S_IMODE(copy.stat().st_mode) == 0o600
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(old_umask)
