"""The audit trail on the real application, on SQLite and (``--db postgresql``) PostgreSQL:
encrypted TOTP secrets (R2), key rotation, the append-only hash-chained audit trail,
what is recorded, the CLI and the viewer (R25)."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import secrets
import threading
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from referral.audit import record
from referral.audit.models import (
    AuditChainHead,
    AuditEvent,
)
from referral.audit.services import verify_chain
from referral.db import Organisation, User
from referral.db.work import finish_request
from referral.extensions import db
from referral.security.crypto import (
    KEYRING_EXTENSION,
    DecryptionError,
    KeyRing,
    Sealed,
    generate_key_entry,
    rotate_keys,
)
from referral.security.policy import Role
from tests.conftest import csrf_from, form_post, next_totp, reauth, sign_in
from tests.factories import PASSWORD, Person, make_person


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def raw_connection_scalar(sql: str, **params: Any) -> Any:
    with db.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


# --- encryption at rest -------------------------------------------------------------------


def _database_bytes(app: Flask) -> bytes:
    """Everything the database holds for the users table, as an attacker would read it."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = Path(engine.url.database or "")
        out = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        return out + (wal.read_bytes() if wal.exists() else b"")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT t::text FROM users t")).scalars().all()
        dump = (
            connection.execute(
                text(
                    "SELECT encode(totp_secret, 'escape') FROM users WHERE totp_secret IS NOT NULL"
                )
            )
            .scalars()
            .all()
        )
    return ("\n".join(rows) + "\n".join(dump)).encode()


def test_canary_totp_secret_not_in_database(app: Flask, org: Organisation) -> None:
    """R2: a planted canary in an encrypted field appears nowhere in the stored data."""
    canary = "CANARYCANARY" + secrets.token_hex(6).upper()
    person = make_person(Role.CASEWORKER, org)
    person.user.totp_secret = canary
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, person.user.id).totp_secret == canary  # type: ignore[union-attr]
    stored = _database_bytes(app)
    assert canary.encode() not in stored
    assert person.user.public_id.encode() in stored  # the search itself works


def test_totp_secret_moved_to_other_row_fails(org: Organisation, caseworker: Person) -> None:
    """R2: a ciphertext copied to another user's row does not decrypt (row binding)."""
    other = make_person(Role.SUPERVISOR, org)
    users = cast(sa.Table, User.__table__)
    sealed = db.session.execute(
        select(users.c.totp_secret).where(users.c.id == caseworker.user.id)
    ).scalar_one()
    db.session.execute(
        sa.update(users).where(users.c.id == other.user.id).values(totp_secret=sealed)
    )
    db.session.commit()
    db.session.expire_all()
    assert caseworker.user.totp_secret == caseworker.totp_secret
    with pytest.raises(DecryptionError):
        _ = other.user.totp_secret


def test_decryption_failure_is_reported(
    caseworker: Person, caplog: pytest.LogCaptureFixture
) -> None:
    """R2: a tampered value raises and is logged; it never reads as empty."""
    users = cast(sa.Table, User.__table__)
    sealed = db.session.execute(
        select(users.c.totp_secret).where(users.c.id == caseworker.user.id)
    ).scalar_one()
    tampered = bytearray(sealed.raw)
    tampered[-1] ^= 0xFF
    db.session.execute(
        sa.update(users)
        .where(users.c.id == caseworker.user.id)
        .values(totp_secret=Sealed(bytes(tampered)))
    )
    db.session.commit()
    db.session.expire_all()
    with caplog.at_level(logging.ERROR), pytest.raises(DecryptionError):
        _ = caseworker.user.totp_secret
    assert f"users.totp_secret of {caseworker.user.public_id}" in caplog.text


def test_sign_in_works_with_encrypted_secret(client: FlaskClient, caseworker: Person) -> None:
    sign_in(client, caseworker)
    assert client.get("/").status_code == 200


def test_rotation_interrupted_then_rerun(app: Flask, org: Organisation) -> None:
    """R2: rotating a few thousand values, crashing half way and rerunning loses nothing."""
    n = 2000
    old_ring: KeyRing = app.extensions[KEYRING_EXTENSION]
    secrets_by_email = {f"u{i}@example.org": f"SECRET{i:05d}" for i in range(n)}
    for email, secret in secrets_by_email.items():
        db.session.add(
            User(
                email=email,
                full_name="x",
                role=Role.CASEWORKER,
                organisation=org,
                password_hash="x",
                totp_secret=secret,
            )
        )
    db.session.commit()
    new_entry = generate_key_entry("rotated")
    new_ring = KeyRing([*KeyRing.from_entries([new_entry]).entries, *old_ring.entries])
    app.extensions[KEYRING_EXTENSION] = new_ring
    try:

        class CrashError(Exception):
            pass

        seen = 0

        def crash(count: int) -> None:
            nonlocal seen
            seen += count
            if seen >= n // 2:
                raise CrashError

        with pytest.raises(CrashError):
            rotate_keys(db.session(), new_ring, db.metadata, batch_size=100, progress=crash)
        db.session.rollback()
        first = db.session.execute(
            select(sa.func.count()).select_from(User).where(User.id > 0)
        ).scalar_one()
        assert first == n
        runner = app.test_cli_runner()
        result = runner.invoke(args=["keys", "rotate", "--batch-size", "150"])
        assert result.exit_code == 0, result.output
        assert f"moved from {old_ring.current_key_id}: {n - n // 2}" in result.output
        assert f"already under rotated: {n // 2}" in result.output
        # Only the new key is needed now.
        app.extensions[KEYRING_EXTENSION] = KeyRing.from_entries([new_entry])
        db.session.expire_all()
        for user in db.session.scalars(select(User)):
            assert user.totp_secret == secrets_by_email[user.email]
        again = runner.invoke(args=["keys", "rotate"])
        assert again.exit_code == 0 and "  moved from" not in again.output
        assert events("keys.rotate")
    finally:
        app.extensions[KEYRING_EXTENSION] = old_ring


def test_keys_generate_prints_entry(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "generate", "--id", "k2027"])
    assert result.exit_code == 0
    assert KeyRing.from_entries(result.output.strip()).current_key_id == "k2027"


# --- append-only, hash chain --------------------------------------------------------------


def _some_events(count: int = 5) -> None:
    for i in range(count):
        record("test.event", obj_type="thing", obj_id=f"T{i}", detail={"i": i})
    db.session.commit()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"]
)
def test_database_refuses_update_and_delete(statement: str) -> None:
    _some_events(2)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as c:
        c.execute(text(statement))
    assert len(actions()) == 2


def test_chain_head_cannot_be_deleted() -> None:
    with pytest.raises(sa.exc.DatabaseError), db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_chain_head"))


def _verify_cli(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_verify_intact_chain(app: Flask) -> None:
    _some_events(5)
    result = _verify_cli(app)
    assert result.exit_code == 0, result.output
    assert "intact: 5 events" in result.output


def test_verify_detects_edit(app: Flask, triggers_dropped: None) -> None:
    _some_events(5)
    with db.engine.begin() as c:
        c.execute(text("UPDATE audit_events SET outcome = 'denied' WHERE id = 3"))
    result = _verify_cli(app)
    assert result.exit_code != 0
    assert "broken at event 3" in result.output and "edited" in result.output


def test_verify_detects_deleted_event(app: Flask, triggers_dropped: None) -> None:
    _some_events(5)
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_events WHERE id = 2"))
    result = _verify_cli(app)
    assert result.exit_code != 0
    assert "broken at event 2" in result.output and "missing" in result.output


def test_verify_detects_deleted_tail(app: Flask, triggers_dropped: None) -> None:
    _some_events(5)
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_events WHERE id = 5"))
    result = _verify_cli(app)
    assert result.exit_code != 0
    assert "broken at event 5" in result.output


def test_verify_detects_reordering(app: Flask, triggers_dropped: None) -> None:
    _some_events(5)
    with db.engine.begin() as c:  # swap the ids of events 2 and 3
        c.execute(text("UPDATE audit_events SET id = 1000 WHERE id = 2"))
        c.execute(text("UPDATE audit_events SET id = 2 WHERE id = 3"))
        c.execute(text("UPDATE audit_events SET id = 3 WHERE id = 1000"))
    result = _verify_cli(app)
    assert result.exit_code != 0
    assert "broken at event 2" in result.output


def test_concurrent_appends_keep_one_chain(app: Flask) -> None:
    """Several threads append at once; the chain head lock keeps a single chain."""
    threads_count, per_thread = 8, 15
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with app.app_context():
                for i in range(per_thread):
                    record("test.concurrent", obj_id=f"{n}-{i}")
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    result = verify_chain(db.session())
    assert result.ok, result.message()
    assert result.checked == threads_count * per_thread
    head = db.session.get(AuditChainHead, 1)
    assert head is not None and head.last_id == threads_count * per_thread


# --- what is recorded ------------------------------------------------------------------------


def test_failed_change_leaves_no_success_event(app: Flask) -> None:
    record("case.updated", obj_type="case", obj_id="GBV-26-AAAAA")
    record("access.denied", outcome="denied", obj_type="case", obj_id="GBV-26-AAAAA")
    db.session.rollback()
    db.session.commit()
    assert actions() == ["access.denied"]


def test_failed_request_leaves_no_success_event(app: Flask) -> None:
    with app.test_request_context("/x", method="POST"):
        record("case.updated", obj_type="case", obj_id="GBV-26-BBBBB")
        finish_request(500)
    with app.test_request_context("/x", method="GET"):
        record("case.viewed", obj_type="case", obj_id="GBV-26-BBBBB", fields_revealed=["name"])
        finish_request(200)
    assert actions() == ["case.viewed"]
    assert events("case.viewed")[0].fields_revealed == ["name"]


def test_failed_commit_over_http_leaves_no_event(
    signed_in_admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request whose transaction fails writes neither the change nor its event."""
    before = len(actions())
    page = signed_in_admin.get("/admin/organisations/new").get_data(as_text=True)

    def fail(session: Any) -> None:
        raise RuntimeError("database went away")

    sa.event.listen(sa.orm.Session, "before_commit", fail)
    try:
        response = signed_in_admin.post(
            "/admin/organisations/new",
            data={
                "csrf_token": csrf_from(page),
                "name": "New org",
                "acronym": "NEW",
                "org_type": "national_ngo",
                "time_zone": "UTC",
                "active": "y",
            },
        )
        assert response.status_code == 500
    finally:
        sa.event.remove(sa.orm.Session, "before_commit", fail)
    db.session.remove()
    assert "admin.organisation_created" not in actions()[before:]
    assert db.session.scalar(select(Organisation).where(Organisation.acronym == "NEW")) is None


def test_sign_in_events(client: FlaskClient, caseworker: Person) -> None:
    response = form_post(
        client, "/auth/sign-in", {"email": caseworker.email, "password": "wrong password 123"}
    )
    assert response.status_code == 401
    failed = events("auth.sign_in_failed")
    assert failed and failed[0].outcome == "denied"
    assert failed[0].actor_id == caseworker.user.id
    assert "wrong password" not in json.dumps(failed[0].detail)
    assert failed[0].client_address == "127.0.0.1" and failed[0].request_id

    response = form_post(
        client, "/auth/sign-in", {"email": "nobody@example.org", "password": "whatever it is"}
    )
    assert events("auth.sign_in_failed")[-1].actor_id is None

    sign_in(client, caseworker)
    got = actions()
    assert "auth.password_accepted" in got
    assert "auth.totp_verified" in got
    signed = events("auth.sign_in")
    assert signed and signed[0].actor_role == "caseworker"
    assert signed[0].org_id == caseworker.user.organisation_id

    html = client.get("/auth/account").get_data(as_text=True)
    client.post("/auth/sign-out", data={"csrf_token": csrf_from(html)})
    assert events("auth.sign_out")


def test_second_factor_failure_recorded(client: FlaskClient, caseworker: Person) -> None:
    form_post(client, "/auth/sign-in", {"email": caseworker.email, "password": PASSWORD})
    response = form_post(client, "/auth/verify", {"code": "000000"})
    assert response.status_code == 401
    failed = events("auth.second_factor_failed")
    assert failed and failed[0].outcome == "denied"
    code = next_totp(caseworker)
    form_post(client, "/auth/verify", {"code": code})
    assert events("auth.totp_verified")


def test_session_revocation_recorded(client: FlaskClient, caseworker: Person) -> None:
    sign_in(client, caseworker)
    html = client.get("/auth/account").get_data(as_text=True)
    client.post(
        "/auth/sign-out-everywhere",
        data={
            "everywhere-confirm": "y",
            "csrf_token": csrf_from(html),
            **reauth(caseworker, "everywhere"),
        },
    )
    revoked = events("auth.sessions_revoked")
    assert revoked and revoked[0].obj_id == caseworker.user.public_id


def test_permission_denial_recorded(client: FlaskClient, caseworker: Person) -> None:
    sign_in(client, caseworker)
    response = client.get("/audit/")
    assert response.status_code == 403
    denied = events("access.denied")
    assert denied and denied[-1].outcome == "denied"
    assert denied[-1].actor_id == caseworker.user.id
    assert denied[-1].detail["endpoint"] == "audit.index"


def test_admin_changes_recorded(signed_in_admin: FlaskClient, org: Organisation) -> None:
    response = form_post(
        signed_in_admin,
        "/admin/organisations/new",
        {
            "name": "Lutheran World",
            "acronym": "LWX",
            "org_type": "international_ngo",
            "time_zone": "UTC",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    created = events("admin.organisation_created")
    assert created and created[0].obj_type == "organisation"
    response = form_post(
        signed_in_admin,
        "/admin/users/new",
        {
            "email": "new.user@example.org",
            "full_name": "New User",
            "role": "caseworker",
            "organisation": org.public_id,
        },
    )
    assert [a for a in actions() if a.startswith("admin.user")], actions()


# --- CLI export and the viewer ----------------------------------------------------------------


def test_export_json_lines(app: Flask) -> None:
    _some_events(3)
    result = app.test_cli_runner().invoke(args=["audit", "export", "--since", "2026-03-01"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [e["action"] for e in lines] == ["test.event"] * 3
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    assert events("audit.export")[0].detail["count"] == 3
    later = app.test_cli_runner().invoke(args=["audit", "export", "--since", "2026-03-03"])
    assert not [line for line in later.stdout.splitlines() if line.startswith("{")]


@pytest.fixture
def signed_in_auditor(client: FlaskClient, auditor: Person) -> FlaskClient:
    sign_in(client, auditor)
    return client


def test_viewer_lists_filters_and_pages(signed_in_auditor: FlaskClient, app: Flask) -> None:
    for i in range(120):
        record(
            "test.page",
            obj_type="case",
            obj_id=f"C{i:03d}",
            outcome="denied" if i % 2 else "allowed",
        )
    db.session.commit()
    page1 = signed_in_auditor.get("/audit/?action=test.page").get_data(as_text=True)
    assert "C119" in page1 and "C070" in page1 and "C069" not in page1
    older = re.search(r'href="(/audit/\?[^"]*cursor=[^"]+)"', page1)
    assert older is not None
    page2 = signed_in_auditor.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "C069" in page2 and "C070" not in page2
    only = signed_in_auditor.get("/audit/?obj_type=case&obj_id=C007").get_data(as_text=True)
    assert "C007" in only and "C008" not in only
    denied = signed_in_auditor.get("/audit/?action=test.page&outcome=denied").get_data(as_text=True)
    assert "C119" in denied and "C118" not in denied
    by_user = signed_in_auditor.get("/audit/?user=nobody@example.org").get_data(as_text=True)
    assert "C119" not in by_user
    dated = signed_in_auditor.get("/audit/?action=test.page&since=2026-03-03").get_data(
        as_text=True
    )
    assert "C119" not in dated


def test_viewer_names_who_acted_and_their_organisation_in_the_page_statement(
    signed_in_auditor: FlaskClient, auditor: Person
) -> None:
    record("test.who", obj_type="case", obj_id="WHO1", actor=auditor.user)
    record("test.who", obj_type="case", obj_id="WHO2")  # no one signed in: the system
    db.session.commit()
    html = signed_in_auditor.get("/audit/?action=test.who").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    assert len(rows) == 2
    system, person = rows
    assert "WHO2" in system and "system" in system
    assert "WHO1" in person and auditor.email in person
    assert f"<td>{auditor.user.organisation.acronym}</td>" in person


def test_viewer_csv_export_is_audited(signed_in_auditor: FlaskClient, auditor: Person) -> None:
    record("test.csv", obj_type="case", obj_id="=HYPERLINK(1)")
    db.session.commit()
    html = signed_in_auditor.get("/audit/").get_data(as_text=True)
    response = signed_in_auditor.post(
        "/audit/export.csv", data={"csrf_token": csrf_from(html), "action": "test.csv"}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "id" and len(rows) == 2
    assert rows[1][rows[0].index("obj_id")] == "'=HYPERLINK(1)"  # formula defused
    exported = events("audit.export")
    assert exported and exported[0].actor_id == auditor.user.id
    assert exported[0].detail == {"format": "csv", "action": "test.csv"}


def test_viewer_verify_button(signed_in_auditor: FlaskClient) -> None:
    html = signed_in_auditor.get("/audit/").get_data(as_text=True)
    response = signed_in_auditor.post("/audit/verify", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 200
    assert "Intact" in response.get_data(as_text=True)
    assert events("audit.verify")


def test_admin_may_read_audit_log(signed_in_admin: FlaskClient) -> None:
    assert signed_in_admin.get("/audit/").status_code == 200


def test_admin_two_factor_reset_clears_encrypted_secret(
    signed_in_admin: FlaskClient, admin: Person, caseworker: Person
) -> None:
    html = signed_in_admin.get(f"/admin/users/{caseworker.user.public_id}").get_data(as_text=True)
    response = signed_in_admin.post(
        f"/admin/users/{caseworker.user.public_id}/reset-2fa",
        data={
            "reset-2fa-confirm": "y",
            "csrf_token": csrf_from(html),
            **reauth(admin, "reset-2fa"),
        },
    )
    assert response.status_code == 302
    reset = events("admin.two_factor_reset")
    assert reset and reset[0].obj_id == caseworker.user.public_id
    users = cast(sa.Table, User.__table__)
    stored = db.session.execute(
        select(users.c.totp_secret).where(users.c.id == caseworker.user.id)
    ).scalar_one()
    assert stored is None


def test_viewer_date_filter_uses_the_viewers_days(client: FlaskClient, auditor: Person) -> None:
    """Times on the page are shown in the organisation's zone, so From/To are its days too:
    an event at 23:30 UTC on 2 March is 3 March in Kabul (UTC+04:30)."""
    from datetime import UTC, datetime

    from referral import clock

    organisation = auditor.user.organisation
    organisation.time_zone = "Asia/Kabul"
    db.session.commit()
    clock.freeze(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    record("test.late", obj_type="case", obj_id="LATE")
    db.session.commit()
    sign_in(client, auditor)

    def listed(query: str) -> bool:
        page = client.get(f"/audit/?action=test.late&{query}")
        assert page.status_code == 200
        return "LATE" in page.get_data(as_text=True)

    assert listed("since=2026-03-03&until=2026-03-03")
    assert not listed("until=2026-03-02")
    assert not listed("since=2026-03-04")
