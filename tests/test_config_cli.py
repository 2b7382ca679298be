"""Configuration safety and the command-line interface."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from referral import create_app
from referral.config import ConfigurationError
from referral.db import Organisation, User
from referral.extensions import db
from referral.security.crypto import KeyConfigurationError, generate_key_entry
from tests.conftest import SKIP_BROWSER_TESTS, form_post


def test_production_refuses_the_default_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.delenv("REFERRAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="REFERRAL_SECRET_KEY"):
        create_app()


def test_production_refuses_to_start_without_encryption_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.setenv("REFERRAL_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("REFERRAL_SINGLE_WORKER", "true")
    monkeypatch.setenv("REFERRAL_ENCRYPTION_KEYS", "")
    with pytest.raises(KeyConfigurationError, match="REFERRAL_ENCRYPTION_KEYS"):
        create_app()


def test_item7_production_refuses_per_process_rate_limits_unless_single_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """memory:// counters are per worker process: with several workers each one allows the
    whole sign-in, code and API budget again. Production refuses them unless one worker."""
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.setenv("REFERRAL_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("REFERRAL_ENCRYPTION_KEYS", generate_key_entry("p1"))
    monkeypatch.setenv("REFERRAL_AUDIT_KEYS", generate_key_entry("a1"))
    monkeypatch.setenv("REFERRAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("REFERRAL_DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite'}")
    monkeypatch.delenv("REFERRAL_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REFERRAL_SINGLE_WORKER", raising=False)
    with pytest.raises(ConfigurationError, match="REFERRAL_RATELIMIT_STORAGE_URI"):
        create_app()

    monkeypatch.setenv("REFERRAL_SINGLE_WORKER", "true")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "memory://"

    monkeypatch.setenv("REFERRAL_SINGLE_WORKER", "false")
    monkeypatch.setenv("REFERRAL_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    assert create_app().config["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_environment_variables_override_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_SESSION_IDLE_MINUTES", "7")
    app = create_app(testing=True)
    assert app.config["SESSION_IDLE_MINUTES"] == 7


def test_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "staging")
    with pytest.raises(ConfigurationError, match="REFERRAL_ENV"):
        create_app()


def test_cli_creates_organisation_and_user(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "orgs",
            "create",
            "--name",
            "Hope Bridge",
            "--acronym",
            "HB",
            "--type",
            "international_ngo",
            "--provides-services",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cw@example.org",
            "--name",
            "C W",
            "--role",
            "caseworker",
            "--org",
            "HB",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "One-time password" in result.output
    user = db.session.query(User).filter_by(email="cw@example.org").one()
    assert user.must_change_password


def test_cli_refuses_a_case_role_in_a_mission(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(
        args=[
            "orgs",
            "create",
            "--name",
            "Mission",
            "--acronym",
            "MIS",
            "--type",
            "peacekeeping_mission",
        ]
    )
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "caseworker",
            "--org",
            "MIS",
        ]
    )
    assert result.exit_code != 0
    assert "R23" in result.output


def test_demo_is_idempotent_and_prints_sign_ins(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.example.org" in first.output
    counts = (db.session.query(User).count(), db.session.query(Organisation).count())
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert (db.session.query(User).count(), db.session.query(Organisation).count()) == counts
    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert "nothing loaded" in skipped.output


def test_item6_demo_refuses_production_unless_forced(app: Flask) -> None:
    """Demo accounts with a printed shared password never land in a live database by
    mistake: production refuses, --force loads a showcase on purpose."""
    runner = app.test_cli_runner()
    app.config["ENV"] = "production"
    try:
        refused = runner.invoke(args=["demo"])
        assert refused.exit_code != 0
        assert "REFERRAL_ENV is production" in refused.output
        assert db.session.query(User).count() == 0
        forced = runner.invoke(args=["demo", "--force"])
        assert forced.exit_code == 0, forced.output
        assert db.session.query(User).count() > 0
    finally:
        app.config["ENV"] = "testing"


def test_item6_demo_accounts_change_the_shared_password_at_first_sign_in(app: Flask) -> None:
    """The printed demo sign-in leads to choosing one's own password, then to enrolling an
    authenticator; the shared password then no longer opens that account."""
    output = app.test_cli_runner().invoke(args=["demo"]).output
    match = re.search(r"Shared first password of every demo account: (\S+)", output)
    assert match, output
    shared = match.group(1)
    client = app.test_client()
    email = "caseworker@demo.example.org"
    response = form_post(client, "/auth/sign-in", {"email": email, "password": shared})
    assert response.headers["Location"].endswith("/auth/first-password")
    assert client.get("/auth/enrol").headers["Location"].endswith("/auth/first-password")
    own = "copper lantern drifting north"
    done = form_post(client, "/auth/first-password", {"password": own, "confirm": own})
    assert done.headers["Location"].endswith("/auth/enrol")

    again = app.test_client()
    response = form_post(again, "/auth/sign-in", {"email": email, "password": shared})
    assert response.status_code == 401
    response = form_post(again, "/auth/sign-in", {"email": email, "password": own})
    assert response.headers["Location"].endswith("/auth/enrol")
    other = form_post(
        app.test_client(), "/auth/sign-in", {"email": "admin@demo.example.org", "password": shared}
    )
    assert other.headers["Location"].endswith("/auth/first-password")


def test_field_readiness_demo_sign_ins_kept_in_instance_readable_by_owner_only(
    app: Flask,
) -> None:
    """Field readiness, start-up: the demo sign-ins printed once are kept in the instance
    folder (mode 600), and every start (`referral demo --if-empty`) prints where."""
    kept = Path(app.instance_path) / "demo-sign-ins.txt"
    kept.unlink(missing_ok=True)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    text = kept.read_text(encoding="utf-8")
    assert "admin@demo.example.org" in text and "Shared first password" in text
    assert str(kept) in first.output
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "nothing loaded" in again.output and str(kept) in again.output
    assert kept.read_text(encoding="utf-8") == text  # not overwritten


REPOSITORY = Path(__file__).resolve().parent.parent


def _make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        ["make", "-s", "-C", str(REPOSITORY), *args],  # noqa: S607 - make from PATH
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_field_readiness_make_run_takes_a_port() -> None:
    planned = _make("-n", "run", "PORT=8123").stdout
    assert "--port 8123" in planned and "--host 127.0.0.1" in planned


def test_field_readiness_make_test_stops_without_chromium_unless_told_to_skip() -> None:
    """A machine without Chromium: `make test` stops with what to do, instead of passing
    with its browser tests quietly skipped; REFERRAL_SKIP_BROWSER_TESTS=1 is the opt-out."""
    missing = _make("browser-check", "CHROMIUM=/nonexistent/chromium")
    assert missing.returncode != 0
    assert "apt-get install chromium" in missing.stdout
    assert "REFERRAL_SKIP_BROWSER_TESTS=1" in missing.stdout
    skipped = _make(
        "browser-check", "CHROMIUM=/nonexistent/chromium", REFERRAL_SKIP_BROWSER_TESTS="1"
    )
    assert skipped.returncode == 0, skipped.stdout


def test_field_readiness_browser_tests_fail_without_chromium_unless_told_to_skip(
    tmp_path: Path,
) -> None:
    """The suite itself: a browser test fails when Chromium is missing, and is skipped
    only with REFERRAL_SKIP_BROWSER_TESTS=1."""
    env = {
        **os.environ,
        "REFERRAL_CHROMIUM": "/nonexistent/chromium",
        "REFERRAL_INSTANCE_PATH": str(tmp_path),
    }
    env.pop(SKIP_BROWSER_TESTS, None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--db",
        "sqlite",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests/test_browser_sign_in.py",
    ]
    failed = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        command, cwd=REPOSITORY, capture_output=True, text=True, env=env, check=False
    )
    assert failed.returncode == 1, failed.stdout
    assert "/nonexistent/chromium is missing" in failed.stdout
    skipped = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        command,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        env={**env, SKIP_BROWSER_TESTS: "1"},
        check=False,
    )
    assert skipped.returncode == 0, skipped.stdout
    assert "skipped" in skipped.stdout
