"""Real-browser sign-in and form posts over HTTPS, in production mode under gunicorn.

Two deployments a browser reaches over TLS: gunicorn terminating TLS itself with a
self-signed certificate made here, and gunicorn on plain HTTP behind a TLS-terminating
proxy that sets X-Forwarded-For and X-Forwarded-Proto (PROXY_COUNT=1). Each time a new
user signs in with the one-time password from the command line, sets a password, enrols
an authenticator, saves a form and signs out: every step a POST the CSRF and origin
checks must accept.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from referral.security import totp
from referral.security.crypto import generate_key_entry
from tests.conftest import output_dir
from tests.tls_helpers import self_signed_certificate

pytestmark = pytest.mark.browser

BIN = Path(sys.executable).parent
PROXY_CLIENT_ADDRESS = "203.0.113.7"  # what the test proxy reports as the client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    base_url: str
    database: Path
    one_time_password: str
    email: str = "caseworker@example.org"


def production_env(directory: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REFERRAL_") and key != "CI"
    }
    env.update(
        REFERRAL_ENV="production",
        REFERRAL_SECRET_KEY=secrets.token_urlsafe(48),
        REFERRAL_ENCRYPTION_KEYS=generate_key_entry("https1"),
        REFERRAL_AUDIT_KEYS=generate_key_entry("httpsaudit1"),
        REFERRAL_DATABASE_URL=f"sqlite:///{directory / 'https.sqlite'}",
        REFERRAL_INSTANCE_PATH=str(directory / "instance"),
        REFERRAL_ARGON2_TIME_COST="1",
        REFERRAL_ARGON2_MEMORY_KIB="1024",
        REFERRAL_ARGON2_PARALLELISM="1",
        REFERRAL_SINGLE_WORKER="true",  # gunicorn -w 1: memory:// rate limits are allowed
        **extra,
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(BIN / "referral"), *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def prepare(env: dict[str, str]) -> str:
    """Migrate, add an organisation and a caseworker; the one-time password."""
    run_cli(env, "db", "upgrade")
    run_cli(env, "orgs", "create", "--name", "Hope Bridge", "--acronym", "HB", "--type",
            "international_ngo", "--provides-services")  # fmt: skip
    out = run_cli(env, "users", "create", "--email", "caseworker@example.org", "--name",
                  "Case Worker", "--role", "caseworker", "--org", "HB")  # fmt: skip
    match = re.search(r"One-time password[^:]*: (\S+)", out)
    assert match, out
    return match.group(1)


def wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    host, port = base_url.split("://")[1].split(":")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("gunicorn exited during start-up")
        try:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, int(port), timeout=2, context=context
            )
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer over HTTPS")


def start_gunicorn(env: dict[str, str], port: int, *tls: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own console script
        [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", *tls,
         "referral:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def gunicorn_tls(engine_name: str, tmp_path: Path) -> Iterator[Deployment]:
    """gunicorn serving HTTPS itself with a self-signed certificate."""
    if engine_name != "sqlite":
        pytest.skip("browser tests run in the SQLite pass")
    cert, key = self_signed_certificate(tmp_path)
    env = production_env(tmp_path)
    one_time_password = prepare(env)
    port = free_port()
    process = start_gunicorn(env, port, "--certfile", str(cert), "--keyfile", str(key))
    try:
        wait_until_serving(f"https://127.0.0.1:{port}", process)
        yield Deployment(f"https://127.0.0.1:{port}", tmp_path / "https.sqlite", one_time_password)
    finally:
        stop(process)


class TLSProxy(BaseHTTPRequestHandler):
    """A TLS-terminating reverse proxy in a few lines, as nginx would be configured:
    it sets X-Forwarded-For (the client) and X-Forwarded-Proto and keeps the Host."""

    upstream_port = 0

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        headers["X-Forwarded-For"] = PROXY_CLIENT_ADDRESS
        headers["X-Forwarded-Proto"] = "https"
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        payload = answer.read()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_HEAD = _forward  # noqa: N815 - the names http.server calls

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def behind_tls_proxy(engine_name: str, tmp_path: Path) -> Iterator[Deployment]:
    """gunicorn on plain HTTP behind the TLS proxy above, with PROXY_COUNT=1."""
    if engine_name != "sqlite":
        pytest.skip("browser tests run in the SQLite pass")
    cert, key = self_signed_certificate(tmp_path)
    env = production_env(tmp_path, REFERRAL_PROXY_COUNT="1")
    one_time_password = prepare(env)
    app_port = free_port()
    process = start_gunicorn(env, app_port)
    handler = type("Proxy", (TLSProxy,), {"upstream_port": app_port})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    proxy.socket = context.wrap_socket(proxy.socket, server_side=True)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    base_url = f"https://127.0.0.1:{proxy.server_port}"
    try:
        wait_until_serving(base_url, process)
        yield Deployment(base_url, tmp_path / "https.sqlite", one_time_password)
    finally:
        proxy.shutdown()
        stop(process)


def first_sign_in_and_form_posts(browser: Any, deployment: Deployment, shots: Path) -> None:
    context = browser.new_context(base_url=deployment.base_url, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        first = page.goto("/auth/sign-in")
        assert first is not None
        assert first.headers["strict-transport-security"].startswith("max-age=")
        assert first.headers["referrer-policy"] == "same-origin"
        page.get_by_label("E-mail").fill(deployment.email)
        page.get_by_label("Password", exact=True).fill(deployment.one_time_password)
        page.get_by_role("button", name="Sign in").click()

        page.wait_for_url("**/auth/first-password")
        new_password = "harbour violet sketch tumble 7"
        page.get_by_label("New password", exact=True).fill(new_password)
        page.get_by_label("Repeat the new password").fill(new_password)
        page.get_by_role("button", name="Set password").click()

        page.wait_for_url("**/auth/enrol")
        secret = page.locator("#totp-secret").inner_text().strip()
        code = totp.code_at(secret, dt.datetime.now(dt.UTC))
        page.get_by_label("6-digit code shown by your authenticator app").fill(code)
        page.get_by_role("button", name="Confirm and continue").click()
        page.get_by_role("link", name="I have kept them, continue").click()
        page.wait_for_url("**/")
        expect(page.get_by_role("heading", name="What needs you now")).to_be_visible()
        page.screenshot(path=str(shots / "1-signed-in.png"))

        page.goto("/auth/account")
        page.get_by_label("Language").select_option("en")
        page.get_by_role("button", name="Save language").click()
        expect(page.get_by_text("Language saved.")).to_be_visible()
        page.screenshot(path=str(shots / "2-form-saved.png"))

        page.get_by_role("button", name="Sign out", exact=True).click()
        page.wait_for_url("**/auth/sign-in")
        expect(page.get_by_text("You are signed out.")).to_be_visible()
    finally:
        context.close()


def audit_rows(database: Path) -> list[tuple[str, str | None]]:
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT action, client_address FROM audit_events ORDER BY id")
        ).all()
    engine.dispose()
    return [(row[0], row[1]) for row in rows]


def test_item1_https_sign_in_and_form_post_under_gunicorn_tls(
    browser: Any, gunicorn_tls: Deployment
) -> None:
    first_sign_in_and_form_posts(browser, gunicorn_tls, output_dir("browser-https/gunicorn"))
    actions = [action for action, _ in audit_rows(gunicorn_tls.database)]
    assert {"auth.sign_in", "auth.language_changed", "auth.sign_out"} <= set(actions)


def test_item1_item2_https_sign_in_behind_a_proxy_with_x_forwarded_proto(
    browser: Any, behind_tls_proxy: Deployment
) -> None:
    first_sign_in_and_form_posts(browser, behind_tls_proxy, output_dir("browser-https/proxy"))
    rows = audit_rows(behind_tls_proxy.database)
    assert {"auth.sign_in", "auth.language_changed", "auth.sign_out"} <= {a for a, _ in rows}
    # The audit trail names the client the proxy reported, never the proxy itself
    # (events of the command line have no address).
    assert {address for _, address in rows} - {None} == {PROXY_CLIENT_ADDRESS}
