"""Audit viewer for administrators and auditors: filter, page, export CSV, verify."""

from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from referral.audit import services
from referral.audit.codes import records_named_by
from referral.audit.forms import OUTCOME_LABELS, AuditFilterForm
from referral.audit.models import Outcome
from referral.clock import utcnow
from referral.db import Organisation
from referral.db.base import normalise_code
from referral.db.paging import Page
from referral.extensions import db
from referral.formatting import from_wall_clock
from referral.i18n import in_current_language
from referral.security.policy import Permission, has_permission, requires
from referral.security.records import find

blueprint = Blueprint("audit", __name__, url_prefix="/audit")

NO_MATCH = -1


def _filter_form(args: MultiDict[str, str]) -> AuditFilterForm:
    form = AuditFilterForm(formdata=args)
    form.organisation.choices = [("", _("Any")), *services.organisation_acronyms()]
    form.action.choices = [("", _("Any")), *[(a, a) for a in services.known_actions(db.session())]]
    return form


def _start_of(day: Any) -> datetime:
    """Midnight of a day in the viewer's time zone, the zone every time on the page is shown in."""
    return from_wall_clock(datetime.combine(day, time.min))


def _filter_from(form: AuditFilterForm) -> services.AuditFilter:
    """Translate the form (public ids, e-mails, dates) into indexed column filters."""
    flt = services.AuditFilter(
        action=form.action.data or None,
        obj_type=form.obj_type.data or None,
        obj_id=form.obj_id.data or None,
        outcome=form.outcome.data or None,
        since=_start_of(form.since.data) if form.since.data else None,
        until=_start_of(form.until.data + timedelta(days=1)) if form.until.data else None,
    )
    if form.code.data:
        flt.code = normalise_code(form.code.data)
        flt.objects = records_named_by(flt.code) if flt.code else []
    if form.user.data:
        needle = form.user.data
        user_id = services.user_id_of(needle)
        flt.actor_id = user_id if user_id is not None else NO_MATCH
    if form.organisation.data:
        organisation = find(Organisation, form.organisation.data)
        flt.org_id = organisation.id if organisation is not None else NO_MATCH
    return flt


def _query_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "cursor" and v}


@blueprint.route("/")
@requires(Permission.READ_AUDIT)
def index() -> str | tuple[str, int]:
    form = _filter_form(request.args)
    valid = form.validate()
    cursor = request.args.get("cursor")
    page = services.list_events(
        db.session(),
        _filter_from(form) if valid else services.AuditFilter(actor_id=NO_MATCH),
        cursor=cursor,
        page_size=int(current_app.config["PAGE_SIZE"]),
    )
    body = render_template(
        "audit/index.html",
        form=form,
        page=page,
        outcome_labels=in_current_language(OUTCOME_LABELS),
        query_args=_query_args(),
        first_page=not cursor,
        can_export=has_permission(current_user, Permission.EXPORT_AUDIT),
    )
    return body if valid else (body, 400)


@blueprint.route("/export.csv", methods=["POST"])
@requires(Permission.EXPORT_AUDIT)
def export_csv() -> Response | tuple[str, int]:
    form = _filter_form(request.form)
    if not form.validate():
        return render_template(
            "audit/index.html",
            form=form,
            page=Page([], None),
            outcome_labels=in_current_language(OUTCOME_LABELS),
            query_args={},
            first_page=True,
            can_export=True,
        ), 400
    flt = _filter_from(form)
    # R25: the export is itself an audited event, committed with the request before any
    # byte of the file is sent (a failed commit answers 500 instead of the file).
    services.record("audit.export", detail={"format": "csv", **flt.as_detail()})
    # Spooled to disk past 8 MiB: millions of rows never sit in memory at once.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    for chunk in services.csv_rows(services.iter_events(db.session(), flt)):
        spool.write(chunk.encode("utf-8"))
    spool.seek(0)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return send_file(
        spool,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"audit-{stamp}.csv",
        max_age=0,
    )


@blueprint.route("/verify", methods=["POST"])
@requires(Permission.READ_AUDIT)
def verify() -> str:
    result = services.verify_chain(db.session())
    services.record(
        "audit.verify",
        outcome=Outcome.ALLOWED if result.ok else Outcome.ERROR,
        detail={"checked": result.checked, "broken_id": result.broken_id},
    )
    return render_template("audit/verify.html", result=result)
