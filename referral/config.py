"""Configuration: config/default.toml, then testing.toml in tests, then REFERRAL_* variables."""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_SECRET_KEY = "change-me"  # noqa: S105 - the placeholder production refuses
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""


def load_config(app: Flask, overrides: Mapping[str, Any] | None, testing: bool) -> None:
    app.config.from_file(str(CONFIG_DIR / "default.toml"), load=tomllib.load, text=False)
    if testing:
        app.config.from_file(str(CONFIG_DIR / "testing.toml"), load=tomllib.load, text=False)
    app.config.from_prefixed_env("REFERRAL")
    if overrides:
        app.config.update(overrides)

    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["DATABASE_URL"],
        jit=bool(app.config["POSTGRESQL_JIT"]),
        parallel=bool(app.config["POSTGRESQL_PARALLEL_QUERY"]),
    )
    app.config["RATELIMIT_HEADERS_ENABLED"] = False
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "referral_session"
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the session's own lifetime bounds the token
    # Over HTTPS, security.origin checks Origin (or Referer) instead of Flask-WTF's
    # Referer-only check, which refuses every POST of a browser that sends no Referer.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    app.config["REMEMBER_COOKIE_DURATION"] = 0
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.config["TESTING"] = app.config["ENV"] == "testing"

    if app.config["ENV"] == "development":
        _use_development_secret(app)
    check_safe(app.config)


def engine_options(url: str, *, jit: bool = False, parallel: bool = False) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    options: dict[str, Any] = {"pool_pre_ping": True}
    # Session settings sent with the connection: no round-trip, no superuser needed.
    settings = ([] if jit else ["-c jit=off"]) + (
        [] if parallel else ["-c max_parallel_workers_per_gather=0"]
    )
    if settings:
        options["connect_args"] = {"options": " ".join(settings)}
    return options


def _use_development_secret(app: Flask) -> None:
    """`make run` needs no set-up: a random secret key is kept in the instance folder."""
    if app.config["SECRET_KEY"] != DEFAULT_SECRET_KEY:
        return
    key_file = Path(app.instance_path) / "dev-secret-key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def check_safe(config: Mapping[str, Any]) -> None:
    """Refuse to start production with a missing or placeholder secret key, or with
    per-process rate-limit counters when several workers may run (the key ring refuses a
    production start without encryption keys: security.crypto.init_crypto)."""
    env = config.get("ENV")
    if env not in {"production", "development", "testing"}:
        raise ConfigurationError(
            f"REFERRAL_ENV must be production, development or testing, not {env!r}."
        )
    if env != "production":
        return
    secret = str(config.get("SECRET_KEY") or "")
    if secret == DEFAULT_SECRET_KEY or len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            "Refusing to start: set REFERRAL_SECRET_KEY to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and not config.get("SINGLE_WORKER"):
        # Each worker process would keep its own counters: with four workers an
        # attacker gets four times the sign-in, code and API allowances.
        raise ConfigurationError(
            "Refusing to start: RATELIMIT_STORAGE_URI is memory://, which each worker "
            "process counts on its own. Set REFERRAL_RATELIMIT_STORAGE_URI to a shared "
            "store (redis://host:6379/0), or REFERRAL_SINGLE_WORKER=true if exactly one "
            "worker process runs (gunicorn -w 1)."
        )
