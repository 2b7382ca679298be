"""Light pages, measured in the browser over the demo data: the pages the journeys visit,
each loaded first in a fresh browser context (empty cache: the document and every
resource count) and then again, as a later page, in the same context (only what is
actually fetched counts; a 304 or a cache hit brings no body). Sizes are uncompressed
bodies. Figures in test-output/page-weights.txt.

Budgets: nothing from another host; one stylesheet and at most one script; a
first load under 100 KB, a later page under 30 KB; text responses gzip-compressed by the
app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from referral.assistance.models import AssistanceRecord
from referral.cases.models import Case
from referral.compression import MINIMUM_SIZE
from referral.db import User
from referral.directory.models import Area, Service
from referral.extensions import db
from referral.pathways import services as pathways
from referral.pathways.models import PathwayStatus, PathwayVersion
from referral.psea.models import Allegation
from referral.security.policy import Role
from tests.accessibility import page_pattern
from tests.conftest import output_dir
from tests.demo_world import (  # noqa: F401 - fixtures used by this module
    demo_world_fixture,
    keep_module_data,
    sign_in,
)
from tests.factories import DEMO_EMAILS, DemoWorld, sent_referral_to_the_clinic

pytestmark = pytest.mark.browser

FIRST_LOAD_BUDGET = 100_000
LATER_PAGE_BUDGET = 30_000
# The statistics page carries eight tables of counts, each beside a chart with its text
# alternative, for the whole demo year (twelve months of 300 cases). With lean markup per
# cell and per bar it weighs about 33 KB on a later load (31 KB for a coordinator); what
# is left is the figures and their spoken text, which cannot go without losing information.
LATER_PAGE_BUDGETS = {"/reports/": 36_000}
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass
class Load:
    """What one page load fetched."""

    bytes: int = 0
    requests: int = 0
    stylesheets: int = 0
    scripts: int = 0
    problems: list[str] = field(default_factory=list)


def _measure(page: Any, path: str, origin: str) -> Load:
    responses: list[Any] = []
    requests: list[str] = []

    def on_response(response: Any) -> None:
        responses.append(response)

    def on_request(request: Any) -> None:
        requests.append(request.url)

    page.on("response", on_response)
    page.on("request", on_request)
    try:
        page.goto(path)
        page.evaluate("0")  # deliver the events of this load before reading them
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("request", on_request)
    load = Load()
    for url in requests:
        parts = urlsplit(url)
        if parts.scheme != "data" and f"{parts.scheme}://{parts.netloc}" != origin:
            load.problems.append(f"request to another host: {url}")
    for response in responses:
        response.finished()
        kind = response.request.resource_type
        load.stylesheets += kind == "stylesheet"
        load.scripts += kind == "script"
        if response.request.timing["requestStart"] == -1:
            continue  # served from the browser cache (the versioned stylesheet and script)
        if response.request.sizes()["responseBodySize"] == 0:
            continue  # nothing fetched: 304, empty body
        body = response.body()
        load.requests += 1
        load.bytes += len(body)
        mimetype = response.headers.get("content-type", "")
        if (
            mimetype.startswith(TEXT_TYPES)
            and len(body) >= MINIMUM_SIZE
            and response.headers.get("content-encoding") != "gzip"
        ):
            load.problems.append(f"not compressed: {response.url} ({mimetype})")
    markup = page.evaluate(
        "[document.querySelectorAll('link[rel~=stylesheet], style').length,"
        " document.querySelectorAll('script').length]"
    )
    if markup[0] != 1 or markup[1] > 1:
        load.problems.append(f"{markup[0]} stylesheets and {markup[1]} scripts in the page")
    return load


def _urls() -> dict[str, str]:
    """Public ids for the pages with a record in their URL."""
    worker = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[Role.CASEWORKER]))
    coordinator = db.session.scalar(
        select(User).where(User.email == DEMO_EMAILS[Role.GBV_COORDINATOR])
    )
    assert worker is not None and coordinator is not None
    referral = sent_referral_to_the_clinic()
    case = db.session.scalar(select(Case).where(Case.public_id == referral.source_public_id))
    service = db.session.get(Service, referral.service_id)
    areas = {a.code: a for a in db.session.scalars(select(Area))}
    published = db.session.scalar(
        select(PathwayVersion).where(
            PathwayVersion.area_id == areas["AR-LOM-KES"].id,
            PathwayVersion.status == PathwayStatus.PUBLISHED,
        )
    )
    draft = pathways.create_version(areas["AR-LOM-KES"], actor=coordinator)
    in_review = pathways.create_version(areas["AR-LOM-DAL"], actor=coordinator)
    pathways.transition(in_review, PathwayStatus.IN_REVIEW, actor=coordinator)
    allegation = db.session.scalar(select(Allegation).order_by(Allegation.id).limit(1))
    record = db.session.scalar(select(AssistanceRecord).limit(1))
    db.session.commit()
    assert case and service and published and allegation and record
    return {
        "case": case.public_id,
        "referral": referral.public_id,
        "service": service.public_id,
        "area": areas["AR-LOM-KES"].public_id,
        "published": published.public_id,
        "draft": draft.public_id,
        "in_review": in_review.public_id,
        "allegation": allegation.public_id,
        "record": record.public_id,
    }


# Who looks at which pages: the pages of the journeys (GET pages; {name} from _urls()).
PAGES: list[tuple[Role | None, list[str]]] = [
    (None, ["/auth/sign-in"]),
    (
        Role.CASEWORKER,
        [
            "/",
            "/cases/",
            "/cases/new",
            "/cases/{case}",
            "/cases/{case}/consent",
            "/cases/{case}/refer",
            "/auth/account",
        ],
    ),
    (Role.SERVICE_FOCAL_POINT, ["/", "/referrals/", "/referrals/{referral}"]),
    (
        Role.GBV_COORDINATOR,
        [
            "/",
            "/directory/",
            "/directory/services/{service}",
            "/directory/services/{service}/edit",
            "/pathways/",
            "/pathways/areas/{area}",
            "/pathways/versions/{published}",
            "/pathways/versions/{draft}/edit",
            "/pathways/versions/{in_review}/publish",
            "/reports/",
        ],
    ),
    (
        Role.PSEA_FOCAL_POINT,
        ["/", "/allegations/", "/allegations/new", "/allegations/{allegation}"],
    ),
    (Role.PSEA_COORDINATOR, ["/", "/allegations/", "/reports/psea"]),
    (Role.VA_FOCAL_POINT, ["/", "/assistance/", "/assistance/new", "/assistance/{record}"]),
    (Role.SUPERVISOR, ["/", "/cases/", "/reports/"]),
    (Role.ADMIN, ["/", "/admin/users", "/admin/users/new"]),
    (Role.AUDITOR, ["/", "/audit/"]),
]


def test_pages_are_light(browser: Any, live_server: str, demo_world: DemoWorld) -> None:
    urls = _urls()
    rows: list[tuple[str, str, Load, Load]] = []

    def fresh_context(state: Any) -> Any:
        context = browser.new_context(base_url=live_server, storage_state=state)
        context.set_default_timeout(10_000)
        return context

    def measure_pages(who: str, state: Any, paths: list[str]) -> None:
        for template in paths:
            path = template.format(**urls)
            context = browser.new_context(base_url=live_server, storage_state=state)
            context.set_default_timeout(10_000)
            page = context.new_page()
            first = _measure(page, path, live_server)
            later = _measure(page, path, live_server)  # a new navigation, warm cache
            rows.append((who, page_pattern(live_server + path), first, later))
            context.close()

    anonymous = browser.new_context(base_url=live_server)
    measure_pages("anyone", anonymous.storage_state(), ["/auth/sign-in"])
    # half signed in: password given, authenticator code awaited
    page = anonymous.new_page()
    account = demo_world.account(Role.CASEWORKER)
    page.goto("/auth/sign-in")
    page.locator("#email").fill(account.email)
    page.locator("#password").fill(account.password)
    page.locator("form.narrow [type=submit]").click()
    page.wait_for_url("**/auth/verify")
    measure_pages("signing in", anonymous.storage_state(), ["/auth/verify"])
    anonymous.close()
    for role, paths in PAGES:
        if role is None:
            continue
        context = browser.new_context(base_url=live_server)
        sign_in(context.new_page(), demo_world.account(role))
        state = context.storage_state()
        context.close()
        measure_pages(role.value, state, paths)

    lines = [
        "Page weights measured in headless Chromium over the demo data (uncompressed bytes",
        "of the bodies fetched). First load: fresh context, empty cache, document and every",
        "resource. Later: the same page again, warm cache, only what was fetched.",
        f"Budgets: first load < {FIRST_LOAD_BUDGET:,} bytes, later page < {LATER_PAGE_BUDGET:,}"
        f" ({', '.join(f'{p} < {b:,}' for p, b in LATER_PAGE_BUDGETS.items())}).",
        "",
        f"{'role':<20} {'page':<42} {'first load':>10} {'later':>8}  requests",
    ]
    problems = []
    for who, pattern, first, later in rows:
        lines.append(
            f"{who:<20} {pattern:<42} {first.bytes:>10,} {later.bytes:>8,}"
            f"  {first.requests}/{later.requests}"
        )
        where = f"{who} {pattern}"
        problems += [f"{where}: {p}" for p in (*first.problems, *later.problems)]
        if first.bytes >= FIRST_LOAD_BUDGET:
            problems.append(f"{where}: first load {first.bytes:,} bytes")
        if later.bytes >= LATER_PAGE_BUDGETS.get(pattern, LATER_PAGE_BUDGET):
            problems.append(f"{where}: later load {later.bytes:,} bytes")
        if first.stylesheets != 1 or first.scripts > 1:
            problems.append(f"{where}: {first.stylesheets} stylesheets, {first.scripts} scripts")
    (output_dir("journeys").parent / "page-weights.txt").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    assert not problems, "\n".join(problems)
