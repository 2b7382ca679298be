"""Accessible bar charts drawn on the server as SVG, from published (suppressed) tables only.

No JavaScript: the geometry is computed here and ``templates/reports/chart.svg`` draws it
(autoescaped, so labels typed by users cannot inject markup). Every chart is an image
with a title and a text alternative listing every value, and pages put the data table
right beside it. Suppressed values are drawn as a short hatched bar marked "<5" (or "x",
hidden), never as a length that would suggest a number. Black text and hatching keep it
readable on a black-and-white printout.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

from referral.formatting import number_text
from referral.messages import translated as _
from referral.reports.suppression import Cell, Mark, SafeTable

WIDTH = 640
LABEL_WIDTH = 210
VALUE_WIDTH = 70
BAR_HEIGHT = 22
BAR_GAP = 10
TOP = 8
MAX_LABEL_CHARACTERS = 26
# Suppressed values are drawn as a stub this wide: a mark, not a quantity.
STUB_WIDTH = 28

_counter = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    text: str  # what is written at the end of the bar: the count, "<5" or "x"
    y: int
    width: int
    mark: Mark
    spoken: str  # the value in words for the text alternative


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    plot_width: int
    withheld: bool

    @property
    def title_id(self) -> str:
        return f"{self.chart_id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.chart_id}-desc"

    @property
    def hatch_id(self) -> str:
        return f"{self.chart_id}-hatch"

    @property
    def has_suppressed(self) -> bool:
        return any(bar.mark is not Mark.SHOWN for bar in self.bars)


def _shorten(label: str) -> str:
    if len(label) <= MAX_LABEL_CHARACTERS:
        return label
    return label[: MAX_LABEL_CHARACTERS - 1].rstrip() + "…"


def _spoken(cell: Cell, locale: str) -> str:
    if cell.mark is Mark.SMALL:
        return _("fewer than %(n)d", n=cell.threshold)
    if cell.mark is Mark.HIDDEN:
        return _("hidden to protect a small number")
    return number_text(cell.value or 0, locale)


def bar_chart(table: SafeTable, column: int | None = None, title: str | None = None) -> BarChart:
    """One bar per row of ``table``: the given column, or the row totals by default."""
    if column is None and (table.single_column or not table.totals_published):
        column = 0
    if column is None:
        values = list(table.row_totals)
        series = _("total")
    else:
        values = [row[column] for row in table.cells]
        series = table.column_labels[column]
    chart_title = title or (
        table.title if column is None or table.single_column else f"{table.title}: {series}"
    )
    chart_id = f"chart-{next(_counter)}"  # short: the id is repeated in the markup
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    labels = [] if table.withheld else list(table.row_labels)
    if table.withheld:
        values = []
    largest = max((cell.value or 0 for cell in values if cell.shown), default=0)
    scale = plot_width / largest if largest else 0.0
    locale = str(get_locale())
    bars = []
    for index, (label, cell) in enumerate(zip(labels, values, strict=True)):
        width = round((cell.value or 0) * scale) if cell.shown else STUB_WIDTH
        bars.append(
            Bar(
                label=label,
                short_label=_shorten(label),
                text=number_text(cell.value or 0, locale) if cell.shown else cell.text,
                y=TOP + index * (BAR_HEIGHT + BAR_GAP),
                width=width,
                mark=cell.mark,
                spoken=_spoken(cell, locale),
            )
        )
    if table.withheld:
        description = _(
            "%(title)s: withheld, because its numbers are too small to publish safely.",
            title=chart_title,
        )
    else:
        parts = "; ".join(f"{bar.label}: {bar.spoken}" for bar in bars)
        description = _(
            "Bar chart. %(title)s. %(values)s. The same numbers are in the table beside it.",
            title=chart_title,
            values=parts or _("no data"),
        )
    height = TOP * 2 + max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(
        chart_id=chart_id,
        title=chart_title,
        description=description,
        bars=tuple(bars),
        width=WIDTH,
        height=height,
        label_width=LABEL_WIDTH,
        plot_width=plot_width,
        withheld=table.withheld,
    )


def render_chart(chart: BarChart) -> Markup:
    """The chart as inline SVG markup (rendered through an autoescaping template).

    Rendered on its own, without the context processors of a page (navigation, the
    signed-in user's permissions, labels): the page that holds it has run them once."""
    template = current_app.jinja_env.get_template("reports/chart.svg")
    return Markup(template.render(chart=chart))  # noqa: S704 - template output is autoescaped
