"""Charts and exports draw only published values (R24); exports are safe spreadsheets."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask, render_template_string
from openpyxl import load_workbook

from referral.reports.charts import STUB_WIDTH, bar_chart, render_chart
from referral.reports.exports import (
    ReportMeta,
    neutralise,
    rows_csv,
    rows_xlsx,
    tables_csv,
    tables_xlsx,
)
from referral.reports.suppression import CountTable, suppress

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _request(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def by_type() -> CountTable:
    return CountTable.build(
        "Incidents by type",
        "Type",
        ["Rape", "Sexual assault", "Physical assault", "Denial of resources"],
        ["Incidents"],
        [[12], [3], [40], [0]],
    )


def meta(shared: bool = False) -> ReportMeta:
    return ReportMeta(
        title="GBV statistics",
        period="2026-01 to 2026-03",
        scope="All contributing organisations" if shared else "HBI",
        generated_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        threshold=5,
        shared=shared,
    )


def test_r24_chart_is_an_accessible_svg_image_with_title_and_text_alternative() -> None:
    chart = bar_chart(suppress(by_type()), column=0)
    svg = str(render_chart(chart))
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Incidents by type"
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Physical assault: 40" in desc.text
    assert "Rape" in desc.text
    assert "<script" not in svg.lower()


def test_r24_suppressed_values_are_drawn_as_marked_stubs_never_as_their_size() -> None:
    safe = suppress(by_type())
    chart = bar_chart(safe, column=0)
    texts = {bar.label: (bar.text, bar.width) for bar in chart.bars}
    assert texts["Sexual assault"] == ("<5", STUB_WIDTH)
    assert texts["Rape"] == ("x", STUB_WIDTH)  # secondary: 12 would give the 3 away
    assert texts["Physical assault"][0] == "40"
    assert texts["Denial of resources"] == ("0", 0)
    svg = str(render_chart(chart))
    description = ET.fromstring(svg).find(f"{SVG}desc")  # noqa: S314 - our own SVG
    assert description is not None and description.text
    assert "12" not in description.text
    assert "fewer than 5" in svg


def test_chart_labels_are_escaped() -> None:
    table = CountTable.build("<b>t</b>", "Area", ['<script>alert("x")</script>'], ["n"], [[9]])
    svg = str(render_chart(bar_chart(suppress(table))))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    ET.fromstring(svg)  # noqa: S314 - our own SVG  # still well-formed


def test_a_withheld_table_draws_no_bars() -> None:
    table = CountTable.build("t", "r", ["a", "b"], ["x", "y"], [[1, 1], [1, 1]])
    chart = bar_chart(suppress(table))
    assert chart.withheld and not chart.bars
    assert "Withheld" in str(render_chart(chart))


def test_r24_table_macro_shows_marks_with_spoken_text() -> None:
    html = render_template_string(
        '{% from "reports/_tables.html" import safe_table %}{{ safe_table(t, "x1") }}',
        t=suppress(by_type()),
    )
    assert "<caption>Incidents by type</caption>" in html
    assert "&lt;5" in html and "fewer than 5" in html
    assert ">12<" not in html


def test_r24_csv_export_carries_only_published_values() -> None:
    data = tables_csv([suppress(by_type())], meta())
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    body = rows[rows.index(["Type", "Incidents", "Total"]) + 1 :]
    assert body[0] == ["Rape", "x", "x"]
    assert body[1] == ["Sexual assault", "<5", "<5"]
    assert body[2] == ["Physical assault", "40", "40"]
    assert body[4] == ["Total", "55", "55"]
    assert "12" not in {value for row in body for value in row}


def test_r24_xlsx_export_carries_only_published_values() -> None:
    data = tables_xlsx([suppress(by_type())], meta())
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["About", "Incidents by type"]
    sheet = workbook["Incidents by type"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[2] == ["Rape", "x", "x"]
    assert values[3] == ["Sexual assault", "<5", "<5"]
    assert values[4] == ["Physical assault", 40, 40]
    assert all(12 not in row for row in values)
    assert workbook.properties.creator == "referral"


def test_spreadsheet_formulas_in_labels_are_neutralised() -> None:
    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralise("Area 1") == "Area 1"
    table = CountTable.build("t", "Area", ["=cmd|' /C calc'!A0", "@SUM(1)"], ["n"], [[9], [7]])
    text = tables_csv([suppress(table)], meta()).decode("utf-8-sig")
    assert "\n=cmd" not in text and "'=cmd" in text
    workbook = load_workbook(io.BytesIO(tables_xlsx([suppress(table)], meta())))
    sheet = workbook.worksheets[1]
    assert sheet["A3"].value == "'=cmd|' /C calc'!A0"
    assert sheet["A3"].data_type == "s"


def test_incident_rows_export_in_csv_and_xlsx() -> None:
    header = ["Incident code", "Type", "Consent"]
    rows = [["INC-1", "Rape", True], ["INC-2", "-1+2", False]]
    text = rows_csv(header, rows).decode("utf-8-sig")
    assert text.splitlines()[1] == "INC-1,Rape,Yes"
    assert "'-1+2" in text
    workbook = load_workbook(io.BytesIO(rows_xlsx(header, rows, meta())))
    sheet = workbook.worksheets[1]
    assert [c.value for c in sheet[2]] == ["INC-1", "Rape", "Yes"]


def test_r24_shared_export_names_no_agency() -> None:
    text = tables_csv([suppress(by_type())], meta(shared=True)).decode("utf-8-sig")
    assert "HBI" not in text
    assert "All contributing organisations" in text
