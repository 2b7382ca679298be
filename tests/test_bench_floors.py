"""The benchmark reads every page over two floors measured in the same run: the app's
own /healthz and a bare one-route Flask app served with the same gunicorn settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench import bare_app, run
from bench.load import BARE, HEALTHZ, Page, report


def test_bench_bare_flask_floor_is_one_route_without_the_app() -> None:
    client = bare_app.app.test_client()
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert [rule.rule for rule in bare_app.app.url_map.iter_rules()] == [
        "/static/<path:filename>",
        "/",
    ]
    assert not bare_app.app.extensions  # no database, session store, limiter or babel


def test_bench_reports_every_page_over_both_floors() -> None:
    pages = [
        Page(BARE, BARE, ["/"], samples=[0.002] * 20),
        Page(HEALTHZ, None, ["/healthz"], samples=[0.004] * 20),
        Page("case list", "supervisor", ["/cases/"], samples=[0.010] * 39 + [0.030]),
    ]
    rows = {row["page"]: row for row in report(pages)}
    assert rows["case list"]["p95_ms"] == 10.0
    assert rows["case list"]["p95_over_floor"] == 2.5  # over /healthz
    assert rows["case list"]["p95_over_bare"] == 5.0
    assert rows[HEALTHZ]["p95_over_bare"] == 2.0
    assert rows[BARE]["p95_over_bare"] == 1.0


def test_bench_serves_the_bare_floor_with_the_apps_gunicorn_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.serve builds one command line for both servers: only the app differs."""
    commands: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda args, **_kwargs: commands.append(args))
    run.serve("referral:create_app()", 9001, {}, tmp_path)
    run.serve("bare_app:app", 9001, {}, tmp_path, "--pythonpath", "bench")
    app_args, bare_args = commands
    assert bare_args == [
        *app_args[:-1],
        "--pythonpath",
        "bench",
        "bare_app:app",
    ]
    assert app_args[app_args.index("--workers") + 1] == "2"


def test_bench_warms_every_page_up_from_all_threads_before_timing_it() -> None:
    """The warm-up requests are sent from the timing threads and are not timed: every
    gunicorn worker has compiled and prepared the page's statements before it counts."""
    import threading
    import time

    from bench.load import measure

    class Recorder:
        def __init__(self) -> None:
            self.threads: list[int] = []
            self.paths: list[str] = []
            self.lock = threading.Lock()

        def request(self, path: str) -> tuple[int, str]:
            with self.lock:
                self.threads.append(threading.get_ident())
                self.paths.append(path)
            time.sleep(0.002)  # a request takes a while: the other threads take the next
            return 200, ""

    client = Recorder()
    page = Page("case detail", "supervisor", ["/cases/A", "/cases/B"])
    measure(page, client, 30, 4, 10.0, 20)  # type: ignore[arg-type]
    assert len(client.paths) == 50
    assert len(page.samples) == 30 and page.errors == 0
    assert set(client.paths[:20]) == {"/cases/A", "/cases/B"}
    assert len(set(client.threads[:20])) > 1
