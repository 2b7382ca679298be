"""The keyed audit chain, signed checkpoints kept off the database, the re-keying
migration and the application's PostgreSQL role: what the database's owner can no
longer do unnoticed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from referral import create_app
from referral.audit import record
from referral.audit.models import (
    CHAIN_FIELDS,
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    chain_hash,
    chain_mac,
)
from referral.audit.services import verify_chain
from referral.extensions import db
from referral.security.crypto import KeyConfigurationError, current_audit_keys, generate_key_entry
from tests.conftest import make_app


def _some_events(count: int) -> None:
    for i in range(count):
        record("test.event", obj_type="thing", obj_id=f"T{i}", detail={"i": i})
    db.session.commit()


def _stored_events() -> list[dict[str, Any]]:
    db.session.expire_all()
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    out = [{**{f: getattr(row, f) for f in CHAIN_FIELDS}, "key_id": row.key_id} for row in rows]
    db.session.rollback()
    return out


def _rewrite(kept: list[dict[str, Any]], link: Any) -> None:
    """Replace the whole trail by ``kept``, renumbered 1..n and chained with ``link``,
    and move the chain head to its end: what an owner does to hide events."""
    table = AuditEvent.__table__
    prev, rows = GENESIS_HASH, []
    for number, fields in enumerate(kept, start=1):
        chained = {**{name: fields[name] for name in CHAIN_FIELDS}, "id": number}
        digest = link(prev, chained)
        rows.append({**chained, "key_id": fields["key_id"], "prev_hash": prev, "hash": digest})
        prev = digest
    with db.engine.begin() as c:
        c.execute(table.delete())
        c.execute(table.insert(), rows)
        c.execute(
            sa.update(AuditChainHead.__table__)
            .where(AuditChainHead.__table__.c.id == 1)
            .values(last_id=len(rows), last_hash=prev)
        )


def _verify(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


@pytest.mark.parametrize("key_id", ["kept", "cleared"])
def test_item3_owner_deleting_events_and_rechaining_with_plain_hashes_is_detected(
    app: Flask, triggers_dropped: None, key_id: str
) -> None:
    _some_events(6)
    assert _verify(app).exit_code == 0
    events = _stored_events()
    kept = [e for e in events if e["id"] not in (3, 4)]  # the events to hide
    if key_id == "cleared":
        kept = [{**e, "key_id": None} for e in kept]
    _rewrite(kept, chain_hash)  # SHA-256 over the same bytes: all the owner can compute

    # The forged trail is a perfect plain hash chain, head included: a hash-only chain
    # (the one before audit keys) would have called it intact.
    forged = _stored_events()
    assert [e["id"] for e in forged] == [1, 2, 3, 4]
    table = AuditEvent.__table__
    with db.engine.connect() as c:
        stored = c.execute(select(table.c.prev_hash, table.c.hash).order_by(table.c.id)).all()
        head = c.execute(select(AuditChainHead.__table__.c.last_hash)).scalar_one()
    prev = GENESIS_HASH
    for fields, (row_prev, row_hash) in zip(forged, stored, strict=True):
        assert row_prev == prev
        assert row_hash == chain_hash(prev, {n: fields[n] for n in CHAIN_FIELDS})
        prev = row_hash
    assert head == prev

    result = _verify(app)
    assert result.exit_code != 0
    assert "broken at event 1" in result.output
    expected = "content does not match its MAC" if key_id == "kept" else "audit key"
    assert expected in result.output


def _checkpoint(app: Flask, path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint", "--out", str(path)])
    assert result.exit_code == 0, result.output


def test_item3_checkpoint_file_detects_a_truncated_tail(
    app: Flask, triggers_dropped: None, tmp_path: Path
) -> None:
    _some_events(3)
    path = tmp_path / "checkpoints.jsonl"
    _checkpoint(app, path)  # covers events 1-3; its own audit event is 4
    _some_events(2)  # 5, 6
    _checkpoint(app, path)  # covers 1-6; its own audit event is 7
    lines = path.read_text().splitlines()
    assert [json.loads(line)["last_id"] for line in lines] == [3, 6]
    assert _verify(app, "--checkpoints", str(path)).exit_code == 0

    # The owner removes the tail (events 3..7) and moves the head back to event 2.
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_events WHERE id >= 3"))
        last_hash = c.execute(text("SELECT hash FROM audit_events WHERE id = 2")).scalar_one()
        c.execute(text("UPDATE audit_chain_head SET last_id = 2, last_hash = :h"), {"h": last_hash})
    alone = _verify(app)
    assert alone.exit_code == 0, "the database alone cannot tell: a shorter chain is valid"
    result = _verify(app, "--checkpoints", str(path))
    assert result.exit_code != 0
    assert "broken at event 3" in result.output
    assert "counts 3 events; found 2 (events removed from the end)" in result.output


def test_item3_checkpoint_detects_history_rewritten_with_the_key(
    app: Flask, triggers_dropped: None, tmp_path: Path
) -> None:
    """Even with the audit key (a shell on the app server), history before a checkpoint
    shipped off-host cannot be rewritten unnoticed."""
    _some_events(4)
    path = tmp_path / "checkpoints.jsonl"
    _checkpoint(app, path)
    keys = current_audit_keys()
    mac = keys.chain_mac(keys.current_key_id)
    assert mac is not None
    kept = [e for e in _stored_events() if e["id"] != 2]
    _rewrite(kept, lambda prev, fields: chain_mac(mac, prev, fields))
    assert _verify(app).exit_code == 0
    result = _verify(app, "--checkpoints", str(path))
    assert result.exit_code != 0
    assert "broken at event 4" in result.output and "the checkpoint of" in result.output


def test_item3_checkpoint_signature_is_checked(app: Flask, tmp_path: Path) -> None:
    _some_events(2)
    out = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert out.exit_code == 0, out.output
    checkpoint = json.loads(out.stdout)
    assert checkpoint["last_id"] == 2 and checkpoint["key_id"] == "testing"
    assert "last_hash" in checkpoint and len(checkpoint["signature"]) == 64
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps({**checkpoint, "last_id": 1}) + "\n")
    result = _verify(app, "--checkpoints", str(forged))
    assert result.exit_code != 0 and "signature does not match" in result.output
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not a checkpoint\n")
    result = _verify(app, "--checkpoints", str(garbage))
    assert result.exit_code != 0 and "line 1" in result.output
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "audit.checkpoint"


def test_item3_a_chain_under_another_audit_key_does_not_verify(database_url: str) -> None:
    _some_events(2)
    other = make_app(database_url, AUDIT_KEYS=generate_key_entry("other"))
    with other.app_context():
        result = verify_chain(db.session())
        db.session.remove()
    assert not result.ok and result.broken_id == 1 and "audit key" in (result.problem or "")


def test_item3_production_refuses_to_start_without_an_audit_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.setenv("REFERRAL_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("REFERRAL_ENCRYPTION_KEYS", generate_key_entry("p1"))
    monkeypatch.setenv("REFERRAL_SINGLE_WORKER", "true")
    monkeypatch.delenv("REFERRAL_AUDIT_KEYS", raising=False)
    monkeypatch.delenv("REFERRAL_AUDIT_KEY_FILE", raising=False)
    with pytest.raises(KeyConfigurationError, match="REFERRAL_AUDIT_KEYS"):
        create_app()


# --- the migration that keys an existing chain ----------------------------------------------

_LEGACY = sa.table(
    "audit_events",
    *(sa.column(name) for name in (*CHAIN_FIELDS, "prev_hash", "hash")),
)


def _legacy_rows(count: int, engine_name: str) -> list[dict[str, Any]]:
    """Events as the chain before audit keys stored them: plain SHA-256 links."""
    from datetime import UTC, datetime

    prev, rows = GENESIS_HASH, []
    for number in range(1, count + 1):
        when = datetime(2026, 1, 1, 8, number, tzinfo=UTC)
        fields = {
            "id": number,
            "occurred_at": when,
            "actor_id": None,
            "actor_public_id": None,
            "actor_role": None,
            "org_id": None,
            "action": "legacy.event",
            "obj_type": "thing",
            "obj_id": f"L{number}",
            "outcome": "allowed",
            "request_id": None,
            "client_address": None,
            "fields_revealed": ["name"],
            "detail": {"n": number, "é": "ü"},
        }
        digest = chain_hash(prev, fields)
        rows.append(
            {
                **fields,
                # As the application's column type stores it: naive UTC text on SQLite.
                "occurred_at": (
                    when.replace(tzinfo=None).isoformat(sep=" ")
                    if engine_name == "sqlite"
                    else when
                ),
                "fields_revealed": json.dumps(fields["fields_revealed"]),
                "detail": json.dumps(fields["detail"]),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows


def _legacy_trail_at_0017(rows: list[dict[str, Any]]) -> None:
    """The schema before audit keys, holding ``rows`` and their chain head."""
    upgrade(revision="0017")
    with db.engine.begin() as c:
        c.execute(_LEGACY.insert(), rows)
        c.execute(
            text("UPDATE audit_chain_head SET last_id = :n, last_hash = :h"),
            {"n": len(rows), "h": rows[-1]["hash"]},
        )


def test_item3_migration_keys_an_existing_chain_and_back(
    scratch_url: str, engine_name: str
) -> None:
    app = make_app(scratch_url, ENCRYPTION_KEYS=generate_key_entry("m1"))
    rows = _legacy_rows(4, engine_name)
    with app.app_context():
        _legacy_trail_at_0017(rows)
        upgrade()
        result = verify_chain(db.session())
        assert result.ok and result.checked == 4, result.message()
        stored = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert {e.key_id for e in stored} == {"testing"}
        assert all(e.hash != r["hash"] for e, r in zip(stored, rows, strict=True))
        assert stored[3].detail == {"n": 4, "é": "ü"}
        db.session.remove()
        # The triggers are back: the trail is append-only again.
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as c:
            c.execute(text("UPDATE audit_events SET action = 'x'"))
        record("after.migration")
        db.session.commit()
        assert verify_chain(db.session()).checked == 5
        db.session.remove()
        downgrade(revision="0017")
        with db.engine.connect() as c:
            plain = c.execute(text("SELECT hash FROM audit_events ORDER BY id")).scalars().all()
        assert plain[:4] == [r["hash"] for r in rows]
        db.session.remove()
        db.engine.dispose()


def test_item3_migration_refuses_to_key_a_broken_chain(
    scratch_url: str, engine_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(scratch_url, ENCRYPTION_KEYS=generate_key_entry("m1"))
    rows = _legacy_rows(3, engine_name)
    rows[1]["obj_id"] = "edited"  # event 2 no longer matches its hash
    with app.app_context():
        _legacy_trail_at_0017(rows)
        with pytest.raises(SystemExit):
            upgrade()
        assert "the audit chain is broken at event 2: it is not re-chained" in caplog.text
        with db.engine.connect() as c:  # nothing half done
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0017"
            hashes = c.execute(text("SELECT hash FROM audit_events ORDER BY id")).scalars()
            assert list(hashes) == [r["hash"] for r in rows]
        db.session.remove()
        db.engine.dispose()


# --- the application's database role ----------------------------------------------------------

APP_ROLE = "referral_app_item3"


def _drop_role(connection: Any) -> None:
    if connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}
    ).scalar():
        connection.execute(text(f"DROP OWNED BY {APP_ROLE}"))
        connection.execute(text(f"DROP ROLE {APP_ROLE}"))


def test_item3_grant_app_role_can_append_but_never_rewrite(app: Flask, engine_name: str) -> None:
    if engine_name != "postgresql":
        pytest.skip("SQLite has no database roles: grant-app-role is for PostgreSQL")
    _some_events(2)
    with db.engine.begin() as c:
        _drop_role(c)
    runner = app.test_cli_runner()
    try:
        printed = runner.invoke(args=["db", "grant-app-role", APP_ROLE, "--print-sql"])
        assert printed.exit_code == 0, printed.output
        assert f"GRANT SELECT, INSERT ON audit_events TO {APP_ROLE};" in printed.output
        assert "UPDATE, DELETE ON audit_events" not in printed.output
        result = runner.invoke(args=["db", "grant-app-role", APP_ROLE])
        assert result.exit_code == 0, result.output
        again = runner.invoke(args=["db", "grant-app-role", APP_ROLE])  # idempotent
        assert again.exit_code == 0, again.output

        # Appending, through the application's own code, works as the role.
        with db.engine.connect() as connection:
            connection.execute(text(f"SET ROLE {APP_ROLE}"))
            session = Session(bind=connection)
            record("test.as_app_role", session=session)
            session.commit()
            assert verify_chain(session).checked == 3
            # Normal rights elsewhere.
            connection.execute(text("UPDATE users SET full_name = full_name"))
            connection.execute(text("RESET ROLE"))
            connection.commit()
            session.close()
        for statement in (
            "UPDATE audit_events SET action = 'x' WHERE id = 1",
            "DELETE FROM audit_events WHERE id = 3",
            "TRUNCATE audit_events",
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
            "DROP TRIGGER audit_events_no_change ON audit_events",
            "DELETE FROM audit_chain_head",
            "UPDATE alembic_version SET version_num = 'x'",
        ):
            refused = pytest.raises(sa.exc.ProgrammingError, match=r"permission denied|owner")
            with refused, db.engine.begin() as c:
                c.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
                c.execute(text(statement))
        assert verify_chain(db.session()).ok
        owner = runner.invoke(args=["db", "grant-app-role", "postgres"])
        assert owner.exit_code != 0 and "the application needs a role of its own" in owner.output
    finally:
        db.session.remove()
        with db.engine.begin() as c:
            _drop_role(c)


def test_item3_grant_app_role_says_why_not_on_sqlite(app: Flask, engine_name: str) -> None:
    if engine_name != "sqlite":
        pytest.skip("the SQLite answer; PostgreSQL is tested above")
    result = app.test_cli_runner().invoke(args=["db", "grant-app-role", "referral_app"])
    assert result.exit_code != 0 and "SQLite has no roles" in result.output
