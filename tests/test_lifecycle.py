"""R26: record data keys, retention purge by crypto-shredding, legal holds, backup and
restore, key rotation (rewrap and full), resumable after crashes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.audit import record as audit_record
from referral.audit.models import AuditEvent
from referral.audit.services import verify_chain
from referral.cases.models import Case, CaseStage, FollowUp
from referral.clock import utcnow
from referral.db import Organisation
from referral.extensions import db
from referral.lifecycle import backup as backups
from referral.lifecycle import keys, retention
from referral.lifecycle.models import LegalHold, RecordKey, wrap_binding
from referral.security.crypto import (
    KEYRING_EXTENSION,
    KIND_DATA_KEY,
    Binding,
    DecryptionError,
    KeyRing,
    Sealed,
    ShreddedError,
    generate_key_entry,
    owner_label,
    rotate_keys,
)
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import csrf_from, form_post, make_app, sign_in
from tests.factories import make_person, open_case

RETENTION = 1825


def _ring(app: Flask) -> KeyRing:
    ring: KeyRing = app.extensions[KEYRING_EXTENSION]
    return ring


@contextmanager
def keyring(app: Flask, ring: KeyRing) -> Iterator[KeyRing]:
    old = _ring(app)
    app.extensions[KEYRING_EXTENSION] = ring
    try:
        yield ring
    finally:
        app.extensions[KEYRING_EXTENSION] = old


def new_first(app: Flask, key_id: str) -> KeyRing:
    return KeyRing(
        [*KeyRing.from_entries([generate_key_entry(key_id)]).entries, *_ring(app).entries]
    )


def closed_case(org: Organisation, caseworker: Any, *, days_ago: int, name: str) -> Case:
    case = open_case(caseworker, name=name, narrative=f"narrative of {name}")
    case.follow_ups.append(
        FollowUp(author_id=caseworker.id, note=f"note on {name}", written_at=utcnow())
    )
    case.stage = CaseStage.CLOSED
    case.closed_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return case


@pytest.fixture
def staff(org: Organisation) -> dict[str, Any]:
    return {
        "caseworker": make_person(Role.CASEWORKER, org).user,
        "supervisor": make_person(Role.SUPERVISOR, org).user,
    }


def raw(table: str, column: str, public_id: str, bind: Any = None) -> Sealed:
    stmt = sa.text(f"SELECT {column} FROM {table} WHERE public_id = :p")
    value = (bind or db.session).execute(stmt, {"p": public_id}).scalar_one()
    return Sealed(bytes(value))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- scratch database for restores --------------------------------------------------------


# --- data keys ----------------------------------------------------------------------------


def test_r26_case_fields_and_children_use_the_case_data_key(
    org: Organisation, staff: dict[str, Any]
) -> None:
    case = closed_case(org, staff["caseworker"], days_ago=1, name="Amina")
    key = db.session.scalars(
        select(RecordKey).where(
            RecordKey.owner_type == "case", RecordKey.owner_public_id == case.public_id
        )
    ).one()
    name = raw("cases", "name", case.public_id)
    note = raw("case_follow_ups", "note", case.follow_ups[0].public_id)
    assert name.kind == KIND_DATA_KEY and name.key_id == key.key_id
    assert note.kind == KIND_DATA_KEY and note.key_id == key.key_id
    assert key.master_key_id == _ring(current_app).current_key_id
    assert b"Amina" not in bytes(key.wrapped or b"") and b"Amina" not in name.raw
    db.session.expire_all()
    assert db.session.get(Case, case.id).name == "Amina"  # type: ignore[union-attr]
    # the wrapped key is bound to its owner: moved to another owner it does not open
    other = closed_case(org, staff["caseworker"], days_ago=1, name="Bea")
    with pytest.raises(DecryptionError):
        _ring(current_app).unwrap_data_key(
            Sealed(bytes(key.wrapped or b"")), wrap_binding("case", other.public_id, key.key_id)
        )


# --- purge and backups --------------------------------------------------------------------


def test_r26_purge_shreds_the_case_in_a_backup_taken_before(
    app: Flask, org: Organisation, staff: dict[str, Any], tmp_path: Path, scratch_url: str
) -> None:
    """R26: after purge, a backup taken before it cannot be decrypted with the current keys."""
    old = closed_case(org, staff["caseworker"], days_ago=RETENTION + 1, name="Old survivor")
    kept = closed_case(org, staff["caseworker"], days_ago=10, name="Recent survivor")
    old_key_id = raw("cases", "name", old.public_id).key_id
    backup_file = tmp_path / "before-purge.dump"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output

    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0 and old.public_id in dry.output and kept.public_id not in dry.output
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 records purged" in result.output

    db.session.expire_all()
    purged = db.session.get(Case, old.id)
    assert purged is not None and purged.name is None and purged.narrative is None
    assert purged.follow_ups[0].note is None
    assert purged.sex is not None and purged.closed_at is not None  # statistics stay
    assert [e.obj_id for e in events("retention.purged")] == [old.public_id]
    with pytest.raises(ShreddedError):
        keys.resolve_in(db.session(), _ring(app), old_key_id)

    # The documented follow-up: new master key first, re-wrap, old master key retired.
    rotated = new_first(app, "after-purge")
    with keyring(app, rotated):
        assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    current = KeyRing(rotated.entries[:1])
    with keyring(app, current):
        db.session.expire_all()
        assert db.session.get(Case, kept.id).name == "Recent survivor"  # type: ignore[union-attr]

    # The backup still holds the purged case's ciphertext and wrapped key ...
    backups.restore(sa.create_engine(scratch_url), backup_file)
    copy = sa.create_engine(scratch_url)
    with copy.connect() as connection:
        sealed = raw("cases", "name", old.public_id, connection)
        row = connection.execute(
            sa.text("SELECT * FROM record_keys WHERE key_id = :k"), {"k": sealed.key_id}
        ).one()
    copy.dispose()
    assert row.wrapped is not None
    binding = Binding("cases", "name", old.public_id, owner_label("case", old.public_id))
    # ... which the current keys cannot open, and the live database no longer has the key.
    with pytest.raises(DecryptionError):
        current.unwrap_data_key(
            Sealed(bytes(row.wrapped)), wrap_binding("case", old.public_id, row.key_id)
        )
    with keyring(app, current), pytest.raises(DecryptionError):
        current.open(sealed, binding, data_keys=lambda k: keys.resolve_in(db.session(), current, k))


def test_r26_held_case_is_not_purged(app: Flask, org: Organisation, staff: dict[str, Any]) -> None:
    case = closed_case(org, staff["caseworker"], days_ago=RETENTION + 30, name="Held")
    supervisor = staff["supervisor"]
    assert retention.may_hold(supervisor, case)
    retention.place_hold(db.session(), case, "Court order 12/2026", supervisor)
    db.session.commit()
    with pytest.raises(RuleError):
        retention.place_hold(db.session(), case, "again", supervisor)
    db.session.rollback()
    assert list(retention.find_expired(db.session(), app.config)) == []
    report = retention.purge(db.session(), app.config)
    assert report.purged == []
    db.session.expire_all()
    assert db.session.get(Case, case.id).name == "Held"  # type: ignore[union-attr]
    retention.release_hold(db.session(), case, "Case concluded", supervisor)
    db.session.commit()
    assert [e.public_id for e in retention.purge(db.session(), app.config).purged] == [
        case.public_id
    ]
    assert [e.obj_id for e in events("legal_hold.placed")] == [case.public_id]
    assert [e.obj_id for e in events("legal_hold.released")] == [case.public_id]
    hold = db.session.scalars(select(LegalHold)).one()
    assert hold.reason == "Court order 12/2026" and not hold.active


def test_r26_only_a_supervisor_of_the_case_organisation_may_hold(
    org: Organisation, other_org: Organisation, staff: dict[str, Any]
) -> None:
    case = closed_case(org, staff["caseworker"], days_ago=5, name="X")
    assert retention.may_hold(staff["supervisor"], case)
    assert not retention.may_hold(staff["caseworker"], case)
    assert not retention.may_hold(make_person(Role.SUPERVISOR, other_org).user, case)
    for role in (Role.ADMIN, Role.AUDITOR, Role.PSEA_COORDINATOR, Role.GBV_COORDINATOR):
        assert not retention.may_hold(make_person(role, org).user, case)


def test_r26_purge_resumes_after_a_crash(
    app: Flask, org: Organisation, staff: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [
        closed_case(org, staff["caseworker"], days_ago=RETENTION + i + 1, name=f"S{i}")
        for i in range(5)
    ]
    calls = 0
    real_record = audit_record

    def crash_on_third(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("power cut")
        real_record(*args, **kwargs)

    monkeypatch.setattr(retention, "record", crash_on_third)
    with pytest.raises(RuntimeError):
        retention.purge(db.session(), app.config)
    db.session.rollback()
    assert len(events("retention.purged")) == 2
    monkeypatch.setattr(retention, "record", real_record)
    report = retention.purge(db.session(), app.config)
    assert len(report.purged) == 3
    assert retention.purge(db.session(), app.config).purged == []  # idempotent
    assert sorted(str(e.obj_id) for e in events("retention.purged")) == sorted(
        c.public_id for c in cases
    )
    destroyed = db.session.scalars(
        select(RecordKey).where(RecordKey.destroyed_at.is_not(None))
    ).all()
    assert len(destroyed) == 5 and all(k.wrapped is None for k in destroyed)
    assert verify_chain(db.session()).ok


# --- rotation -------------------------------------------------------------------------------


def _all_values_open(app: Flask, ring: KeyRing) -> keys.CheckReport:
    report = keys.check_values(db.session(), ring, db.metadata)
    assert report.failures == [], report.failures[:3]
    return report


def test_r26_rewrap_resumes_after_a_crash_and_old_master_key_can_go(
    app: Flask, org: Organisation, staff: dict[str, Any]
) -> None:
    made = [closed_case(org, staff["caseworker"], days_ago=1, name=f"R{i}") for i in range(7)]
    rotated = new_first(app, "rewrap")
    seen = 0

    def crash(count: int) -> None:
        nonlocal seen
        seen += count
        if seen >= 3:
            raise RuntimeError("killed")

    with keyring(app, rotated):
        values_before = {c.public_id: raw("cases", "name", c.public_id) for c in made}
        with pytest.raises(RuntimeError):
            keys.rewrap_data_keys(db.session(), rotated, batch_size=3, progress=crash)
        db.session.rollback()
        report = keys.rewrap_data_keys(db.session(), rotated, batch_size=3)
        assert report.already_current == 3 and sum(report.rewrapped.values()) == 4
        rotate_keys(db.session(), rotated, db.metadata)  # values sealed under master keys
        # values untouched: only the wrapping changed
        assert {c.public_id: raw("cases", "name", c.public_id) for c in made} == values_before
    only_new = KeyRing(rotated.entries[:1])
    with keyring(app, only_new):
        _all_values_open(app, only_new)


def test_r26_full_rotation_resumes_after_a_crash(
    app: Flask, org: Organisation, staff: dict[str, Any]
) -> None:
    made = [closed_case(org, staff["caseworker"], days_ago=1, name=f"F{i}") for i in range(6)]
    old_ids = {c.public_id: raw("cases", "name", c.public_id).key_id for c in made}
    rotated = new_first(app, "full")
    seen = 0

    def crash(count: int) -> None:
        nonlocal seen
        seen += count
        if seen >= 4:
            raise RuntimeError("killed")

    with keyring(app, rotated):
        with pytest.raises(RuntimeError):
            keys.reencrypt_everything(
                db.session(), rotated, db.metadata, batch_size=2, progress=crash
            )
        db.session.rollback()
        # mid-way: some values under new keys, some under previous ones; all readable
        _all_values_open(app, rotated)
        report = keys.reencrypt_everything(db.session(), rotated, db.metadata, batch_size=2)
        assert report.failures == []
        assert report.keys_renewed == 0  # phase 1 had finished before the crash
    only_new = KeyRing(rotated.entries[:1])
    with keyring(app, only_new):
        checked = _all_values_open(app, only_new)
        assert checked.opened >= 12
        db.session.expire_all()
        for case in made:
            new = raw("cases", "name", case.public_id)
            assert new.kind == KIND_DATA_KEY and new.key_id != old_ids[case.public_id]
            assert db.session.get(Case, case.id).name == case.name  # type: ignore[union-attr]
        assert (
            db.session.scalar(select(sa.func.count()).where(RecordKey.previous_key_id.is_not(None)))
            == 0
        )


def test_keys_check_reports_a_value_that_does_not_decrypt(
    app: Flask, org: Organisation, staff: dict[str, Any]
) -> None:
    a = closed_case(org, staff["caseworker"], days_ago=1, name="A")
    b = closed_case(org, staff["caseworker"], days_ago=1, name="B")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["keys", "check"])
    assert ok.exit_code == 0, ok.output
    # Copy A's ciphertext into B's row: the binding refuses it.
    db.session.execute(
        sa.text(
            "UPDATE cases SET name = (SELECT name FROM cases WHERE public_id = :a) "
            "WHERE public_id = :b"
        ),
        {"a": a.public_id, "b": b.public_id},
    )
    db.session.commit()
    bad = runner.invoke(args=["keys", "check"])
    assert bad.exit_code != 0 and f"cases.name {b.public_id}" in bad.output


# --- backup and restore ------------------------------------------------------------------


def _counts(bind: Any) -> dict[str, int]:
    names = [t.name for t in db.metadata.sorted_tables]
    return {n: bind.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def test_r26_backup_and_restore_round_trip(
    app: Flask,
    database_url: str,
    org: Organisation,
    staff: dict[str, Any],
    tmp_path: Path,
    scratch_url: str,
) -> None:
    for i in range(4):
        closed_case(org, staff["caseworker"], days_ago=i, name=f"Round {i}")
    retention.place_hold(
        db.session(), db.session.scalars(select(Case)).first(), "audit request", staff["supervisor"]
    )
    db.session.commit()
    before = _counts(db.session)
    path = tmp_path / "backup.bin"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    refused = runner.invoke(args=["backup", str(path)])
    assert refused.exit_code != 0 and "exists already" in refused.output
    # the live database is not empty: restore refuses and changes nothing
    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code != 0 and "not empty" in refused.output
    assert _counts(db.session) == {**before, "audit_events": before["audit_events"] + 1}

    restored_app = make_app(scratch_url, ENCRYPTION_KEYS=[e.to_entry() for e in _ring(app).entries])
    with restored_app.app_context():
        result = restored_app.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 0, result.output
        assert "audit chain intact" in result.output
        after = _counts(db.session)
        # the restore adds its own audit event
        assert after.pop("audit_events") == before.pop("audit_events") + 1
        assert after == before
        assert verify_chain(db.session()).ok
        names = sorted(c.name or "" for c in db.session.scalars(select(Case)))
        assert names == [f"Round {i}" for i in range(4)]
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(
    app: Flask, engine_name: str, tmp_path: Path, scratch_url: str
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(backups.BackupError):
        backups.restore(sa.create_engine(scratch_url), junk)


# --- legal hold pages --------------------------------------------------------------------


def _hold(client: Any, case: Case, action: str, reason: str, *, confirm: bool = True) -> Any:
    data = {"hold-action": action, "hold-reason": reason}
    if confirm:
        data["hold-confirm"] = "y"
    page = f"/cases/{case.public_id}/legal-hold"
    return form_post(client, page, data, page=page)


def test_r26_supervisor_places_and_releases_a_hold_on_the_case_page(
    client: FlaskClient, org: Organisation, staff: dict[str, Any]
) -> None:
    case = closed_case(org, staff["caseworker"], days_ago=3, name="Page")
    supervisor = make_person(Role.SUPERVISOR, org, email="sup2@example.org")
    sign_in(client, supervisor)
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert "Place a legal hold" in page
    empty = _hold(client, case, "place", "   ")
    assert empty.status_code == 400 and "This field is required" in empty.get_data(as_text=True)
    assert _hold(client, case, "place", "Tribunal request 7").status_code == 302
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert "Legal hold" in page and "Release the legal hold" in page
    again = _hold(client, case, "place", "twice")
    assert again.status_code == 400 and "already under a legal hold" in again.get_data(as_text=True)
    unconfirmed = _hold(client, case, "release", "Tribunal closed", confirm=False)
    assert unconfirmed.status_code == 400
    assert retention.active_hold(db.session(), "case", case.public_id) is not None
    assert _hold(client, case, "release", "Tribunal closed").status_code == 302
    assert retention.active_hold(db.session(), "case", case.public_id) is None
    assert [e.action for e in events("legal_hold.placed") + events("legal_hold.released")] == [
        "legal_hold.placed",
        "legal_hold.released",
    ]


@pytest.mark.parametrize("who", ["caseworker", "other_supervisor"])
def test_r26_hold_refused_to_the_wrong_people(
    client: FlaskClient, org: Organisation, other_org: Organisation, staff: dict[str, Any], who: str
) -> None:
    case = closed_case(org, staff["caseworker"], days_ago=3, name="Nope")
    if who == "caseworker":
        person = make_person(Role.CASEWORKER, org, email="cw2@example.org")
        expected = 403
    else:
        person = make_person(Role.SUPERVISOR, other_org)
        expected = 404
    sign_in(client, person)
    html = client.get("/").get_data(as_text=True)
    response = client.post(
        f"/cases/{case.public_id}/legal-hold",
        data={"hold-action": "place", "hold-reason": "x", "csrf_token": csrf_from(html)},
    )
    assert response.status_code == expected
    assert retention.active_hold(db.session(), "case", case.public_id) is None


def test_r26_keys_rotate_cli_rewraps_then_full_renews_every_data_key(
    app: Flask, org: Organisation, staff: dict[str, Any]
) -> None:
    made = [closed_case(org, staff["caseworker"], days_ago=1, name=f"C{i}") for i in range(3)]
    runner = app.test_cli_runner()
    rotated = new_first(app, "cli")
    with keyring(app, rotated):
        result = runner.invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "data keys re-wrapped from" in result.output
        before = {c.public_id: raw("cases", "name", c.public_id).key_id for c in made}
        result = runner.invoke(args=["keys", "rotate", "--full"])
        assert result.exit_code == 0, result.output
        assert "new data keys: 3" in result.output
        after = {c.public_id: raw("cases", "name", c.public_id).key_id for c in made}
        assert all(before[p] != after[p] for p in before)
    with keyring(app, KeyRing(rotated.entries[:1])):
        assert runner.invoke(args=["keys", "check"]).exit_code == 0
    assert [e.detail["full"] for e in events("keys.rotate")] == [False, True]
