"""Where one request of each key page spends its time: SQL statements (count and time)
and a cProfile summary, in process, against a seeded database.

    source env: REFERRAL_DATABASE_URL, REFERRAL_ENCRYPTION_KEYS, REFERRAL_AUDIT_KEYS, ...
    .venv/bin/python bench/profile_pages.py --credentials users.json [--top 12] [--sql]

Signs the bench users in through the real pages (test client, CSRF, password, TOTP),
with the garbage collector set as in the gunicorn workers (config/gunicorn.conf.py),
warms each page up three times, then measures ``--repeat`` requests (median wall time,
summed SQL time and this process's CPU time, which other load on the machine disturbs
least; number of SQL statements) and profiles one more: the functions
with the most own time (``--sort cumulative``: the most time including callees).
"""

from __future__ import annotations

import argparse
import cProfile
import html
import json
import pstats
import re
import runpy
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from referral import create_app
from referral.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK_RE = re.compile(r'href="/cases/([0-9A-Z]{16})"')


def sign_in(client: FlaskClient, user: dict[str, Any]) -> None:
    def token(path: str) -> str:
        match = CSRF_RE.search(client.get(path).get_data(as_text=True))
        assert match, path
        return html.unescape(match.group(1))

    data = {"csrf_token": token("/auth/sign-in"), "email": user["email"]}
    client.post("/auth/sign-in", data={**data, "password": user["password"]})
    code = pyotp.TOTP(user["totp_secret"]).now()
    response = client.post("/auth/verify", data={"csrf_token": token("/auth/verify"), "code": code})
    assert response.status_code == 302, f"sign-in of {user['role']} failed"


@contextmanager
def sql_timer(app: Flask) -> Iterator[list[tuple[str, float]]]:
    found: list[tuple[str, float]] = []
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found.append((statement, time.perf_counter() - started.pop()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def pages(
    credentials: dict[str, Any], clients: dict[str, FlaskClient]
) -> list[tuple[str, str, str]]:
    text = clients["supervisor"].get("/cases/").get_data(as_text=True)
    case_id = CASE_LINK_RE.findall(text)[0]
    return [
        ("healthz", "supervisor", "/healthz"),
        # the smallest signed-in page: what every page pays (session, base template)
        ("go to code", "supervisor", "/go"),
        ("case list", "supervisor", "/cases/"),
        ("case detail", "supervisor", f"/cases/{case_id}"),
        ("inbox", "caseworker", "/"),
        ("referral queue", "service_focal_point", "/referrals/"),
        ("allegation list", "psea_coordinator", "/allegations/"),
        ("audit log", "auditor", "/audit/?action=case.viewed"),
        ("pathway", "caseworker", f"/pathways/areas/{credentials['pathway_area']}"),
        ("statistics", "gbv_coordinator", "/reports/"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--sql", action="store_true", help="print every statement")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument(
        "--sort", default="tottime", help="pstats order: tottime (own time) or cumulative"
    )
    args = parser.parse_args()
    credentials = json.loads(args.credentials.read_text(encoding="utf-8"))
    app = create_app()
    clients: dict[str, FlaskClient] = {}
    for user in credentials["users"]:
        if user["role"] not in clients:
            clients[user["role"]] = app.test_client()
            sign_in(clients[user["role"]], user)
    # The garbage collector as a gunicorn worker of config/gunicorn.conf.py runs it.
    runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))["post_worker_init"](None)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    for name, role, path in pages(credentials, clients):
        if only and name not in only:
            continue
        client = clients[role]
        for _ in range(3):
            assert client.get(path).status_code == 200, name
        walls, cpus, sqls = [], [], []
        for _ in range(args.repeat):
            with sql_timer(app) as statements:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(path)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu_started)
            assert response.status_code == 200, name
            sqls.append(sum(seconds for _s, seconds in statements))
        wall, cpu, sql = (statistics.median(v) for v in (walls, cpus, sqls))
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(path)
        profiler.disable()
        print(
            f"\n=== {name} {path}: {wall * 1000:.1f} ms, {len(statements)} statements, "
            f"SQL {sql * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms (medians of {args.repeat}) ==="
        )
        if args.sql:
            for statement, seconds in statements:
                print(f"  {seconds * 1000:7.1f} ms  {' '.join(statement.split())[:160]}")
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
