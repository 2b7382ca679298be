"""referral: survivor referral coordination for GBV, PSEA and victim-assistance actors."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from referral.config import PROJECT_ROOT, load_config


def create_app(overrides: Mapping[str, Any] | None = None, *, testing: bool = False) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=os.environ.get("REFERRAL_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
    )
    load_config(app, overrides, testing)
    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_templating(app)
    register_commands(app)
    register_unit_of_work(app)
    trust_proxies(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, take the client address and scheme from the
    X-Forwarded-For / X-Forwarded-Proto entries those proxies appended (and no more:
    entries a client wrote itself are ignored). 0: served directly, headers ignored."""
    count = int(app.config["PROXY_COUNT"])
    if count < 0:
        from referral.config import ConfigurationError

        raise ConfigurationError("REFERRAL_PROXY_COUNT must be 0 or more.")
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    from referral.extensions import babel, csrf, db, limiter, login_manager, migrate
    from referral.i18n import (
        init_language_choice,
        install_template_gettext,
        select_locale,
        select_timezone,
    )
    from referral.lifecycle.keys import init_record_keys
    from referral.security import passwords
    from referral.security.crypto import init_audit_keys, init_crypto

    os.makedirs(app.instance_path, exist_ok=True)
    init_crypto(app)
    init_audit_keys(app)
    init_record_keys(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)
    init_language_choice(app)
    login_manager.init_app(app)
    passwords.configure(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_KIB"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    with app.app_context():
        _tune_sqlite(db.engine)


def _tune_sqlite(engine: Any) -> None:
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    _create_private_file(engine.url.database or "")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _create_private_file(path: str) -> None:
    """SQLite creates a missing database file with the process umask (often readable by
    every local user): create it first, for the app's user alone (0600). SQLite gives
    the -wal and -shm files the mode of the database file."""
    if path in ("", ":memory:") or path.startswith("file:") or os.path.exists(path):
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def register_security(app: Flask) -> None:
    from referral.audit import init_audit
    from referral.auth.sessions import init_sessions
    from referral.compression import init_compression
    from referral.errors import init_error_pages
    from referral.extensions import csrf
    from referral.security.headers import init_headers
    from referral.security.input import init_input_guards
    from referral.security.origin import init_origin_check
    from referral.static_files import init_static_files

    init_audit(app)
    init_sessions(app)
    init_input_guards(app)
    init_origin_check(app, exempt=csrf._is_exempt)  # Flask-WTF's own exemption list
    init_headers(app)
    init_static_files(app)
    init_compression(app)
    init_error_pages(app)


def register_blueprints(app: Flask) -> None:
    from referral.admin.views import blueprint as admin
    from referral.api.views import init_api
    from referral.assistance.views import blueprint as assistance
    from referral.audit.views import blueprint as audit
    from referral.auth.views import blueprint as auth
    from referral.cases.views import blueprint as cases
    from referral.directory.views import blueprint as directory
    from referral.home.codes import init_codes
    from referral.home.views import blueprint as home
    from referral.pathways.views import blueprint as pathways
    from referral.psea.views import blueprint as psea
    from referral.referrals.views import blueprint as referrals
    from referral.reports.views import blueprint as reports

    blueprints = (
        auth,
        admin,
        audit,
        home,
        directory,
        pathways,
        referrals,
        cases,
        psea,
        assistance,
        reports,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    init_api(app)
    init_codes(app)


def register_templating(app: Flask) -> None:
    from referral.formatting import init_formatting
    from referral.templating import init_templating

    init_templating(app)
    init_formatting(app)


def register_unit_of_work(app: Flask) -> None:
    from referral.db.work import init_unit_of_work

    init_unit_of_work(app)  # registered last: it commits before the other hooks run


def register_commands(app: Flask) -> None:
    from referral.cli import init_commands

    init_commands(app)
