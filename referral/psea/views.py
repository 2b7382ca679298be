"""PSEA allegations: list and coordinator dashboard, intake, routing, acknowledgement,
outcome; and the administrator's page for interim delegations (R22)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.admin.services import organisation_choices
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.db.base import normalise_code
from referral.db.work import attempt
from referral.directory.services import all_areas, area_by_public_id
from referral.extensions import db
from referral.formatting import from_wall_clock, wall_clock
from referral.forms import blank_first
from referral.i18n import in_current_language
from referral.lifecycle import retention
from referral.lifecycle.forms import LegalHoldForm, apply_hold_form
from referral.psea import delegation as delegations
from referral.psea import services
from referral.psea.forms import (
    TO_COORDINATOR,
    ActionForm,
    AllegationForm,
    DelegationForm,
    OutcomeForm,
    RouteForm,
    survivor_field_name,
)
from referral.psea.labels import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    ENTITY_TYPE_LABELS,
    OUTCOME_LABELS,
    PERSONNEL_LABELS,
    STATE_LABELS,
    STATE_STATUS,
    SURVIVOR_AGE_LABELS,
    SURVIVOR_SEX_LABELS,
)
from referral.psea.models import (
    Allegation,
    AllegationState,
    Category,
    Channel,
    EntityType,
    Outcome,
    PersonnelCategory,
    PseaDelegation,
    SurvivorAgeGroup,
    SurvivorSex,
)
from referral.security.policy import (
    Permission,
    authorize,
    has_permission,
    register_extra_permissions,
    requires,
)
from referral.security.records import find, load_or_404

blueprint = Blueprint("psea", __name__)

Page = str | tuple[str, int] | Response

SEE_ALLEGATIONS = (
    Permission.RECORD_ALLEGATIONS,
    Permission.RESPOND_TO_ALLEGATIONS,
    Permission.COORDINATE_PSEA,
    Permission.ASSIST_VICTIMS,
)


@blueprint.record_once
def _register_delegation(state: BlueprintSetupState) -> None:
    """R22: the policy asks the interim delegation for the PSEA coordinator's rights."""
    register_extra_permissions(
        state.app, delegations.delegable_permissions(), delegations.delegated_permissions
    )


@blueprint.before_request
def _record_delegated_use() -> None:
    """R22: each use of delegated rights is recorded (with the request's unit of work)."""
    if current_user.is_authenticated and request.endpoint:
        delegations.record_use(_me(), request.endpoint)


@blueprint.app_context_processor
def _delegation_banner() -> dict[str, Any]:
    held = None
    if current_user.is_authenticated:
        held = delegations.current_delegation(current_user)  # once per request, holders only
    return {"interim_delegation": held}


def _me() -> User:
    """The signed-in user itself (not the proxy), for services and audit events."""
    user: User = current_user._get_current_object()
    return user


def _template_context() -> dict[str, Any]:
    return {
        "state_labels": in_current_language(STATE_LABELS),
        "state_status": STATE_STATUS,
        "category_labels": in_current_language(CATEGORY_LABELS),
        "channel_labels": in_current_language(CHANNEL_LABELS),
        "entity_type_labels": in_current_language(ENTITY_TYPE_LABELS),
        "personnel_labels": in_current_language(PERSONNEL_LABELS),
        "outcome_labels": in_current_language(OUTCOME_LABELS),
        "age_labels": in_current_language(SURVIVOR_AGE_LABELS),
        "sex_labels": in_current_language(SURVIVOR_SEX_LABELS),
        "pending_deadline": services.pending_deadline,
        "describe_due": services.describe_due,
        "now": utcnow(),
    }


# --- list and dashboard ----------------------------------------------------------------


@blueprint.route("/allegations/")
@requires(*SEE_ALLEGATIONS)
def index() -> Page:
    state_filter = request.args.get("state", "")
    try:
        state = AllegationState(state_filter) if state_filter else None
    except ValueError:
        abort(400)
    overdue_only = request.args.get("overdue") == "1"
    reference = normalise_code(request.args.get("code", ""))
    page = services.list_allegations(
        current_user,
        state=state,
        overdue_only=overdue_only,
        cursor=request.args.get("cursor"),
        limit=int(current_app.config["PAGE_SIZE"]),
        reference=reference or None,
    )
    dashboard = None
    if has_permission(current_user, Permission.COORDINATE_PSEA):
        dashboard = services.dashboard()
    return render_template(
        "psea/index.html",
        allegations=page.rows,
        next_cursor=page.next_cursor,
        state_filter=state_filter,
        overdue_only=overdue_only,
        code=reference,
        dashboard=dashboard,
        states=list(AllegationState),
        can_record=has_permission(current_user, Permission.RECORD_ALLEGATIONS),
        **_template_context(),
    )


# --- intake ------------------------------------------------------------------------------


def _intake_form() -> AllegationForm:
    form = AllegationForm()
    form.entity.choices = [("", _("Unknown or not listed")), *organisation_choices()]
    form.area.choices = [("", _("Not known"))] + [
        (area.public_id, ("\u2003" * area.level.rank) + area.name)
        for area in all_areas()
        if area.level in services.ADMIN_LEVELS
    ]
    if request.method == "GET":
        form.received_at.data = wall_clock(utcnow()).replace(second=0, microsecond=0)
    return form


def _intake_data(form: AllegationForm) -> services.AllegationData:
    survivors = {
        (age, sex): int(getattr(form, survivor_field_name(age, sex)).data or 0)
        for age in SurvivorAgeGroup
        for sex in SurvivorSex
    }
    received_at: datetime = form.received_at.data  # DataRequired: never None here
    return services.AllegationData(
        received_at=from_wall_clock(received_at),
        channel=Channel(form.channel.data),
        incident_from=form.incident_from.data,
        incident_to=form.incident_to.data,
        area=area_by_public_id(form.area.data) if form.area.data else None,
        category=Category(form.category.data),
        # Asked only when the entity is not listed; a listed one gives its own type.
        entity_type=EntityType(form.entity_type.data or EntityType.UNKNOWN.value),
        entity_organisation=find(Organisation, form.entity.data),
        personnel_category=PersonnelCategory(form.personnel_category.data),
        survivors=survivors,
        consents_to_assistance=bool(form.consents_to_assistance.data),
        narrative=form.narrative.data or None,
    )


@blueprint.route("/allegations/new", methods=["GET", "POST"])
@requires(Permission.RECORD_ALLEGATIONS)
def new() -> Page:
    form = _intake_form()
    survivor_error = None
    if request.method == "POST":
        if form.validate():
            recorded = attempt(
                lambda: services.record_allegation(_intake_data(form), actor=_me()),
                form,
                fields={"survivors": None},  # shown above the survivor grid
            )
            if recorded:
                allegation = recorded.value
                flash(_("Allegation %(ref)s recorded.", ref=allegation.reference), "success")
                return redirect(url_for("psea.show", public_id=allegation.public_id))
            if recorded.field == "survivors":
                survivor_error = recorded.message
        return render_template(
            "psea/new.html", form=form, survivor_error=survivor_error, **_survivor_grid(form)
        ), 400
    return render_template("psea/new.html", form=form, survivor_error=None, **_survivor_grid(form))


def _survivor_grid(form: AllegationForm) -> dict[str, Any]:
    return {
        "survivor_rows": [
            (
                SURVIVOR_AGE_LABELS[age],
                [getattr(form, survivor_field_name(age, sex)) for sex in SurvivorSex],
            )
            for age in SurvivorAgeGroup
        ],
        "survivor_sexes": [SURVIVOR_SEX_LABELS[sex] for sex in SurvivorSex],
    }


# --- one allegation ----------------------------------------------------------------------


def _load_visible(public_id: str, *, for_update: bool = False) -> Allegation:
    return services.load_visible(public_id, current_user, for_update=for_update)


def _load_for_response(public_id: str) -> Allegation:
    """The allegation, locked, for the concerned entity's focal points to answer."""
    allegation = _load_visible(public_id, for_update=True)
    authorize(
        services.can_respond(current_user, allegation),
        reason="not the concerned entity",
        obj_type=services.OBJ_TYPE,
        obj_id=public_id,
    )
    return allegation


def _route_form(allegation: Allegation) -> RouteForm:
    form = RouteForm()
    choices = [(o.public_id, f"{o.acronym} ({o.name})") for o in services.member_organisations()]
    if not has_permission(current_user, Permission.COORDINATE_PSEA):
        choices.append((TO_COORDINATOR, _("Unknown or not a member: send to the coordinator")))
    form.organisation.choices = blank_first(choices)
    if request.method == "GET" and allegation.entity_organisation is not None:
        form.organisation.data = allegation.entity_organisation.public_id
    return form


def _render_show(allegation: Allegation, status: int = 200, **forms: Any) -> Page:
    can_route = services.can_route(current_user, allegation)
    can_respond = services.can_respond(current_user, allegation)
    return render_template(
        "psea/show.html",
        allegation=allegation,
        can_read_narrative=services.can_read_narrative(current_user, allegation),
        can_open_assistance=allegation.consents_to_assistance
        and has_permission(current_user, Permission.ASSIST_VICTIMS),
        route_form=forms.get("route_form") or (_route_form(allegation) if can_route else None),
        acknowledge_form=(
            ActionForm() if can_respond and allegation.state is AllegationState.ROUTED else None
        ),
        outcome_form=forms.get("outcome_form")
        or (
            OutcomeForm()
            if can_respond
            and allegation.state in (AllegationState.ACKNOWLEDGED, AllegationState.IN_PROGRESS)
            else None
        ),
        hold=retention.active_hold(db.session(), "allegation", allegation.public_id),
        hold_form=forms.get("hold_form")
        or (
            LegalHoldForm(formdata=None, prefix="hold")
            if retention.may_hold(current_user, allegation)
            else None
        ),
        **_template_context(),
    ), status


@blueprint.route("/allegations/<public_id>")
@requires(*SEE_ALLEGATIONS)
def show(public_id: str) -> Page:
    return _render_show(_load_visible(public_id))


@blueprint.route("/allegations/<public_id>/narrative")
@requires(
    Permission.RECORD_ALLEGATIONS, Permission.RESPOND_TO_ALLEGATIONS, Permission.COORDINATE_PSEA
)
def narrative(public_id: str) -> Page:
    allegation = _load_visible(public_id)
    authorize(
        services.can_read_narrative(current_user, allegation),
        reason="narrative not readable by this user",
        obj_type=services.OBJ_TYPE,
        obj_id=public_id,
    )
    text = services.reveal_narrative(allegation, actor=_me())
    return render_template("psea/narrative.html", allegation=allegation, narrative=text)


def _conflict(allegation_id: str) -> Page:
    """Someone else acted first: nothing was changed (the caller's attempt rolled back)."""
    flash(
        _("Someone else changed this allegation at the same time. Here is its current state."),
        "error",
    )
    allegation = _load_visible(allegation_id)
    return _render_show(allegation, status=409)


@blueprint.route("/allegations/<public_id>/route", methods=["POST"])
@requires(Permission.ROUTE_ALLEGATIONS)
def route(public_id: str) -> Page:
    allegation = _load_visible(public_id, for_update=True)
    if allegation.state not in services.AWAITING_ROUTING:
        return _conflict(public_id)  # someone routed it first (nothing was changed yet)
    authorize(
        services.can_route(current_user, allegation),
        reason="may not route this allegation",
        obj_type=services.OBJ_TYPE,
        obj_id=public_id,
    )
    form = _route_form(allegation)
    if not form.validate():
        return _render_show(_load_visible(public_id), 400, route_form=form)
    chosen = form.organisation.data or ""
    target = None if chosen == TO_COORDINATOR else find(Organisation, chosen)
    routed = attempt(
        lambda: services.route(allegation, target, actor=_me()), form, default="organisation"
    )
    if routed.status == 409:
        return _conflict(public_id)
    if not routed:
        return _render_show(_load_visible(public_id), 400, route_form=form)
    if routed.value is AllegationState.MANUAL_ROUTING:
        flash(_("Sent to the network coordinator for manual routing."), "success")
    else:
        flash(_("Allegation routed."), "success")
    return redirect(url_for("psea.show", public_id=public_id))


@blueprint.route("/allegations/<public_id>/legal-hold", methods=["POST"])
@requires(Permission.HOLD_ALLEGATIONS)
def legal_hold(public_id: str) -> Page:
    """R26: the PSEA coordinator places or releases a legal hold on an allegation."""
    allegation = _load_visible(public_id, for_update=True)
    authorize(
        retention.may_hold(current_user, allegation),
        reason="may not hold this allegation",
        obj_type=services.OBJ_TYPE,
        obj_id=public_id,
    )
    form = LegalHoldForm(prefix="hold")
    done = apply_hold_form(form, allegation, _me())
    if done is not None:
        flash(
            _("Legal hold placed: this allegation will not be purged.")
            if done == "place"
            else _("Legal hold released."),
            "success",
        )
        return redirect(url_for("psea.show", public_id=public_id))
    return _render_show(_load_visible(public_id), 400, hold_form=form)


@blueprint.route("/allegations/<public_id>/acknowledge", methods=["POST"])
@requires(Permission.RESPOND_TO_ALLEGATIONS)
def acknowledge(public_id: str) -> Page:
    allegation = _load_for_response(public_id)
    if not ActionForm().validate():
        abort(400)
    if not attempt(lambda: services.acknowledge(allegation, actor=_me())):
        return _conflict(public_id)
    flash(_("Receipt acknowledged."), "success")
    return redirect(url_for("psea.show", public_id=public_id))


@blueprint.route("/allegations/<public_id>/outcome", methods=["POST"])
@requires(Permission.RESPOND_TO_ALLEGATIONS)
def outcome(public_id: str) -> Page:
    allegation = _load_for_response(public_id)
    form = OutcomeForm()
    if not form.validate():
        return _render_show(_load_visible(public_id), 400, outcome_form=form)
    if not attempt(
        lambda: services.report_outcome(allegation, Outcome(form.outcome.data), actor=_me())
    ):
        return _conflict(public_id)
    flash(_("Outcome reported."), "success")
    return redirect(url_for("psea.show", public_id=public_id))


# --- interim delegation (R22), administrator -------------------------------------------


def _delegation_form() -> DelegationForm:
    form = DelegationForm()
    form.holder.choices = blank_first(
        (u.public_id, f"{u.full_name} ({u.organisation.acronym})")
        for u in delegations.gbv_coordinators()
    )
    return form


@blueprint.route("/admin/psea-delegations", methods=["GET", "POST"])
@requires(Permission.GRANT_DELEGATION)
def delegations_page() -> Page:
    form = _delegation_form()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            holder = find(User, form.holder.data)
            ends_on: date = form.ends_on.data  # DataRequired: never None here
            if holder is None:
                abort(400)
            if attempt(
                lambda: delegations.grant(holder, ends_on, form.reason.data or "", actor=_me()),
                form,
            ):
                flash(_("Interim PSEA delegation granted."), "success")
                return redirect(url_for("psea.delegations_page"))
    return render_template(
        "psea/delegations.html",
        form=form,
        delegations=delegations.listing(),
        action=ActionForm(),
        now=utcnow(),
        max_days=current_app.config["PSEA_DELEGATION_MAX_DAYS"],
    ), status


@blueprint.route("/admin/psea-delegations/<public_id>/end", methods=["POST"])
@requires(Permission.GRANT_DELEGATION)
def end_delegation(public_id: str) -> Page:
    delegation = load_or_404(PseaDelegation, public_id, obj_type=delegations.OBJ_TYPE)
    if not ActionForm().validate():
        abort(400)
    ended = attempt(lambda: delegations.revoke(delegation, actor=_me()))
    if ended:
        flash(_("Delegation ended."), "success")
    else:
        flash(ended.message, "error")
    return redirect(url_for("psea.delegations_page"))
