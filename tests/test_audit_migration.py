"""Migration 0002 encrypts existing TOTP secrets (R2) and its downgrade restores them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from referral.db import User
from referral.extensions import db
from referral.security.crypto import generate_key_entry
from tests.conftest import make_app


def test_0002_encrypts_existing_totp_secrets(tmp_path: Path, engine_name: str) -> None:
    if engine_name != "sqlite":
        pytest.skip("runs on its own SQLite file; the PostgreSQL schema is shared")
    url = f"sqlite:///{tmp_path / 'migrate.sqlite'}"
    app = make_app(url, ENCRYPTION_KEYS=generate_key_entry("m1"))
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO organisations (id, name, acronym, org_type, provides_services,"
                    " time_zone, active, public_id, created_at, updated_at) VALUES (1, 'O', 'O',"
                    " 'national_ngo', 0, 'UTC', 1, 'ORG1', '2026-01-01', '2026-01-01')"
                )
            )
            c.execute(
                sa.text(
                    "INSERT INTO users (id, email, full_name, role, organisation_id, active,"
                    " password_hash, must_change_password, totp_secret, totp_last_step,"
                    " session_version, public_id, created_at, updated_at) VALUES (1, 'a@x.org',"
                    " 'A', 'caseworker', 1, 1, 'x', 0, 'PLAINSECRET234567', 0, 1, 'USER1',"
                    " '2026-01-01', '2026-01-01')"
                )
            )
            c.execute(sa.text("INSERT INTO recovery_codes (user_id, code_hash) VALUES (1, 'h')"))
        upgrade()
        with db.engine.connect() as c:
            raw = c.execute(sa.text("SELECT totp_secret FROM users")).scalar_one()
            assert b"PLAINSECRET" not in bytes(raw)
            assert c.execute(sa.text("SELECT count(*) FROM recovery_codes")).scalar_one() == 1
        user = db.session.get(User, 1)
        assert user is not None and user.totp_secret == "PLAINSECRET234567"
        db.session.remove()
        downgrade(revision="0001")
        with db.engine.connect() as c:
            assert c.execute(sa.text("SELECT totp_secret FROM users")).scalar_one() == (
                "PLAINSECRET234567"
            )
        db.session.remove()
        db.engine.dispose()
