"""HTTP load driver: real sign-ins (CSRF, password, TOTP), then timed page requests.

    .venv/bin/python bench/load.py --base http://127.0.0.1:8811 --credentials bench-users.json

Only talks to 127.0.0.1 / localhost, with a bounded number of requests and a bounded time.
Each user signs in once through the real sign-in pages (one TOTP code per user per
30-second window: the server refuses a replayed code) and keeps its session.

For every page: ``--requests`` timed requests from ``--threads`` threads after
``--warmup`` untimed ones from the same threads (20: every gunicorn worker has served
the page several times, its statements compiled and prepared); prints p50/p95/p99,
requests per second, and the page's p95 over two floors measured in the same run:
``/healthz`` (the app itself, one trivial database round-trip) and, with
``--bare-base``, a bare one-route Flask app (bench/bare_app.py) served by gunicorn with
the same settings. Then a mixed workload of the app's pages for
``--mixed-seconds`` seconds, counting errors (any status other than 200, or no answer).
``--json`` writes the figures for bench/run.py.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import random
import re
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pyotp

ALLOWED_HOSTS = {"127.0.0.1", "localhost"}
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK_RE = re.compile(r'href="/cases/([0-9A-Z]{16})"')
TIMEOUT = 60.0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """One browser: a cookie jar and an opener. Thread-safe enough (CookieJar locks)."""

    def __init__(self, base: str, *, follow: bool = True) -> None:
        host = urllib.parse.urlsplit(base).hostname
        if host not in ALLOWED_HOSTS:
            raise SystemExit(f"refusing to load {host!r}: the driver only talks to 127.0.0.1")
        self.base = base.rstrip("/")
        self.jar = CookieJar()
        handlers: list[Any] = [urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow:
            handlers.append(NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        status, text, _url = self.fetch(path, data)
        return status, text

    def fetch(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, body and the final URL after any redirects."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)  # noqa: S310 - host checked
        try:
            with self.opener.open(req, timeout=TIMEOUT) as response:
                text = response.read().decode("utf-8", "replace")
                return response.status, text, response.geturl()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), exc.geturl()

    def csrf(self, path: str) -> str:
        status, text = self.request(path)
        match = CSRF_RE.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return html.unescape(match.group(1))

    def sign_in(self, email: str, password: str, totp_secret: str) -> None:
        token = self.csrf("/auth/sign-in")
        status, text = self.request(
            "/auth/sign-in", {"csrf_token": token, "email": email, "password": password}
        )
        if status != 200 or ("/auth/verify" not in text and 'name="code"' not in text):
            raise RuntimeError(f"sign-in of {email} failed with status {status}")
        token = self.csrf("/auth/verify")
        code = pyotp.TOTP(totp_secret).now()
        status, _text, url = self.fetch("/auth/verify", {"csrf_token": token, "code": code})
        # A refused code renders the form again at /auth/verify; success redirects away
        # (a page that itself has a field named "code" must not read as a refusal).
        if status != 200 or urllib.parse.urlsplit(url).path.rstrip("/") == "/auth/verify":
            raise RuntimeError(f"second factor of {email} refused (status {status})")


@dataclass
class Page:
    name: str
    role: str | None  # None: no session
    paths: list[str]
    samples: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0

    def path(self, i: int) -> str:
        return self.paths[i % len(self.paths)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def run_threads(threads: int, work: Callable[[int], None]) -> float:
    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def warm_up(page: Page, client: Client, requests: int, threads: int) -> None:
    """Untimed requests from the same threads as the timed ones, so that both workers
    serve the page a few times first: each compiles its statements and templates once,
    and psycopg prepares a statement on a connection at its sixth execution there."""
    counter = iter(range(requests))
    lock = threading.Lock()

    def work(_: int) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            with contextlib.suppress(OSError):  # counted, if it lasts, by the timed ones
                client.request(page.path(i))

    run_threads(threads, work)


def measure(
    page: Page, client: Client, requests: int, threads: int, seconds: float, warmup: int
) -> None:
    """``warmup`` untimed requests, then ``requests`` timed requests, or as many as start
    within ``seconds``."""
    warm_up(page, client, warmup, threads)
    counter = iter(range(requests))
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(_: int) -> None:
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            try:
                status, _body = client.request(page.path(i))
            except OSError:
                status = 0
            elapsed = time.perf_counter() - t0
            with lock:
                page.samples.append(elapsed)
                if status != 200:
                    page.errors += 1

    page.wall = run_threads(threads, work)


def mixed(
    pages: list[Page], clients: dict[str | None, Client], seconds: float, threads: int
) -> dict[str, Any]:
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    counts = {"requests": 0, "errors": 0}
    samples: list[float] = []
    error_pages: dict[str, int] = {}
    weights = [3 if p.role is None else 1 for p in pages]

    def work(seed: int) -> None:
        rng = random.Random(seed)
        n = 0
        while time.perf_counter() < deadline and n < 100_000:
            page = rng.choices(pages, weights)[0]
            t0 = time.perf_counter()
            try:
                status, _body = clients[page.role].request(page.path(rng.randrange(1000)))
            except OSError:
                status = 0
            elapsed = time.perf_counter() - t0
            n += 1
            with lock:
                counts["requests"] += 1
                samples.append(elapsed)
                if status != 200:
                    counts["errors"] += 1
                    error_pages[page.name] = error_pages.get(page.name, 0) + 1

    wall = run_threads(threads, work)
    return {
        "seconds": wall,
        "requests": counts["requests"],
        "errors": counts["errors"],
        "error_pages": error_pages,
        "rps": counts["requests"] / wall,
        "p95_ms": percentile(samples, 95) * 1000,
    }


HEALTHZ = "healthz (floor)"
BARE = "bare Flask (floor)"


def build_pages(credentials: dict[str, Any], clients: dict[str | None, Client]) -> list[Page]:
    status, text = clients["supervisor"].request("/cases/")
    case_ids = list(dict.fromkeys(CASE_LINK_RE.findall(text)))
    if status != 200 or not case_ids:
        raise RuntimeError(f"the supervisor's case list shows no cases (status {status})")
    bare = [Page(BARE, BARE, ["/"])] if BARE in clients else []
    return [
        *bare,
        Page(HEALTHZ, None, ["/healthz"]),
        Page("case list", "supervisor", ["/cases/"]),
        Page("case list filtered", "supervisor", ["/cases/?stage=implementation&risk=high"]),
        Page("case detail", "supervisor", [f"/cases/{c}" for c in case_ids]),
        Page("inbox", "caseworker", ["/"]),
        Page("referral queue", "service_focal_point", ["/referrals/"]),
        Page("allegation list", "psea_coordinator", ["/allegations/"]),
        Page("audit log filtered", "auditor", ["/audit/?action=case.viewed"]),
        Page("statistics", "gbv_coordinator", ["/reports/"]),
        Page("pathway", "caseworker", [f"/pathways/areas/{credentials['pathway_area']}"]),
    ]


def sign_in_roles(
    base: str, credentials: dict[str, Any], roles: set[str]
) -> dict[str | None, Client]:
    clients: dict[str | None, Client] = {None: Client(base)}
    for role in sorted(roles):
        user = next(u for u in credentials["users"] if u["role"] == role)
        client = Client(base)
        client.sign_in(user["email"], user["password"], user["totp_secret"])
        clients[role] = client
    return clients


def report(pages: list[Page]) -> list[dict[str, Any]]:
    floors = {page.name: percentile(page.samples, 95) for page in pages}
    healthz, bare = floors[HEALTHZ], floors.get(BARE, float("nan"))
    rows = []
    print(
        f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}"
        f"{'/healthz':>10}{'/bare':>8}{'errors':>8}{'n':>6}"
    )
    for page in pages:
        p50, p95, p99 = (percentile(page.samples, q) for q in (50, 95, 99))
        rps = len(page.samples) / page.wall if page.wall else 0.0
        ratio = p95 / healthz if healthz else float("nan")
        over_bare = p95 / bare if bare else float("nan")
        print(
            f"{page.name:<22}{p50 * 1000:9.1f}{p95 * 1000:9.1f}{p99 * 1000:9.1f}"
            f"{rps:8.1f}{ratio:10.1f}{over_bare:8.1f}{page.errors:8d}{len(page.samples):6d}"
        )
        rows.append(
            {
                "page": page.name,
                "p50_ms": p50 * 1000,
                "p95_ms": p95 * 1000,
                "p99_ms": p99 * 1000,
                "rps": rps,
                "p95_over_floor": ratio,  # over /healthz
                "p95_over_bare": over_bare,
                "errors": page.errors,
                "n": len(page.samples),
                "median_ms": statistics.median(page.samples) * 1000 if page.samples else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8811")
    parser.add_argument(
        "--bare-base", default="", help="the bare Flask app (bench/bare_app.py), e.g. :8812"
    )
    parser.add_argument("--credentials", type=Path, default=Path("bench-users.json"))
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed requests per page before its timed ones"
    )
    parser.add_argument(
        "--page-seconds", type=float, default=40.0, help="time bound per page (seconds)"
    )
    parser.add_argument("--mixed-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if not 1 <= args.requests <= 10_000 or not 0 <= args.mixed_seconds <= 600:
        raise SystemExit("--requests must be 1..10000 and --mixed-seconds 0..600")
    if not 0 <= args.warmup <= 1_000:
        raise SystemExit("--warmup must be 0..1000")
    credentials = json.loads(args.credentials.read_text(encoding="utf-8"))
    roles = {"supervisor", "service_focal_point", "psea_coordinator", "auditor"}
    roles |= {"gbv_coordinator", "caseworker"}
    clients = sign_in_roles(args.base, credentials, roles)
    if args.bare_base:
        clients[BARE] = Client(args.bare_base)
    pages = build_pages(credentials, clients)
    load_before = os.getloadavg()
    for page in pages:
        measure(
            page, clients[page.role], args.requests, args.threads, args.page_seconds, args.warmup
        )
    load_after = os.getloadavg()
    rows = report(pages)
    # The machine may be shared: its 1-minute load average before and after the pages.
    load_average = f"{load_before[0]:.1f} -> {load_after[0]:.1f}"
    print(f"load average (1 min) before and after the pages: {load_average}")
    result: dict[str, Any] = {"pages": rows, "load_average": load_average}
    if args.mixed_seconds:
        app_pages = [page for page in pages if page.name != BARE]
        result["mixed"] = mixed(app_pages, clients, args.mixed_seconds, args.threads)
        m = result["mixed"]
        print(
            f"mixed workload: {m['requests']} requests in {m['seconds']:.0f} s "
            f"({m['rps']:.1f}/s, p95 {m['p95_ms']:.0f} ms), errors: {m['errors']}"
            + (f" {m['error_pages']}" if m["errors"] else "")
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
