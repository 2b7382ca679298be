"""Real-browser test: the statistics page shows a chart and the table beside it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.db import Organisation
from referral.security.policy import Role
from tests.conftest import browser_sign_in, output_dir
from tests.factories import make_person
from tests.test_reports_statistics import gbv_case

pytestmark = pytest.mark.browser


def test_statistics_page_shows_a_chart_and_its_table(page: Any, org: Organisation) -> None:
    worker = make_person(Role.CASEWORKER, org)
    for _ in range(6):
        gbv_case(worker)
    for _ in range(2):
        gbv_case(worker, answers={"physical_assault": True})
    supervisor = make_person(Role.SUPERVISOR, org)
    browser_sign_in(page, supervisor)

    page.get_by_role("link", name="Statistics").click()
    page.wait_for_url("**/reports/")
    expect(page.get_by_role("heading", name="GBV statistics", level=1)).to_be_visible()

    chart = page.get_by_role("img", name="Incidents by type and survivor sex")
    expect(chart).to_be_visible()
    assert "Bar chart" in (chart.locator("desc").text_content() or "")
    table = page.locator(
        "table", has=page.locator("caption", has_text="Incidents by type and survivor sex")
    )
    expect(table).to_be_visible()
    rape = table.get_by_role("row", name="Rape")
    expect(rape).to_be_visible()
    physical = table.get_by_role("row", name="Physical assault")
    assert "<5" in physical.inner_text()
    page.screenshot(path=str(output_dir("browser-reports") / "statistics.png"), full_page=True)
