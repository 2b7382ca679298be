"""Victim assistance: the focal point's records, opening one (from an allegation or
standalone), referring into GBV case management, and the status of those referrals."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.assistance import services
from referral.assistance.forms import AssistanceForm, ChildConsentFields, CloseForm, ReferForm
from referral.assistance.labels import (
    NEED_LABELS,
    PRIORITY_LABELS,
    REFERRAL_STATE_LABELS,
    REFERRAL_STATE_STATUS,
    STATE_LABELS,
)
from referral.assistance.models import AssistanceNeed, AssistanceRecord
from referral.db import User
from referral.db.work import attempt
from referral.directory.labels import AGE_GROUP_LABELS, SECTOR_LABELS, SEX_LABELS
from referral.directory.models import AgeGroup, Sex
from referral.directory.services import area_by_public_id, area_choices
from referral.forms import blank_first
from referral.referrals import services as engine
from referral.referrals.models import CaregiverRelationship, Priority
from referral.security.policy import Permission, requires

blueprint = Blueprint("assistance", __name__, url_prefix="/assistance")

Page = str | tuple[str, int] | Response


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _labels() -> dict[str, Any]:
    return {
        "need_labels": NEED_LABELS,
        "state_labels": STATE_LABELS,
        "age_labels": AGE_GROUP_LABELS,
        "sex_labels": SEX_LABELS,
        "sector_labels": SECTOR_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "referral_state_labels": REFERRAL_STATE_LABELS,
        "referral_state_status": REFERRAL_STATE_STATUS,
    }


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _child(form: ChildConsentFields) -> engine.ChildConsent:
    relationship = form.caregiver_relationship.data or ""
    return engine.ChildConsent(
        caregiver_consented=_yes_no(form.caregiver_consented.data),
        caregiver_relationship=CaregiverRelationship(relationship) if relationship else None,
        caregiver_is_alleged_perpetrator=_yes_no(form.caregiver_is_alleged_perpetrator.data),
        child_assented=_yes_no(form.child_assented.data),
        best_interest_note=form.best_interest_note.data or None,
    )


# --- list ----------------------------------------------------------------------------------


@blueprint.route("/")
@requires(Permission.ASSIST_VICTIMS)
def index() -> Page:
    user = _me()
    page = services.list_records(
        user, cursor=request.args.get("cursor"), limit=int(current_app.config["PAGE_SIZE"])
    )
    rows = page.rows
    latest = services.latest_referrals(rows)
    return render_template(
        "assistance/index.html",
        records=rows,
        latest=latest,
        next_cursor=page.next_cursor,
        allegations=services.allegation_references(
            [r.allegation_public_id for r in rows if r.allegation_public_id]
        ),
        **_labels(),
    )


# --- opening -------------------------------------------------------------------------------


@blueprint.route("/new", methods=["GET", "POST"])
@requires(Permission.ASSIST_VICTIMS)
def new() -> Page:
    form = AssistanceForm()
    form.area.choices = area_choices(blank=_("Choose the area"))
    if request.method == "GET":
        form.allegation.data = request.args.get("allegation", "")
    allegation_id = form.allegation.data or ""
    reference = services.allegation_for_assistance(allegation_id) if allegation_id else None
    if allegation_id and reference is None:
        abort(404)
    if request.method == "GET" and reference is not None:
        known = services.prefill_from_allegation(allegation_id)
        form.age_group.data = known.age_group.value if known.age_group else None
        form.sex.data = known.sex.value if known.sex else None
        form.area.data = known.area.public_id if known.area else None
    if request.method == "POST":
        if form.validate():
            area = area_by_public_id(form.area.data or "")
            if area is None:
                abort(400)
            data = services.AssistanceData(
                age_group=AgeGroup(form.age_group.data),
                sex=Sex(form.sex.data),
                area=area,
                needs=[AssistanceNeed(v) for v in form.needs.data or []],
                consents_to_assistance=bool(form.consents_to_assistance.data),
                allegation_public_id=allegation_id or None,
                child=_child(form),
            )
            opened = attempt(
                lambda: services.open_record(data, actor=_me()),
                form,
                default="consents_to_assistance",
            )
            if opened:
                record = opened.value
                flash(_("Assistance record %(code)s opened.", code=record.survivor_code), "success")
                return redirect(url_for("assistance.show", public_id=record.public_id))
        return render_template("assistance/new.html", form=form, reference=reference), 400
    return render_template("assistance/new.html", form=form, reference=reference)


# --- one record: status and referral -------------------------------------------------------


def _load(public_id: str) -> AssistanceRecord:
    return services.load_record(public_id, _me())


def _refer_form(record: AssistanceRecord) -> tuple[ReferForm, dict[str, Any]]:
    form = ReferForm()
    options = services.case_management_options(record)
    form.service.choices = blank_first(
        (
            o.service.public_id,
            f"{o.service.name} ({o.service.organisation.acronym})"
            + (f" - {'; '.join(o.reasons)}" if o.reasons else ""),
        )
        for o in options
    )
    return form, {o.service.public_id: o for o in options}


def _render(
    record: AssistanceRecord,
    status: int = 200,
    form: ReferForm | None = None,
    close_form: CloseForm | None = None,
) -> Page:
    refer_form = form or _refer_form(record)[0]
    return render_template(
        "assistance/show.html",
        record=record,
        referrals=services.referrals(record),
        refer_form=refer_form,
        close_form=close_form or CloseForm(formdata=None, prefix="close"),
        allegation_reference=(
            services.allegation_references([record.allegation_public_id]).get(
                record.allegation_public_id
            )
            if record.allegation_public_id
            else None
        ),
        **_labels(),
    ), status


@blueprint.route("/<public_id>")
@requires(Permission.ASSIST_VICTIMS)
def show(public_id: str) -> Page:
    return _render(_load(public_id))


@blueprint.route("/<public_id>/refer", methods=["POST"])
@requires(Permission.ASSIST_VICTIMS)
def refer(public_id: str) -> Page:
    record = _load(public_id)
    form, options = _refer_form(record)
    if not form.validate():
        return _render(record, 400, form)
    option = options.get(form.service.data or "")
    if option is None:
        abort(400)
    sent = attempt(
        lambda: services.refer(
            record,
            services.AssistanceReferral(
                service=option.service,
                priority=Priority(form.priority.data),
                survivor_consents=bool(form.survivor_consents.data),
                note=form.note.data or "",
                off_pathway_reason=form.off_pathway_reason.data or "",
                child=_child(form),
            ),
            actor=_me(),
        ),
        form,
        default="service",
    )
    if not sent:
        return _render(_load(public_id), sent.status, form)
    flash(_("Referral sent to %(org)s.", org=option.service.organisation.acronym), "success")
    return redirect(url_for("assistance.show", public_id=public_id))


@blueprint.route("/<public_id>/close", methods=["POST"])
@requires(Permission.ASSIST_VICTIMS)
def close(public_id: str) -> Page:
    record = _load(public_id)
    form = CloseForm(prefix="close")
    if not form.validate():
        return _render(record, 400, close_form=form)
    if not attempt(lambda: services.close(record, actor=_me())):
        flash(_("This record was already closed."), "error")
        return _render(_load(public_id), 409)
    flash(_("Assistance record closed."), "success")
    return redirect(url_for("assistance.show", public_id=public_id))
