"""The whole benchmark in one command: fresh database, migrate, seed, gunicorn, load, stop.

    .venv/bin/python bench/run.py           # PostgreSQL at 10k and 100k, SQLite at 10k
    .venv/bin/python bench/run.py --sizes 2000 --sqlite-cases 2000 --mixed-seconds 10  # quick

For each size on PostgreSQL (database ``--db-name``, dropped and created again; never
point it at a database you care about) and once on SQLite (a file in a temp directory):
``referral db upgrade``, bench/seed.py (10 audit events per case), ``referral audit
verify`` (timed), then gunicorn with config/gunicorn.conf.py and 2 workers in production
mode (generated secret key and encryption key, rate limits in Redis, sign-in limits
raised for the driver's users) and, beside it with the same gunicorn settings (the same
configuration file), the bare one-route Flask app of
bench/bare_app.py; bench/load.py measures both (every page's p95 over /healthz and over
the bare app, same driver, same run), and both are stopped. At the end: the growth ratio
of each page's p95 from the smallest to the largest PostgreSQL size. If bench/rotation.py
exists and ``--rotation`` is given, its full key rotation runs too.

``--state DIR`` keeps a seeded database for later runs (seeding 100,000 cases takes
minutes): the first run with DIR seeds as above and then writes, per size, what a later
run needs into DIR (``<label>.json``: database URL, encryption and audit keys, case and
event counts; ``users-<label>.json``: the seeded users' credentials; the SQLite file, if
any). A later run with the same DIR and the same sizes skips the fresh database,
migrations, seed and ``audit verify`` and goes straight to serving and load (a new
secret key each run; the data is whatever earlier runs left, including their audit
events; a migration added since is not applied: run ``referral db upgrade`` with the
URL and keys of ``<label>.json``). With ``--state``, at most one PostgreSQL size (there
is one ``--db-name``).
The state is written only once a size is seeded and verified, so an interrupted seed
starts again; delete DIR (and drop the database) to start afresh.

    .venv/bin/python bench/run.py --sizes 100000 --sqlite-cases 0 --state /tmp/bench-100k

Needs a local PostgreSQL (``--pg``) and Redis (``--redis``). Plain HTTP on 127.0.0.1,
so the session cookie is not marked Secure for this run (production keeps it Secure).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from seed import seed  # noqa: E402 - bench scripts import each other by path

from referral.security.crypto import generate_key_entry  # noqa: E402


def pg_url(base: str, name: str) -> str:
    return base.rsplit("/", 1)[0] + "/" + name


def fresh_postgresql(admin_url: str, name: str) -> str:
    if not name.replace("_", "").isalnum() or "bench" not in name:
        raise SystemExit("--db-name must be a plain identifier containing 'bench'")
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return pg_url(admin_url, name)


def app_env(url: str, keys: str, audit_keys: str, instance: Path, redis: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REFERRAL_ENV": "production",
            "REFERRAL_SECRET_KEY": secrets.token_urlsafe(48),
            "REFERRAL_ENCRYPTION_KEYS": keys,
            "REFERRAL_AUDIT_KEYS": audit_keys,
            "REFERRAL_DATABASE_URL": url,
            "REFERRAL_INSTANCE_PATH": str(instance),
            "REFERRAL_RATELIMIT_STORAGE_URI": redis,
            "REFERRAL_SIGN_IN_LIMIT_PER_ADDRESS": "1000 per minute",
            "REFERRAL_TOTP_LIMIT_PER_ACCOUNT": "100 per minute",
            "REFERRAL_SESSION_COOKIE_SECURE": "false",
            "REFERRAL_SESSION_IDLE_MINUTES": "60",
        }
    )
    return env


def timed_command(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started, (done.stdout + done.stderr).strip()


def serve(
    app: str, port: int, env: dict[str, str], cwd: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """gunicorn as the bench runs every server it measures: 2 workers, the same settings
    (config/gunicorn.conf.py, the production configuration, for the app and the floor)."""
    return subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            *extra,
            app,
        ],
        env=env,
        cwd=cwd,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(
    base: str, process: subprocess.Popen[bytes], seconds: float = 60, path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            with urllib.request.urlopen(base + path, timeout=2) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not become healthy")


def saved_state(state: Path | None, label: str, cases: int) -> dict[str, Any] | None:
    """What an earlier ``--state`` run kept for this size, or None when there is nothing."""
    if state is None or not (state / f"{label}.json").exists():
        return None
    saved: dict[str, Any] = json.loads((state / f"{label}.json").read_text(encoding="utf-8"))
    if saved["cases"] != cases:
        raise SystemExit(f"{state} holds {saved['cases']:,} cases for {label}, not {cases:,}")
    return saved


def prepare(
    label: str, url: str, cases: int, args: argparse.Namespace, work: Path, keep: Path
) -> dict[str, Any]:
    """Migrate, seed and verify a fresh database; the state a run needs to serve it
    (the seeded users' credentials are written into ``keep``)."""
    keys = generate_key_entry("bench")
    audit_keys = generate_key_entry("benchaudit")
    env = app_env(url, keys, audit_keys, work, args.redis)
    seconds, _ = timed_command([str(BIN / "referral"), "db", "upgrade"], env)
    print(f"migrations: {seconds:.1f} s", flush=True)
    credentials = keep / f"users-{label}.json"
    seeded = seed(
        url,
        keys,
        audit_keys=audit_keys,
        cases=cases,
        events=cases * args.events_per_case,
        credentials_path=credentials,
    )
    for step, step_seconds in seeded["timings"].items():
        print(f"  seed {step}: {step_seconds:.1f} s")
    print(f"seeded {sum(seeded['rows'].values()):,} rows in {seeded['seconds']:.1f} s", flush=True)
    # The seed writes with bulk inserts, past the session hooks that keep the counts.
    seconds, rebuilt = timed_command([str(BIN / "referral"), "statistics", "rebuild"], env)
    print(f"`referral statistics rebuild`: {seconds:.1f} s -- {rebuilt.splitlines()[-1]}")
    verify_seconds, verify_out = timed_command([str(BIN / "referral"), "audit", "verify"], env)
    print(
        f"`referral audit verify` ({cases * args.events_per_case:,} events): "
        f"{verify_seconds:.1f} s for the whole command -- {verify_out.splitlines()[-1]}",
        flush=True,
    )
    _, verify_best = timed_command(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--verify"], env
    )
    print(verify_best.splitlines()[-1], flush=True)
    verify_seconds = float(verify_best.split("best ")[1].split(" s")[0])
    return {
        "url": url,
        "keys": keys,
        "audit_keys": audit_keys,
        "cases": cases,
        "events": cases * args.events_per_case,
        "credentials": credentials.name,
        "seed_seconds": seeded["seconds"],
        "verify_seconds": verify_seconds,
    }


def one_run(
    label: str, cases: int, args: argparse.Namespace, work: Path, fresh_url: Callable[[], str]
) -> dict[str, Any]:
    print(f"\n=== {label}: {cases:,} cases ===", flush=True)
    prepared = saved_state(args.state, label, cases)
    if prepared is None:
        prepared = prepare(label, fresh_url(), cases, args, work, args.state or work)
        if args.state:
            state_file = args.state / f"{label}.json"
            state_file.touch(mode=0o600)  # it holds the bench database's keys
            state_file.write_text(json.dumps(prepared, indent=1), encoding="utf-8")
            print(f"state kept in {state_file}", flush=True)
    else:
        print(f"reusing the database seeded earlier ({prepared['url']}; --state)", flush=True)
        # Its verify time belongs to the run that seeded it.
        prepared = {**prepared, "seed_seconds": None, "verify_seconds": None}
    url, keys, audit_keys = prepared["url"], prepared["keys"], prepared["audit_keys"]
    credentials = (args.state or work) / prepared["credentials"]
    env = app_env(url, keys, audit_keys, work, args.redis)
    base = f"http://127.0.0.1:{args.port}"
    bare_base = f"http://127.0.0.1:{args.port + 1}"
    gunicorn = serve("referral:create_app()", args.port, env, work)
    bare = serve("bare_app:app", args.port + 1, env, work, "--pythonpath", str(ROOT / "bench"))
    try:
        wait_healthy(base, gunicorn)
        wait_healthy(bare_base, bare, path="/")
        figures = work / f"load-{label}.json"
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                str(ROOT / "bench" / "load.py"),
                "--base",
                base,
                "--bare-base",
                bare_base,
                "--credentials",
                str(credentials),
                "--requests",
                str(args.requests),
                "--threads",
                str(args.threads),
                "--warmup",
                str(args.warmup),
                "--mixed-seconds",
                str(args.mixed_seconds),
                "--json",
                str(figures),
            ],
            check=True,
        )
        result: dict[str, Any] = json.loads(figures.read_text(encoding="utf-8"))
    finally:
        stop(gunicorn)
        stop(bare)
    result.update(
        label=label,
        cases=cases,
        seed_seconds=prepared["seed_seconds"],
        verify_seconds=prepared["verify_seconds"],
    )
    return result


def growth(small: dict[str, Any], large: dict[str, Any]) -> None:
    """p95 growth per page; also relative to each run's /healthz floor, since a shared
    machine's load can differ between the two runs (the floor moves with it); and each
    page's p95 at the large size over both floors."""
    print(f"\n=== growth {small['cases']:,} -> {large['cases']:,} cases (PostgreSQL, p95) ===")
    before = {row["page"]: row for row in small["pages"]}
    for run in (small, large):
        print(f"load average during the {run['cases']:,}-case run: {run.get('load_average')}")
    print(
        f"{'page':<22}{'small ms':>10}{'large ms':>10}{'growth':>8}"
        f"{'growth/floor':>14}{'x healthz':>11}{'x bare':>8}"
    )
    for row in large["pages"]:
        old = before[row["page"]]
        print(
            f"{row['page']:<22}{old['p95_ms']:10.1f}{row['p95_ms']:10.1f}"
            f"{row['p95_ms'] / old['p95_ms']:8.2f}"
            f"{row['p95_over_floor'] / old['p95_over_floor']:14.2f}"
            f"{row['p95_over_floor']:11.1f}{row.get('p95_over_bare', float('nan')):8.1f}"
        )


def verify_only() -> None:
    """Time ``verify_chain`` itself (best of two), in the app configured by the environment."""
    from referral import create_app
    from referral.audit.services import verify_chain
    from referral.extensions import db

    app = create_app()
    timings = []
    with app.app_context():
        for _ in range(2):
            started = time.perf_counter()
            result = verify_chain(db.session())
            timings.append(time.perf_counter() - started)
            db.session.remove()
    if not result.ok:
        raise SystemExit(result.message())
    print(f"verify_chain over {result.checked:,} events: best {min(timings):.1f} s of 2")


def main() -> None:
    if sys.argv[1:] == ["--verify"]:
        verify_only()
        return
    if sys.argv[1:2] == ["--report"]:  # print the growth table of a saved --out file
        saved = [r for r in json.loads(Path(sys.argv[2]).read_text()) if "postgresql" in r["label"]]
        growth(saved[0], saved[-1])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="URL of a PostgreSQL database used to create the bench database",
    )
    parser.add_argument("--db-name", default="referral_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sizes", default="10000,100000", help="PostgreSQL case counts")
    parser.add_argument("--sqlite-cases", type=int, default=10_000, help="0: no SQLite run")
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed requests per page (bench/load.py)"
    )
    parser.add_argument("--mixed-seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8811)
    parser.add_argument("--rotation", action="store_true", help="also run bench/rotation.py")
    parser.add_argument("--out", type=Path, help="write every figure as JSON here")
    parser.add_argument(
        "--state", type=Path, help="keep the seeded database for later runs (see above)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.state:
        if len(sizes) > 1:
            raise SystemExit("--state takes one PostgreSQL size (there is one --db-name)")
        args.state = args.state.resolve()
        args.state.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="referral-bench-") as tmp:
        work = Path(tmp)
        sqlite_dir = args.state or work
        for size in sizes:
            fresh = functools.partial(fresh_postgresql, args.pg, args.db_name)
            results.append(one_run(f"postgresql-{size}", size, args, work, fresh))
        if args.sqlite_cases:
            sqlite_file = sqlite_dir / "bench.sqlite"

            def fresh_sqlite() -> str:
                sqlite_file.unlink(missing_ok=True)
                return f"sqlite:///{sqlite_file}"

            label = f"sqlite-{args.sqlite_cases}"
            results.append(one_run(label, args.sqlite_cases, args, work, fresh_sqlite))
        if args.rotation and (ROOT / "bench" / "rotation.py").exists():
            url = fresh_postgresql(args.pg, args.db_name)
            subprocess.run(  # noqa: S603
                [sys.executable, str(ROOT / "bench" / "rotation.py"), "--url", url], check=True
            )
    pg = [r for r in results if r["label"].startswith("postgresql")]
    if len(pg) >= 2:
        growth(pg[0], pg[-1])
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
