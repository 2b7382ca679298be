"""Hardening: request ids, decryption failures in the audit trail, private database files."""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from referral import create_app
from referral.audit.models import AuditEvent
from referral.cases import services as cases
from referral.cases.models import ActionItem, Case, FollowUp
from referral.db import OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.lifecycle import keys
from referral.referrals import services as engine
from referral.referrals.models import Consent, Need, Referral, ReferralTransition
from referral.security.crypto import Binding, DecryptionError, current_keyring
from tests.conftest import csrf_from, sign_in
from tests.factories import (
    Person,
    make_organisation,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)


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


# --- item 8: child rows bound to their owner record --------------------------------------


@dataclass
class CaseFile:
    """Case A with a child row of every kind holding an encrypted field, and case B."""

    victim: tuple[int, str]  # (id, public id)
    other: tuple[int, str]
    rows: list[tuple[type, int, str, str]]  # (model, id, field, plaintext)


@pytest.fixture
def case_file(caseworker: Person) -> CaseFile:
    actor = caseworker.user
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    health = make_service(clinic, Sector.HEALTH)
    publish_pathway(actor, [health])
    victim = open_case(actor, name="Victim name")
    other = open_case(actor, name="Other name")
    follow_up = cases.add_follow_up(victim, "Canary follow-up", actor=actor)
    item = cases.add_action_item(victim, Need.HEALTH, "Canary goal", None, actor=actor)
    consent = referral_consent(victim, actor, health)
    referral = cases.refer(
        victim, request(health, note="Canary note"), consent=consent, actor=actor
    )
    db.session.commit()
    engine.withdraw_consent(consent, actor=actor, reason="Canary reason")
    db.session.commit()
    [transition] = [t for t in referral.transitions if t.reason]
    return CaseFile(
        (victim.id, victim.public_id),
        (other.id, other.public_id),
        [
            (FollowUp, follow_up.id, "note", "Canary follow-up"),
            (ActionItem, item.id, "goal", "Canary goal"),
            (Consent, consent.id, "withdrawal_reason", "Canary reason"),
            (Referral, referral.id, "note", "Canary note"),
            (ReferralTransition, transition.id, "reason", "Consent withdrawn: Canary reason"),
        ],
    )


def _move(case_file: CaseFile, to: tuple[int, str]) -> None:
    """What a database write can do: re-point the child rows at another case."""
    ids = {model: row_id for model, row_id, _, _ in case_file.rows}
    moves = (
        ("UPDATE case_follow_ups SET case_id = :case WHERE id = :id", FollowUp),
        ("UPDATE case_action_items SET case_id = :case WHERE id = :id", ActionItem),
        ("UPDATE consents SET source_public_id = :pid WHERE id = :id", Consent),
        ("UPDATE referrals SET source_public_id = :pid WHERE id = :id", Referral),
    )
    for statement, model in moves:
        db.session.execute(sa.text(statement), {"case": to[0], "pid": to[1], "id": ids[model]})
    db.session.commit()
    db.session.expunge_all()


def _read(model: type, row_id: int, field: str) -> str | None:
    row = db.session.get(model, row_id)
    assert row is not None
    return getattr(row, field)


def test_item8_child_rows_moved_to_another_case_fail_to_decrypt(
    app: Flask, case_file: CaseFile
) -> None:
    """Follow-ups, action items, consents, referrals and their transitions are bound to
    their case as well as to their row: re-pointed at another case by a database write,
    none of them decrypts (each failure audited); pointed back, they read again."""
    _move(case_file, to=case_file.other)
    for model, row_id, field, _plaintext in case_file.rows:
        with pytest.raises(DecryptionError):
            _read(model, row_id, field)
        db.session.rollback()
    db.session.commit()  # the failures that survive the rollbacks
    failed = {(e.obj_type, e.detail["column"]) for e in _events("crypto.decryption_failed")}
    assert failed == {
        ("case_follow_ups", "note"),
        ("case_action_items", "goal"),
        ("consents", "withdrawal_reason"),
        ("referrals", "note"),
        ("referral_transitions", "reason"),
    }

    _move(case_file, to=case_file.victim)
    for model, row_id, field, plaintext in case_file.rows:
        assert _read(model, row_id, field) == plaintext


def test_item8_migration_binds_existing_values_to_their_owner(
    app: Flask, case_file: CaseFile
) -> None:
    """Migration 0019 re-seals values written before owners were bound (its downgrade
    writes them back that way): they read as before, and then a move breaks them."""
    keyring = current_keyring()
    db.session.remove()
    downgrade(revision="0018")
    try:
        for model, row_id, field, plaintext in case_file.rows:
            table = model.__table__  # type: ignore[attr-defined]
            public_id, sealed = db.session.execute(
                sa.select(table.c.public_id, table.c[field]).where(table.c.id == row_id)
            ).one()
            unowned = Binding(table.name, field, public_id)
            resolve = functools.partial(keys.resolve_in, db.session(), keyring)
            opened = keyring.open(sealed, unowned, data_keys=resolve)
            assert opened.decode() == plaintext  # the form written before owners were bound
        db.session.remove()
    finally:
        upgrade()
    for model, row_id, field, plaintext in case_file.rows:
        assert _read(model, row_id, field) == plaintext
    assert _read(Case, case_file.victim[0], "name") == "Victim name"
    report = keys.check_values(db.session(), keyring, db.metadata)
    assert report.failures == [] and report.opened >= len(case_file.rows) + 2
    assert keys.bind_values_to_owners(db.session(), keyring, db.metadata).rebound == 0

    _move(case_file, to=case_file.other)
    for model, row_id, field, _plaintext in case_file.rows:
        with pytest.raises(DecryptionError):
            _read(model, row_id, field)
        db.session.rollback()
