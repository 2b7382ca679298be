"""Statistics pages and exports. Views parse, call the services, render or send a file.

Exports are POSTs with a CSRF token: each one is an audited event (R25), committed before
the file leaves.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Blueprint, Response, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from referral.audit import record
from referral.clock import utcnow
from referral.reports import exports, incident_recorder, psea_stats, services
from referral.reports.charts import bar_chart, render_chart
from referral.reports.forms import (
    ExportForm,
    IncidentRecorderForm,
    StatisticsFilterForm,
    filter_form,
    with_area_choices,
)
from referral.reports.suppression import configured_threshold
from referral.security.policy import Permission, has_permission, requires

blueprint = Blueprint("reports", __name__, url_prefix="/reports")


@dataclass(frozen=True)
class ReportKind:
    key: str  # also the audit record's obj_id
    title: str
    page_endpoint: str
    export_endpoint: str


def _gbv() -> ReportKind:
    return ReportKind(
        "gbv_statistics", _("GBV statistics"), "reports.index", "reports.export_tables"
    )


def _psea() -> ReportKind:
    return ReportKind(
        "psea_statistics", _("PSEA statistics"), "reports.psea", "reports.export_psea"
    )


def _area_id(form: StatisticsFilterForm) -> int | None:
    return services.area_id_of(form.area.data) if form.area.data else None


def _gbv_scope(form: StatisticsFilterForm) -> services.StatsScope:
    return services.scope_for(
        current_user,
        form.start.data,
        form.end.data,
        services.Granularity(form.granularity.data),
        _area_id(form),
    )


def _psea_scope(form: StatisticsFilterForm) -> services.StatsScope:
    """The PSEA report is network-wide: shared, no organisation."""
    return services.StatsScope(
        form.start.data,
        form.end.data,
        services.Granularity(form.granularity.data),
        None,
        _area_id(form),
    )


def _page(kind: ReportKind, form: StatisticsFilterForm, report: services.StatsReport | None) -> str:
    charts = [render_chart(bar_chart(table)) for table in report.tables] if report else []
    return render_template(
        "reports/index.html",
        kind=kind,
        form=form,
        report=report,
        charts=charts,
        scope_text=services.scope_text(report.scope) if report else "",
        # GBV reports cover whole months: the period shown is the one counted.
        period_text=services.period_text(report.scope) if report else "",
        can_export_incidents=(
            kind.key == "gbv_statistics"
            and has_permission(current_user, Permission.EXPORT_INCIDENT_DATA)
        ),
    )


@blueprint.route("/")
@requires(Permission.GBV_STATISTICS, Permission.PSEA_STATISTICS)
def index() -> str | tuple[str, int]:
    if not has_permission(current_user, Permission.GBV_STATISTICS):
        return _psea_page()  # the PSEA coordinator's statistics
    form = filter_form(request.args)
    if not form.validate():
        return _page(_gbv(), form, None), 400
    return _page(_gbv(), form, services.gbv_report(_gbv_scope(form)))


@blueprint.route("/psea")
@requires(Permission.PSEA_STATISTICS)
def psea() -> str | tuple[str, int]:
    return _psea_page()


def _psea_page() -> str | tuple[str, int]:
    form = filter_form(request.args)
    if not form.validate():
        return _page(_psea(), form, None), 400
    return _page(_psea(), form, psea_stats.psea_report(_psea_scope(form)))


def _meta(scope: services.StatsScope, title: str, threshold: int) -> exports.ReportMeta:
    return exports.ReportMeta(
        title=title,
        period=services.period_text(scope),
        scope=services.scope_text(scope),
        generated_at=utcnow(),
        threshold=threshold,
        shared=scope.shared,
    )


def _send(data: bytes, file_format: str, name: str) -> Response:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    mimetype = exports.CSV_MIMETYPE if file_format == "csv" else exports.XLSX_MIMETYPE
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"{name}-{stamp}.{file_format}",
        max_age=0,
    )


def _audit_export(kind: str, file_format: str, scope: services.StatsScope, **extra: int) -> None:
    """R25: every export is an audited event with its parameters, committed with the request
    before any byte of the file is sent."""
    record(
        "report.exported",
        obj_type="report",
        obj_id=kind,
        detail={"format": file_format, **scope.parameters(), **extra},
    )


def _export_tables(
    kind: ReportKind, scope: services.StatsScope, report: services.StatsReport, file_format: str
) -> Response:
    _audit_export(kind.key, file_format, scope)
    meta = _meta(report.scope, kind.title, report.threshold)
    figures = [(figure.label, figure.text) for figure in report.figures]
    if file_format == "csv":
        data = exports.tables_csv(report.tables, meta, figures)
    else:
        data = exports.tables_xlsx(report.tables, meta, figures)
    return _send(data, file_format, kind.key.replace("_", "-"))


@blueprint.route("/export", methods=["POST"])
@requires(Permission.GBV_STATISTICS)
def export_tables() -> Response | tuple[str, int]:
    form = with_area_choices(ExportForm(formdata=request.form))
    if not form.validate():
        return _page(_gbv(), form, None), 400
    scope = _gbv_scope(form)
    return _export_tables(_gbv(), scope, services.gbv_report(scope), form.file_format.data)


@blueprint.route("/psea/export", methods=["POST"])
@requires(Permission.PSEA_STATISTICS)
def export_psea() -> Response | tuple[str, int]:
    form = with_area_choices(ExportForm(formdata=request.form))
    if not form.validate():
        return _page(_psea(), form, None), 400
    scope = _psea_scope(form)
    return _export_tables(_psea(), scope, psea_stats.psea_report(scope), form.file_format.data)


@blueprint.route("/incidents/export", methods=["POST"])
@requires(Permission.EXPORT_INCIDENT_DATA)
def export_incidents() -> Response | tuple[str, int]:
    form = with_area_choices(ExportForm(formdata=request.form))
    if not form.validate():
        return _page(_gbv(), form, None), 400
    scope = services.StatsScope(
        form.start.data,
        form.end.data,
        services.Granularity(form.granularity.data),
        current_user.organisation_id,  # always and only the own organisation
        _area_id(form),
    )
    header, rows = services.incident_export(scope)
    _audit_export("incident_level", form.file_format.data, scope, rows=len(rows))
    if form.file_format.data == "csv":
        data = exports.rows_csv(header, rows)
    else:
        meta = _meta(scope, _("Anonymised incidents"), configured_threshold())
        data = exports.rows_xlsx(header, rows, meta)
    return _send(data, form.file_format.data, "incidents")


@blueprint.route("/incident-recorder/export", methods=["POST"])
@requires(Permission.EXPORT_INCIDENT_DATA)
def export_incident_recorder() -> Response | tuple[str, int]:
    """The GBVIMS Incident Recorder layout, own organisation only, audited (R25)."""
    form = with_area_choices(IncidentRecorderForm(formdata=request.form))
    if not form.validate():
        return _page(_gbv(), form, None), 400
    scope = services.StatsScope(
        form.start.data,
        form.end.data,
        services.Granularity(form.granularity.data),
        current_user.organisation_id,  # always and only the own organisation
        _area_id(form),
    )
    data = incident_recorder.rows(scope, current_user.organisation)
    language = form.language.data
    record(
        "report.exported",
        obj_type="report",
        obj_id="incident_recorder",
        detail={"format": "xlsx", "language": language, **scope.parameters(), "rows": len(data)},
    )
    about = incident_recorder.AboutText(
        title=_("GBVIMS Incident Recorder export"),
        lines=[
            (_("Organisation"), current_user.organisation.acronym),
            (_("Period (date of interview)"), services.period_text(scope)),
            (_("Incidents"), str(len(data))),
            (_("Generated (UTC)"), utcnow().strftime("%Y-%m-%d %H:%M")),
        ],
        withheld_title=_("Columns left empty to protect survivors, and why"),
        notes=[
            _(
                "Only incidents of a GBV type whose survivor consented to anonymous "
                "statistics are exported, so CONSENT GIVEN is always Yes."
            ),
            _(
                "INCIDENT ID is the incident's own random identifier: the same incident has "
                "the same id in every export, so a new export updates earlier rows."
            ),
            _(
                "Values use the Incident Recorder's own words (M/F, Age 12 - 17, "
                "Yes-GBVIMS Org / Agency, dates as 05-Mar-2026) in every language; an empty "
                "cell was not recorded."
            ),
        ],
    )
    return _send(incident_recorder.workbook(data, language, about), "xlsx", "incident-recorder")
