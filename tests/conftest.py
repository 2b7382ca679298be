"""Test fixtures: the app on SQLite or PostgreSQL, a frozen clock, users who can sign in.

`pytest --db sqlite` (default) or `pytest --db postgresql` (URL from
REFERRAL_TEST_DATABASE_URL). The schema is built by the Alembic migrations once per run
and emptied after each test.
"""

from __future__ import annotations

import contextvars
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from referral import clock, create_app
from referral.audit.models import (
    SEED_CHAIN_HEAD,
    SQLITE_EVENTS_TRIGGERS,
    SQLITE_HEAD_TRIGGERS,
)
from referral.db import Organisation, OrganisationType
from referral.extensions import db, limiter
from referral.security import totp
from referral.security.policy import Role
from tests.factories import Person, make_organisation, make_person

AUDIT_TRIGGER_NAMES = (
    "audit_events_no_update",
    "audit_events_no_delete",
    "audit_chain_head_no_delete",
)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database engine for the run (PostgreSQL URL from REFERRAL_TEST_DATABASE_URL)",
    )


@pytest.fixture(scope="session")
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if engine_name == "postgresql":
        url = os.environ.get("REFERRAL_TEST_DATABASE_URL")
        if not url:
            pytest.exit("--db postgresql needs REFERRAL_TEST_DATABASE_URL", returncode=2)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def drop_everything(url: str) -> None:
    """Start from an empty database (PostgreSQL keeps what earlier runs left)."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        else:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)
            connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, `g`
    and database session, separate from the one the test itself holds open."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(database_url: str, **overrides: Any) -> Flask:
    application = create_app({"DATABASE_URL": database_url, **overrides}, testing=True)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    drop_everything(database_url)
    os.environ.setdefault("REFERRAL_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
    application = make_app(database_url)
    with application.app_context():
        upgrade()
    yield application


def empty_tables(application: Flask) -> None:
    with application.app_context():
        db.session.remove()
        engine = db.engine
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
                connection.execute(
                    sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                )
            else:
                # The audit triggers refuse DELETE: lift them for the clean-up only.
                for name in AUDIT_TRIGGER_NAMES:
                    connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
                for table in tables:
                    connection.execute(sa.text(f'DELETE FROM "{table}"'))
                for statement in (*SQLITE_EVENTS_TRIGGERS, *SQLITE_HEAD_TRIGGERS):
                    connection.execute(sa.text(statement))
            connection.execute(sa.text(SEED_CHAIN_HEAD))


@pytest.fixture(autouse=True)
def _fresh_state(app: Flask) -> Iterator[None]:
    clock.freeze(START)
    limiter.reset()
    ctx = app.app_context()
    ctx.push()
    try:
        yield
    finally:
        db.session.rollback()
        ctx.pop()
        clock.unfreeze()
        empty_tables(app)


@pytest.fixture
def scratch_url(database_url: str, engine_name: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same engine, dropped afterwards."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    name = f"referral_scratch_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        sa.make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def triggers_dropped(app: Flask) -> Iterator[None]:
    """Play the audit table's owner, who removes the append-only triggers; put them back
    afterwards."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as c:
        if dialect == "sqlite":
            c.execute(sa.text("DROP TRIGGER audit_events_no_update"))
            c.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
        else:
            c.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    yield
    with db.engine.begin() as c:
        if dialect == "sqlite":
            c.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            c.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            for statement in SQLITE_EVENTS_TRIGGERS:
                c.execute(sa.text(statement))
        else:
            c.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- people: one fixture per role (built by tests/factories.py) --------------------------


@pytest.fixture
def org() -> Organisation:
    """The organisation of the people below (an international NGO providing services)."""
    return make_organisation("HBI")


@pytest.fixture
def other_org() -> Organisation:
    return make_organisation("LWHA", OrganisationType.NATIONAL_NGO)


@pytest.fixture
def clinic() -> Organisation:
    """A national NGO that receives referrals (its services are in the directory)."""
    return make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)


@pytest.fixture
def admin(org: Organisation) -> Person:
    return make_person(Role.ADMIN, org)


@pytest.fixture
def auditor(org: Organisation) -> Person:
    return make_person(Role.AUDITOR, org)


@pytest.fixture
def coordinator(org: Organisation) -> Person:
    """A GBV coordinator."""
    return make_person(Role.GBV_COORDINATOR, org)


@pytest.fixture
def supervisor(org: Organisation) -> Person:
    return make_person(Role.SUPERVISOR, org)


@pytest.fixture
def caseworker(org: Organisation) -> Person:
    return make_person(Role.CASEWORKER, org)


@pytest.fixture
def receiver(clinic: Organisation) -> Person:
    """The service focal point of the clinic: answers referrals to its services."""
    return make_person(Role.SERVICE_FOCAL_POINT, clinic)


@pytest.fixture
def psea_focal_point(org: Organisation) -> Person:
    return make_person(Role.PSEA_FOCAL_POINT, org)


@pytest.fixture
def psea_coordinator(org: Organisation) -> Person:
    return make_person(Role.PSEA_COORDINATOR, org)


@pytest.fixture
def va_focal_point(org: Organisation) -> Person:
    return make_person(Role.VA_FOCAL_POINT, org)


# --- HTTP helpers ----------------------------------------------------------------------

_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in page"
    return match.group(1) or match.group(2)


def form_post(
    client: FlaskClient, url: str, data: dict[str, Any], *, page: str | None = None
) -> Any:
    """POST like a browser: fetch the page holding the form for its CSRF token first."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_from(html)})


T = TypeVar("T")


def fresh(record: T) -> T:
    """The record re-read from the database (what another request would see); also
    forgets what the type checker narrowed about it before the change under test."""
    db.session.refresh(record)
    return record


def account_csrf(client: FlaskClient) -> str:
    """A valid CSRF token of the signed-in client (from its account page), for posting
    straight to an action: a refusal is then the permission's, not the CSRF check's."""
    return csrf_from(client.get("/auth/account").get_data(as_text=True))


def next_totp(person: Person) -> str:
    """A fresh code: moves the frozen clock to the next 30-second step first."""
    assert person.totp_secret
    clock.advance(timedelta(seconds=totp.STEP_SECONDS))
    return totp.code_at(person.totp_secret, clock.utcnow())


def reauth(person: Person, prefix: str = "") -> dict[str, str]:
    """The password and a fresh authenticator code, as a sensitive change asks again."""
    dash = f"{prefix}-" if prefix else ""
    return {f"{dash}current": person.password, f"{dash}code": next_totp(person)}


def sign_in(client: FlaskClient, person: Person) -> None:
    response = form_post(
        client, "/auth/sign-in", {"email": person.email, "password": person.password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/auth/verify")
    response = form_post(client, "/auth/verify", {"code": next_totp(person)})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def signed_in_admin(client: FlaskClient, admin: Person) -> FlaskClient:
    sign_in(client, admin)
    return client


def output_dir(name: str) -> Path:
    path = Path(__file__).resolve().parent.parent / "test-output" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- real browser ----------------------------------------------------------------------

# Debian's Chromium; REFERRAL_CHROMIUM names another binary (the suite's own test of a
# machine without a browser points it at nothing).
CHROMIUM = os.environ.get("REFERRAL_CHROMIUM", "/usr/bin/chromium")
SKIP_BROWSER_TESTS = "REFERRAL_SKIP_BROWSER_TESTS"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def live_server(app: Flask, engine_name: str) -> Iterator[str]:
    """The test app served over HTTP on a free local port, in a background thread."""
    import threading

    from werkzeug.serving import make_server

    if engine_name != "sqlite":
        pytest.skip("browser tests run in the SQLite pass")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        # A missing browser fails the run: a suite that skipped its browser tests quietly
        # would pass without them. Skipping them is a choice, made with this variable.
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get(SKIP_BROWSER_TESTS) == "1":
            pytest.skip(f"{message}; {SKIP_BROWSER_TESTS}=1")
        pytest.fail(f"{message}, or set {SKIP_BROWSER_TESTS}=1 to skip the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def new_tab(browser: Any, live_server: str, width: int = 1280, height: int = 900) -> Any:
    """A tab in a context of its own (its own cookies: one person per tab)."""
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return tab


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    tab = new_tab(browser, live_server)
    yield tab
    tab.context.close()


def browser_sign_in(page: Any, person: Person) -> None:
    """Sign in through the real pages (password, then a fresh TOTP code)."""
    page.goto("/auth/sign-in")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        next_totp(person)
    )
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how much the access matrix and the hostile-input fuzzing covered."""
    import sys

    matrix = sys.modules.get("tests.test_access_matrix")
    hostile = sys.modules.get("tests.test_hostile_input")
    if matrix is not None and getattr(matrix, "CHECKED", None):
        terminalreporter.write_line(
            f"access matrix: {sum(matrix.CHECKED)} endpoint x role x record answers checked"
        )
    api_matrix = sys.modules.get("tests.test_api_access")
    if api_matrix is not None and getattr(api_matrix, "CHECKED", None):
        terminalreporter.write_line(
            f"API access matrix: {sum(api_matrix.CHECKED)} endpoint x role x record answers"
        )
    schema = sys.modules.get("tests.test_api_schema")
    if schema is not None and getattr(schema, "TRIED", None):
        terminalreporter.write_line(
            f"API schema (schemathesis): {len(schema.TRIED)} generated examples, "
            f"{sum(schema.TRIED)} requests checked against the served OpenAPI document"
        )
    if hostile is not None and getattr(hostile, "TRIED", None):
        terminalreporter.write_line(
            f"hostile input: {sum(hostile.TRIED)} hostile form submissions tried"
        )
