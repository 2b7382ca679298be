"""``/api/v1``: JSON for other systems, through API tokens.

Each endpoint declares in the policy module the permission its token's user needs and
the scope its token needs; the policy's ``before_request`` checks both before the view
runs. Views parse, load -> authorise -> act through the features' services (the same as
the pages), and answer JSON; errors are problem details (``application/problem+json``).
No survivor name, contact or narrative leaves through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from referral.api import services, tokens
from referral.api.openapi import openapi_document
from referral.api.params import (
    InputError,
    body_text,
    choice_arg,
    cursor_arg,
    enum_arg,
    json_body,
    limit_arg,
    text_arg,
)
from referral.audit import record
from referral.clock import utcnow
from referral.db import Organisation
from referral.db.paging import CursorError
from referral.directory import services as directory
from referral.directory.models import AgeGroup, Area, AreaLevel, Sector, Service, ServiceStatus, Sex
from referral.errors import problem
from referral.extensions import limiter
from referral.pathways import services as pathways
from referral.pathways.models import PathwayStatus, PathwayVersion
from referral.pathways.services import render_markdown
from referral.referrals import services as referrals
from referral.referrals.models import REFERRAL_WORKFLOW, Referral, ReferralState
from referral.reports import psea_stats
from referral.reports import services as reports
from referral.reports.forms import filter_form
from referral.reports.suppression import SafeTable
from referral.security.policy import (
    Permission,
    Scope,
    deny,
    public,
    requires,
    signed_in,
    token_endpoint,
)
from referral.security.records import find
from referral.workflow import ConflictError, RuleError

PREFIX = "/api/v1"
blueprint = Blueprint("api", __name__, url_prefix=PREFIX)

QUEUE_STATES = {
    "open": (ReferralState.SENT, ReferralState.ACCEPTED),
    "done": (
        ReferralState.DECLINED,
        ReferralState.COMPLETED,
        ReferralState.CLOSED,
        ReferralState.WITHDRAWN,
    ),
}
# The receiver's answers offered through the API (closing stays on the page).
ACTIONS = {
    "accept": ReferralState.ACCEPTED,
    "decline": ReferralState.DECLINED,
    "complete": ReferralState.COMPLETED,
}


@blueprint.errorhandler(InputError)
def _bad_input(error: InputError) -> Response:
    return problem(400, "Some parameters are not valid.", errors=error.errors)


@blueprint.errorhandler(CursorError)
def _bad_cursor(error: CursorError) -> Response:
    return problem(
        400,
        "Some parameters are not valid.",
        errors=[{"field": "cursor", "message": "not a cursor given by this API; start again"}],
    )


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _page(items: list[dict[str, Any]], cursor: str | None) -> Response:
    return jsonify({"items": items, "next_cursor": cursor})


def _base_url() -> str:
    return request.host_url.rstrip("/") + PREFIX


# --- documentation -------------------------------------------------------------------------


@blueprint.route("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(openapi_document(_base_url()))


@blueprint.route("/docs")
@public
def docs() -> str:
    base = _base_url()
    document = openapi_document(base)
    return render_template(
        "api/docs.html",
        document=document,
        base=base,
        schema_url=url_for("api.openapi"),
        scope_names=[scope.value for scope in Scope],
        markdown=render_markdown,
        markdown_inline=_inline_markdown,
    )


def _inline_markdown(text: str) -> Markup:
    """One line of the document's Markdown (code spans), without its paragraph."""
    html = str(render_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>"):
        html = html[3:-4]
    return Markup(html)  # noqa: S704 - rendered by markdown-it, html escaped


# --- who am I ------------------------------------------------------------------------------


@blueprint.route("/me")
@signed_in
@token_endpoint(None)
def me() -> Response:
    token = tokens.token_by_public_id(g.get("api_token_id") or "")
    user = current_user
    return jsonify(
        {
            "user": user.public_id,
            "service_account": bool(user.service_account),
            "role": str(user.role),
            "organisation": _organisation(user.organisation),
            "token": {
                "id": token.public_id if token else None,
                "name": token.name if token else None,
                "scopes": [s.value for s in token.scope_list] if token else [],
                "expires_at": _stamp(token.expires_at) if token else None,
            },
        }
    )


def _organisation(organisation: Organisation) -> dict[str, Any]:
    return {
        "id": organisation.public_id,
        "acronym": organisation.acronym,
        "name": organisation.name,
    }


# --- areas ---------------------------------------------------------------------------------


def _area(area: Area) -> dict[str, Any]:
    parent = area.parent
    return {
        "id": area.public_id,
        "code": area.code,
        "name": area.name,
        "level": area.level.value,
        "parent": {"id": parent.public_id, "code": parent.code} if parent else None,
    }


def _area_arg(name: str) -> Area | None:
    public_id = text_arg(name, max_length=24)
    if public_id is None:
        return None
    area = directory.area_by_public_id(public_id)
    if area is None:
        raise InputError(name, "no such area")
    return area


@blueprint.route("/areas")
@requires(Permission.BROWSE_DIRECTORY)
@token_endpoint(Scope.DIRECTORY_READ)
def areas() -> Response:
    level = enum_arg("level", AreaLevel)
    parent = _area_arg("parent")
    page = directory.list_areas(level=level, parent=parent, cursor=cursor_arg(), limit=limit_arg())
    return _page([_area(area) for area in page.rows], page.next_cursor)


@blueprint.route("/areas/<public_id>")
@requires(Permission.BROWSE_DIRECTORY)
@token_endpoint(Scope.DIRECTORY_READ)
def area(public_id: str) -> Response:
    found = directory.area_by_public_id(public_id)
    if found is None:
        return problem(404, "No such area.")
    return jsonify(_area(found))


# --- services ------------------------------------------------------------------------------


def _service(service: Service) -> dict[str, Any]:
    return {
        "id": service.public_id,
        "name": service.name,
        "sector": service.sector.value,
        "organisation": _organisation(service.organisation),
        "areas": [{"id": a.public_id, "code": a.code, "name": a.name} for a in service.areas],
        "status": service.status.value,
        "status_note": service.status_note,
        "status_changed_at": _stamp(service.status_changed_at),
        "address": service.address,
        "opening_hours": service.opening_hours,
        "languages": service.languages,
        "cost": service.cost.value,
        "accessibility": service.accessibility,
        "accepts": {
            "age_groups": [g.value for g in service.accepted_age_groups],
            "sexes": [s.value for s in service.accepted_sexes],
        },
        "focal_point": {
            "name": service.focal_point_name,
            "phone": service.focal_point_phone,
            "email": service.focal_point_email,
        },
    }


@blueprint.route("/services")
@requires(Permission.BROWSE_DIRECTORY)
@token_endpoint(Scope.DIRECTORY_READ)
def services_list() -> Response:
    organisation_id = None
    organisation = text_arg("organisation", max_length=24)
    if organisation is not None:
        found = find(Organisation, organisation)
        if found is None:
            raise InputError("organisation", "no such organisation")
        organisation_id = found.id
    filters = directory.ServiceFilter(
        area=_area_arg("area"),
        sector=enum_arg("sector", Sector),
        age_group=enum_arg("age_group", AgeGroup),
        sex=enum_arg("sex", Sex),
        status=enum_arg("status", ServiceStatus),
        organisation_id=organisation_id,
    )
    page = directory.search_services(filters, cursor=cursor_arg(), limit=limit_arg())
    return _page([_service(s) for s in page.rows], page.next_cursor)


@blueprint.route("/services/<public_id>")
@requires(Permission.BROWSE_DIRECTORY)
@token_endpoint(Scope.DIRECTORY_READ)
def service(public_id: str) -> Response:
    found = directory.service_by_public_id(public_id)
    if found is None:
        return problem(404, "No such service.")
    return jsonify(_service(found))


# --- published pathways --------------------------------------------------------------------


def _pathway(version: PathwayVersion) -> dict[str, Any]:
    return {
        "id": version.public_id,
        "area": {"id": version.area.public_id, "code": version.area.code},
        "number": version.number,
        "title": version.title,
        "status": version.status.value,
        "published_at": _stamp(version.published_at),
        "sop_markdown": version.sop_markdown,
        "sea_reporting_procedure": version.sea_reporting_procedure,
        "steps": [
            {
                "position": step.position,
                "sector": step.sector.value,
                "guidance": step.guidance,
                "services": [
                    {"id": s.public_id, "name": s.name, "status": s.status.value}
                    for s in step.services
                ],
            }
            for step in version.steps
        ],
    }


@blueprint.route("/pathways")
@requires(Permission.READ_PATHWAYS)
@token_endpoint(Scope.DIRECTORY_READ)
def pathways_list() -> Response:
    area = _area_arg("area")
    limit = limit_arg()
    cursor = cursor_arg()
    if area is not None:
        applying = pathways.published_pathway_for(area)
        return _page([_pathway(applying)] if applying else [], None)
    page = pathways.published_versions(cursor=cursor, limit=limit)
    return _page([_pathway(v) for v in page.rows], page.next_cursor)


@blueprint.route("/pathways/<public_id>")
@requires(Permission.READ_PATHWAYS)
@token_endpoint(Scope.DIRECTORY_READ)
def pathway(public_id: str) -> Response:
    version = pathways.version_by_public_id(public_id)
    if version is None or version.status is not PathwayStatus.PUBLISHED:
        return problem(404, "No such published pathway.")
    return jsonify(_pathway(version))


# --- the receiving organisation's queue (R10, R11) -----------------------------------------


def _incoming_summary(referral: Referral, now: datetime) -> dict[str, Any]:
    return {
        "id": referral.public_id,
        "reference": referral.reference,
        "state": referral.state.value,
        "priority": referral.priority.value,
        "time_critical": referral.time_critical,
        "sector": referral.sector.value,
        "service": {"id": referral.service.public_id, "name": referral.service.name},
        "sending_organisation": _organisation(referral.sending_organisation),
        "survivor_code": referral.survivor_code,
        "age_group": referral.age_group.value,
        "sex": referral.sex.value,
        "needs": [need.value for need in referral.need_list],
        "sent_at": _stamp(referral.sent_at),
        "deadline_at": _stamp(referral.deadline_at),
        "responded_at": _stamp(referral.responded_at),
        "finished_at": _stamp(referral.finished_at),
        "overdue": referral.is_overdue(now),
        "actions": [
            name
            for name, target in ACTIONS.items()
            if REFERRAL_WORKFLOW.can(referral.state, target)
        ],
    }


def _incoming_or_404(public_id: str) -> Referral:
    """Load -> authorise: only the receiving organisation's receivers, once sent."""
    return referrals.load_received(public_id, current_user)


@blueprint.route("/referrals/incoming")
@requires(Permission.RECEIVE_REFERRALS)
@token_endpoint(Scope.REFERRALS_READ)
def incoming() -> Response:
    show = choice_arg("state", list(QUEUE_STATES), "open")
    page = referrals.queue(
        current_user.organisation_id,
        states=QUEUE_STATES[show],
        cursor=cursor_arg(),
        limit=limit_arg(),
    )
    now = utcnow()
    return _page([_incoming_summary(r, now) for r in page.rows], page.next_cursor)


def _incoming_detail(referral: Referral) -> dict[str, Any]:
    view = services.reveal_through_api(referral, current_user)
    return {
        **_incoming_summary(referral, utcnow()),
        "shared": view.details,
        "withheld_fields": services.withheld_fields(referral),
    }


@blueprint.route("/referrals/incoming/<public_id>")
@requires(Permission.RECEIVE_REFERRALS)
@token_endpoint(Scope.REFERRALS_READ)
def incoming_referral(public_id: str) -> Response:
    return jsonify(_incoming_detail(_incoming_or_404(public_id)))  # the reveal is audited


def _answer(public_id: str, action: str) -> Response:
    _incoming_or_404(public_id)
    body = json_body()
    reason = body_text(body, "reason")
    try:
        referrals.transition(public_id, ACTIONS[action], actor=current_user, reason=reason)
    except RuleError as refusal:
        return problem(
            422, str(refusal), errors=[{"field": refusal.field, "message": str(refusal)}]
        )
    except (ConflictError, OperationalError):
        return problem(409, "The referral is no longer in a state that allows this.")
    referral = services.referral_by_public_id(public_id)
    assert referral is not None  # noqa: S101 - it was just changed in this request
    return jsonify(_incoming_summary(referral, utcnow()))


@blueprint.route("/referrals/incoming/<public_id>/accept", methods=["POST"])
@requires(Permission.RECEIVE_REFERRALS)
@token_endpoint(Scope.REFERRALS_WRITE)
def accept(public_id: str) -> Response:
    return _answer(public_id, "accept")


@blueprint.route("/referrals/incoming/<public_id>/decline", methods=["POST"])
@requires(Permission.RECEIVE_REFERRALS)
@token_endpoint(Scope.REFERRALS_WRITE)
def decline(public_id: str) -> Response:
    return _answer(public_id, "decline")


@blueprint.route("/referrals/incoming/<public_id>/complete", methods=["POST"])
@requires(Permission.RECEIVE_REFERRALS)
@token_endpoint(Scope.REFERRALS_WRITE)
def complete(public_id: str) -> Response:
    return _answer(public_id, "complete")


# --- the sender's view (R12, R21) ----------------------------------------------------------


def _sent(referral: Referral, now: datetime) -> dict[str, Any]:
    return {
        "id": referral.public_id,
        "reference": referral.reference,
        "source": referral.source_kind.value,
        "survivor_code": referral.survivor_code,
        "state": referral.state.value,
        "priority": referral.priority.value,
        "sector": referral.sector.value,
        "service": {"id": referral.service.public_id, "name": referral.service.name},
        "receiving_organisation": _organisation(referral.receiving_organisation),
        "created_at": _stamp(referral.created_at),
        "sent_at": _stamp(referral.sent_at),
        "deadline_at": _stamp(referral.deadline_at),
        "responded_at": _stamp(referral.responded_at),
        "finished_at": _stamp(referral.finished_at),
        "overdue": referral.is_overdue(now),
    }


@blueprint.route("/referrals/sent")
@requires(Permission.HANDLE_CASES, Permission.ASSIST_VICTIMS)
@token_endpoint(Scope.REFERRALS_READ)
def sent() -> Response:
    state = enum_arg("state", ReferralState)
    page = services.sent_referrals(
        current_user,
        states=[state] if state is not None else None,
        cursor=cursor_arg(),
        limit=limit_arg(),
    )
    now = utcnow()
    return _page([_sent(r, now) for r in page.rows], page.next_cursor)


@blueprint.route("/referrals/sent/<public_id>")
@requires(Permission.HANDLE_CASES, Permission.ASSIST_VICTIMS)
@token_endpoint(Scope.REFERRALS_READ)
def sent_referral(public_id: str) -> Response:
    referral = services.referral_by_public_id(public_id)
    if referral is None or not services.can_follow(current_user, referral):
        deny("referral not followed by the user", status=404, obj_type="referral", obj_id=public_id)
    return jsonify(_sent(referral, utcnow()))


# --- statistics (R24, R25) -----------------------------------------------------------------


def _table(table: SafeTable) -> dict[str, Any]:
    def cell(item: Any) -> dict[str, Any]:
        return {"text": item.text, "value": item.value if item.shown else None}

    return {
        "title": table.title,
        "row_header": table.row_header,
        "columns": list(table.column_labels),
        "withheld": table.withheld,
        "totals_published": table.totals_published,
        "rows": [
            {
                "label": row.label,
                "cells": [cell(c) for c in row.cells],
                "total": cell(row.total),
            }
            for row in table.rows()
        ],
        "column_totals": [cell(c) for c in table.column_totals],
        "grand_total": cell(table.grand_total),
    }


def _statistics_scope(*, shared: bool) -> reports.StatsScope:
    """The pages' filter form, read strictly: a parameter given must be valid (an empty
    date is an error, not "the default"); a period bound left out takes its default."""
    for bound in ("start", "end"):
        if request.args.get(bound) == "":
            raise InputError(bound, "a date (YYYY-MM-DD), or leave the parameter out")
    start, end = reports.default_period()
    args = MultiDict(
        {
            "start": request.args.get("start", start.isoformat()),
            "end": request.args.get("end", end.isoformat()),
            "granularity": request.args.get("granularity", "month"),
            "area": request.args.get("area", ""),
        }
    )
    form = filter_form(args)
    if not form.validate():
        errors = [
            {"field": name, "message": str(message)}
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise InputError(errors[0]["field"], errors[0]["message"])
    area_id = reports.area_id_of(form.area.data) if form.area.data else None
    granularity = reports.Granularity(form.granularity.data)
    if shared:
        return reports.StatsScope(form.start.data, form.end.data, granularity, None, area_id)
    return reports.scope_for(current_user, form.start.data, form.end.data, granularity, area_id)


def _report(kind: str, report: reports.StatsReport) -> Response:
    """R25: every pull of statistics is an audited export (committed with the request)."""
    record(
        "report.exported",
        obj_type="report",
        obj_id=kind,
        detail={"format": "json", "via": "api", **report.scope.parameters()},
    )
    return jsonify(
        {
            "report": kind,
            "parameters": report.scope.parameters(),
            "threshold": report.threshold,
            "tables": [_table(t) for t in report.tables],
            "figures": [{"label": f.label, "text": f.text} for f in report.figures],
        }
    )


@blueprint.route("/statistics/gbv")
@requires(Permission.GBV_STATISTICS)
@token_endpoint(Scope.STATISTICS_READ)
def gbv_statistics() -> Response:
    return _report("gbv_statistics", reports.gbv_report(_statistics_scope(shared=False)))


@blueprint.route("/statistics/psea")
@requires(Permission.PSEA_STATISTICS)
@token_endpoint(Scope.STATISTICS_READ)
def psea_statistics() -> Response:
    return _report("psea_statistics", psea_stats.psea_report(_statistics_scope(shared=True)))


def init_api(app: Any) -> None:
    """Register the blueprints. The API has no CSRF (no cookie authenticates it)."""
    from referral.api.hxl_views import blueprint as hxl_pages
    from referral.api.token_views import blueprint as token_pages
    from referral.extensions import csrf

    tokens.init_tokens(app)
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)
    app.register_blueprint(token_pages)
    app.register_blueprint(hxl_pages)


def _rate_key() -> str:
    secret = tokens.bearer_secret()
    if secret:
        return "token:" + tokens.digest(secret)[:32]
    return "address:" + (request.remote_addr or "")


# Rate limits per token and per address, declared once for the blueprint (the limiter
# keeps them by blueprint name, for every application that registers it).
limiter.limit(
    lambda: current_app.config["API_RATE_LIMIT_PER_TOKEN"], key_func=_rate_key, scope="api-token"
)(blueprint)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT_PER_ADDRESS"], scope="api-address")(
    blueprint
)
