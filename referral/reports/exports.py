"""CSV and XLSX files of published tables (suppression already applied: they take only
``SafeTable``), and of the anonymised incident-level rows.

Text that a spreadsheet would run as a formula (starting with = + - @ or a control
character) is written with a leading apostrophe. Shared (inter-agency) reports name no
agency: the scope line says "all contributing organisations" and no table of a shared
report is cut by organisation (the report builders never offer it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from referral.reports.suppression import HIDDEN_TEXT, Cell, SafeTable

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class ReportMeta:
    """What every export says about itself (never who asked, never an agency when shared)."""

    title: str
    period: str
    scope: str
    generated_at: datetime
    threshold: int
    shared: bool


def neutralise(text: str) -> str:
    """Keep spreadsheets from running text as a formula (CSV/formula injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def legend(threshold: int) -> list[str]:
    return [
        _(
            "<%(n)d: between 1 and %(m)d, hidden to protect survivors.",
            n=threshold,
            m=threshold - 1,
        ),
        _(
            "%(x)s: hidden so that a small number cannot be worked out from the totals.",
            x=HIDDEN_TEXT,
        ),
        _("Only incidents with the survivor's consent to anonymous statistics are counted."),
    ]


def _meta_rows(meta: ReportMeta) -> list[list[str]]:
    return [
        [_("Report"), meta.title],
        [_("Period"), meta.period],
        [_("Scope"), meta.scope],
        [_("Generated (UTC)"), meta.generated_at.strftime("%Y-%m-%d %H:%M")],
    ]


def _header(table: SafeTable) -> list[str]:
    if not table.totals_published:
        return [table.row_header, *table.column_labels]
    return [table.row_header, *table.column_labels, _("Total")]


def _table_rows(table: SafeTable) -> list[list[Cell | str]]:
    rows: list[list[Cell | str]] = []
    if table.withheld:
        return [[_("Withheld: numbers too small to publish safely.")]]
    for row in table.rows():
        if table.totals_published:
            rows.append([row.label, *row.cells, row.total])
        else:
            rows.append([row.label, *row.cells])
    if table.totals_published:
        rows.append([_("Total"), *table.column_totals, table.grand_total])
    return rows


def tables_csv(
    tables: Sequence[SafeTable],
    meta: ReportMeta,
    figures: Sequence[tuple[str, str]] = (),
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for meta_row in _meta_rows(meta):
        writer.writerow([neutralise(text) for text in meta_row])
    for line in legend(meta.threshold):
        writer.writerow([neutralise(line)])
    if figures:
        writer.writerow([])
        for label, text in figures:
            writer.writerow([neutralise(label), neutralise(text)])
    for table in tables:
        writer.writerow([])
        writer.writerow([neutralise(table.title)])
        writer.writerow([neutralise(text) for text in _header(table)])
        for row in _table_rows(table):
            writer.writerow(
                [item.text if isinstance(item, Cell) else neutralise(item) for item in row]
            )
    # A byte-order mark so spreadsheet programs read UTF-8 (Arabic and French labels).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_SHEET_FORBIDDEN).strip().strip("'")[:28] or "Table"
    candidate, number = base, 2
    while candidate.lower() in used:
        candidate = f"{base[:25]} {number}"
        number += 1
    used.add(candidate.lower())
    return candidate


def _new_workbook(meta: ReportMeta) -> Workbook:
    workbook = Workbook()
    workbook.properties.creator = "referral"
    workbook.properties.lastModifiedBy = "referral"
    workbook.properties.title = neutralise(meta.title)
    about = workbook.active
    about.title = _sheet_title(_("About"), set())
    for row in _meta_rows(meta):
        about.append([neutralise(text) for text in row])
    about.append([])
    for line in legend(meta.threshold):
        about.append([neutralise(line)])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 60
    return workbook


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tables_xlsx(
    tables: Sequence[SafeTable],
    meta: ReportMeta,
    figures: Sequence[tuple[str, str]] = (),
) -> bytes:
    """One sheet per table after an "About" sheet; shown counts as numbers, the rest as
    the published marks ("<5", "x")."""
    workbook = _new_workbook(meta)
    used = {workbook.active.title.lower()}
    bold = Font(bold=True)
    if figures:
        about = workbook.active
        about.append([])
        for label, text in figures:
            about.append([neutralise(label), neutralise(text)])
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        sheet.append([neutralise(table.title)])
        sheet["A1"].font = bold
        sheet.append([neutralise(text) for text in _header(table)])
        for cell in sheet[2]:
            cell.font = bold
        for row in _table_rows(table):
            sheet.append([_xlsx_value(item) for item in row])
        sheet.column_dimensions["A"].width = 34
        for index in range(2, len(table.column_labels) + 3):
            sheet.column_dimensions[get_column_letter(index)].width = 14
    return _save(workbook)


def _xlsx_value(item: Cell | str) -> Any:
    if isinstance(item, Cell):
        return item.value if item.shown else item.text
    return neutralise(item)


def rows_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """Incident-level rows (already anonymised by the caller's column list)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(text) for text in header])
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_xlsx(header: Sequence[str], rows: Sequence[Sequence[Any]], meta: ReportMeta) -> bytes:
    workbook = _new_workbook(meta)
    sheet = workbook.create_sheet(_sheet_title(_("Incidents"), {workbook.active.title.lower()}))
    sheet.append([neutralise(text) for text in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_plain(value) for value in row])
    return _save(workbook)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    return neutralise(str(value))


def _xlsx_plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return value
    return neutralise(str(value))
