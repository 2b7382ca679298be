"""Case pages: load -> authorise -> act; every page is no-store (set for all pages)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, time
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from referral.admin import lists
from referral.admin.lists import CountryList
from referral.audit import record as audit
from referral.auth.forms import LANGUAGE_NAMES
from referral.cases import dictionary, services, transfers
from referral.cases.dictionary import PerpetratorData
from referral.cases.forms import (
    AcceptTransferForm,
    ActionForm,
    ActionStatusForm,
    AssignForm,
    CaseDetailsForm,
    ChildConsentForm,
    ClosureForm,
    ConsentForm,
    DecisionForm,
    DeclineTransferForm,
    FollowUpForm,
    IncidentForm,
    IntakeForm,
    NotesForm,
    ReassignForm,
    ReferForm,
    ReopenForm,
    StageForm,
    TransferForm,
    WithdrawForm,
    WithdrawReferralForm,
    WithdrawTransferForm,
)
from referral.cases.labels import (
    ACTION_STATUS_LABELS,
    AGE_BAND_LABELS,
    CLOSURE_LABELS,
    DISABILITY_LABELS,
    DISPLACEMENT_LABELS,
    DISPLACEMENT_STAGE_LABELS,
    GBVIMS_RELATIONSHIP_LABELS,
    INCIDENT_TYPE_LABELS,
    MARITAL_LABELS,
    PERPETRATOR_SEX_LABELS,
    QUESTION_LABELS,
    RELATIONSHIP_LABELS,
    REPORTING_DELAY_LABELS,
    RISK_CLASSES,
    RISK_LABELS,
    SEPARATION_LABELS,
    STAGE_CLASSES,
    STAGE_LABELS,
    TRANSFER_STATE_LABELS,
)
from referral.cases.models import (
    ANSWER_SECTORS,
    CASE_WORKFLOW,
    AbductionType,
    ActionStatus,
    AgeBand,
    Case,
    CaseStage,
    CaseTransfer,
    ClosureReason,
    DisabilityType,
    DisplacementStage,
    DisplacementStatus,
    GbvimsRelationship,
    HarmfulPractice,
    Incident,
    LegalAction,
    MaritalStatus,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PerpetratorSex,
    PreviouslyReported,
    ReferralAnswer,
    RiskLevel,
    SeparationStatus,
    TimeOfDay,
    TransferState,
)
from referral.clinical import WINDOW_STATUS_LABELS, care_arranged
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.db.base import normalise_code
from referral.db.work import after_commit, attempt
from referral.directory.labels import AGE_GROUP_LABELS, COST_LABELS, SECTOR_LABELS, SEX_LABELS
from referral.directory.models import AgeGroup, Area, Sex
from referral.directory.services import area_by_public_id, area_choices, service_by_public_id
from referral.extensions import db
from referral.formatting import day_text, from_wall_clock, wall_clock
from referral.forms import blank_first
from referral.i18n import in_current_language
from referral.lifecycle import retention
from referral.lifecycle.forms import LegalHoldForm, apply_hold_form
from referral.pathways.services import PathwayOption
from referral.referrals import notify
from referral.referrals import services as engine
from referral.referrals.labels import (
    CAREGIVER_LABELS,
    CONSENT_KIND_LABELS,
    EVENT_LABELS,
    NEED_LABELS,
    PRIORITY_SHORT,
    SHARED_FIELD_LABELS,
    STATE_CLASSES,
    STATE_LABELS,
)
from referral.referrals.models import (
    PENDING_STATES,
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Need,
    Priority,
    Referral,
    ReferralState,
)
from referral.security.policy import Permission, authorize, deny, has_permission, requires
from referral.security.records import find
from referral.workflow import RuleError

blueprint = Blueprint("cases", __name__, url_prefix="/cases")

Page = str | tuple[str, int] | Response

LABELS: dict[str, Any] = {
    "stage": STAGE_LABELS,
    "transfer_state": TRANSFER_STATE_LABELS,
    "stage_class": STAGE_CLASSES,
    "risk": RISK_LABELS,
    "risk_class": RISK_CLASSES,
    "age_group": AGE_GROUP_LABELS,
    "sex": SEX_LABELS,
    "displacement": DISPLACEMENT_LABELS,
    "disability": DISABILITY_LABELS,
    "separation": SEPARATION_LABELS,
    "marital": MARITAL_LABELS,
    "displacement_stage": DISPLACEMENT_STAGE_LABELS,
    "perpetrator_sex": PERPETRATOR_SEX_LABELS,
    "age_band": AGE_BAND_LABELS,
    "gbvims_relationship": GBVIMS_RELATIONSHIP_LABELS,
    "incident_type": INCIDENT_TYPE_LABELS,
    "relationship": RELATIONSHIP_LABELS,
    "reporting_delay": REPORTING_DELAY_LABELS,
    "question": QUESTION_LABELS,
    "closure": CLOSURE_LABELS,
    "action_status": ACTION_STATUS_LABELS,
    "need": NEED_LABELS,
    "consent_kind": CONSENT_KIND_LABELS,
    "caregiver": CAREGIVER_LABELS,
    "shared": SHARED_FIELD_LABELS,
    "sector": SECTOR_LABELS,
    "priority": PRIORITY_SHORT,
    "state": STATE_LABELS,
    "event": EVENT_LABELS,
    "state_class": STATE_CLASSES,
}


@blueprint.context_processor
def _labels() -> dict[str, Any]:
    return {"labels": in_current_language(LABELS)}


def _case(public_id: str, *, for_update: bool = False, for_page: bool = False) -> Case:
    """Load -> authorise: someone else's (or a missing) case is a 404 either way."""
    return services.load_case(public_id, current_user, for_update=for_update, for_page=for_page)


def _closed_to_changes() -> str:
    return str(_("The case is closed or its closure is requested: nothing more can be changed."))


def _yes(value: str | None) -> bool | None:
    return None if value in (None, "") else value == "yes"


def _error_page(template: str, status: int = 400, /, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


def action_page(
    case: Case,
    form: FlaskForm,
    *,
    heading: str,
    submit: str,
    template: str = "cases/_action.html",
    danger: bool = False,
    closed: str | None = None,
    skip: Collection[str] = (),
    **context: Any,
) -> Page:
    """The page of one consequential action on the case (templates/cases/_action.html):
    shown on GET, shown again with the form's errors (400) after a refused POST."""
    html = render_template(
        template,
        case=case,
        form=form,
        heading=heading,
        submit=submit,
        danger=danger,
        closed=closed,
        skip=skip,
        **context,
    )
    return (html, 400) if request.method == "POST" else html


# --- list and intake ------------------------------------------------------------------------


@blueprint.route("/")
@requires(Permission.HANDLE_CASES)
def index() -> Page:
    stage = request.args.get("stage", "")
    risk = request.args.get("risk", "")
    filters = services.CaseFilter(
        stage=CaseStage(stage) if stage in CaseStage.__members__.values() else None,
        risk_level=RiskLevel(risk) if risk in RiskLevel.__members__.values() else None,
        mine_only=request.args.get("mine") == "1",
        code=normalise_code(request.args.get("code", "")) or None,
    )
    page = services.list_cases(
        current_user,
        filters,
        cursor=request.args.get("cursor"),
        limit=int(current_app.config["PAGE_SIZE"]),
    )
    return render_template(
        "cases/index.html",
        page=page,
        filters=filters,
        now=utcnow(),
        care_arranged=services.incidents_with_care_arranged(page.rows),
        can_supervise=has_permission(current_user, Permission.SUPERVISE_CASES),
    )


@blueprint.route("/new", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def new() -> Page:
    form = IntakeForm()
    form.area.choices = area_choices(blank=_("Choose"))
    _dictionary_choices(form, None)
    origin = _origin_referral()
    if origin is not None and request.method == "GET":
        form.sex.data = origin.sex.value
        form.age_group.data = origin.age_group.value
    if request.method == "POST":
        if form.validate():
            area = area_by_public_id(form.area.data or "")
            if area is None:
                form.area.errors.append(_("Choose the area."))
            else:
                intake = services.Intake(
                    mandatory_reporting_explained=bool(form.mandatory_reporting_explained.data),
                    from_referral=origin,
                    **_survivor_details(form, area),
                )
                opened = attempt(lambda: services.open_case(intake, actor=current_user), form)
                if opened:
                    case = opened.value
                    flash(_("Case %(code)s opened.", code=case.survivor_code), "success")
                    return redirect(url_for("cases.show", public_id=case.public_id))
        return _error_page("cases/new.html", form=form, origin=origin)
    return render_template("cases/new.html", form=form, origin=origin)


def _dictionary_choices(form: CaseDetailsForm, case: Case | None) -> None:
    """The country lists (a case keeps a code no longer offered) and the countries."""
    blank = [("", str(_("Not asked")))]
    form.ethnicity.choices = blank + lists.choices(
        CountryList.ETHNICITY, keep=case.ethnicity if case else None
    )
    form.referred_from.choices = blank + lists.choices(
        CountryList.REFERRED_FROM, keep=case.referred_by if case else None
    )
    form.country_of_origin.choices = blank + dictionary.country_choices()


def _enum_or_none(kind: Any, value: str | None) -> Any:
    return kind(value) if value else None


def _survivor_details(form: CaseDetailsForm, area: Area) -> dict[str, Any]:
    """The :class:`services.CaseDetails` fields from the intake or edit form."""
    return {
        "disability_type": _enum_or_none(DisabilityType, form.disability_type.data),
        "separation_status": _enum_or_none(SeparationStatus, form.separation_status.data),
        "marital_status": _enum_or_none(MaritalStatus, form.marital_status.data),
        "ethnicity": form.ethnicity.data or None,
        "country_of_origin": form.country_of_origin.data or None,
        "referred_from": form.referred_from.data or None,
        "sex": Sex(form.sex.data),
        "risk_level": RiskLevel(form.risk_level.data),
        "area": area,
        "age": form.age.data,
        "age_group": AgeGroup(form.age_group.data) if form.age_group.data else None,
        "has_disability": bool(form.has_disability.data),
        "displacement_status": DisplacementStatus(form.displacement_status.data),
        "unaccompanied_or_separated": bool(form.unaccompanied_or_separated.data),
        **{name: getattr(form, name).data or "" for name in services.INTAKE_SENSITIVE_FIELDS},
    }


@blueprint.route("/<public_id>/edit", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def edit(public_id: str) -> Page:
    """Correct what intake recorded; the sensitive values shown in the form are recorded
    as revealed (R2), and the audit names the changed fields, never their values."""
    case = _case(public_id, for_update=request.method == "POST")
    if not case.is_open:
        flash(_closed_to_changes(), "error")
        return redirect(url_for("cases.show", public_id=case.public_id))
    if request.method == "GET":
        values = services.reveal(case, current_user, services.INTAKE_SENSITIVE_FIELDS)
        form = CaseDetailsForm(
            data={
                "age": case.age,
                "age_group": "" if case.age is not None else case.age_group.value,
                "sex": case.sex.value,
                "area": case.area.public_id,
                "risk_level": case.risk_level.value,
                "displacement_status": case.displacement_status.value,
                "has_disability": case.has_disability,
                "unaccompanied_or_separated": case.unaccompanied_or_separated,
                "disability_type": _value(case.disability_type),
                "separation_status": _value(case.separation_status),
                "marital_status": _value(case.marital_status),
                "ethnicity": case.ethnicity or "",
                "country_of_origin": case.country_of_origin or "",
                "referred_from": case.referred_by,
                **values,
            }
        )
        form.area.choices = area_choices(blank=_("Choose"))
        _dictionary_choices(form, case)
        return render_template("cases/edit.html", case=case, form=form)
    form = CaseDetailsForm()
    form.area.choices = area_choices(blank=_("Choose"))
    _dictionary_choices(form, case)
    if form.validate():
        area = area_by_public_id(form.area.data or "")
        if area is None:
            form.area.errors.append(_("Choose the area."))
        else:
            details = services.CaseDetails(**_survivor_details(form, area))
            edited = attempt(lambda: services.edit_case(case, details, actor=current_user), form)
            if edited:
                flash(_("Case updated.") if edited.value else _("Nothing was changed."), "success")
                return redirect(url_for("cases.show", public_id=case.public_id))
    return _error_page("cases/edit.html", case=case, form=form)


def _origin_referral() -> Referral | None:
    """The accepted referral named by ``?referral=``: the case is opened for it (R21)."""
    public_id = request.args.get("referral", "")
    if not public_id:
        return None
    referral = find(Referral, public_id)
    if referral is None:
        abort(404)
    try:
        services.check_origin_referral(referral, current_user)
    except RuleError:
        deny(
            "referral not accepted by this organisation or already has a case",
            status=404,
            obj_type="referral",
            obj_id=public_id,
        )
    return referral


# --- the case -------------------------------------------------------------------------------


def _show_context(case: Case) -> dict[str, Any]:
    now = utcnow()
    consents = engine.consents_of(case)
    referrals = engine.referrals_of(case.source_kind, case.public_id)
    goals = {item.id: item.goal for item in case.action_items}
    revealed = ["action_goals"] if goals else []
    # The supervisor's and the caseworker's closure words, on the page that acts on them.
    closure_texts = {
        "closure_note": case.closure_note
        if case.stage is CaseStage.CLOSURE_REQUESTED or case.closed_at
        else None,
        "closure_refusal_reason": case.closure_refusal_reason if case.is_open else None,
        "reopen_reason": case.reopen_reason if case.is_open else None,
    }
    revealed += [name for name, text in closure_texts.items() if text]
    if revealed:
        audit(
            "case.viewed",
            actor=current_user,
            obj_type="case",
            obj_id=case.public_id,
            fields_revealed=revealed,
        )
    next_stages = [
        (s.value, STAGE_LABELS[s])
        for s in CaseStage
        if case.is_open
        and CASE_WORKFLOW.can(case.stage, s)
        and s not in (CaseStage.CLOSURE_REQUESTED, CaseStage.CLOSED)
    ]
    stage_form = None
    if next_stages:
        stage_form = StageForm()
        stage_form.stage.choices = next_stages
    can_approve = has_permission(current_user, Permission.APPROVE_CLOSURE)
    case_transfers = case.transfers
    country_labels = lists.labels_of(
        CountryList.ETHNICITY, CountryList.REFERRED_FROM, CountryList.OCCUPATION
    )
    return {
        "ethnicity_labels": country_labels[CountryList.ETHNICITY],
        "referred_from_labels": country_labels[CountryList.REFERRED_FROM],
        "occupation_labels": country_labels[CountryList.OCCUPATION],
        "country_name": dictionary.country_name,
        "case": case,
        "now": now,
        # R8: every incident's windows, open or closed; care is arranged per incident
        "windows": [(i, w) for i in case.incidents for w in i.clinical_windows()],
        "care_arranged": {
            i.public_id
            for i in case.incidents
            if care_arranged(
                (r.sector.value, r.state.value)
                for r in referrals
                if r.incident_public_id == i.public_id
            )
        },
        "window_labels": WINDOW_STATUS_LABELS,
        "incident_numbers": {i.public_id: i.number for i in case.incidents},
        "consents": consents,
        "referrals": referrals,
        "exchanges": {r.id: engine.exchange(r, current_user, as_sender=True) for r in referrals},
        "goals": goals,
        # only the forms this page shows (a failed POST puts its own in their place)
        "stage_form": stage_form,
        "action_statuses": [(s.value, ACTION_STATUS_LABELS[s]) for s in ActionStatus],
        "decision_form": DecisionForm(formdata=None)
        if can_approve and case.stage is CaseStage.CLOSURE_REQUESTED
        else None,
        "reopen_form": ReopenForm(formdata=None, prefix="reopen")
        if can_approve and case.closed_at
        else None,
        "closure_texts": closure_texts,
        "transfers": case_transfers,
        "withdraw_transfer_form": WithdrawTransferForm(formdata=None, prefix="transfer")
        if any(t.state is TransferState.PROPOSED for t in case_transfers)
        else None,
        "pending_states": PENDING_STATES,
        "can_approve": can_approve,
        "can_assign": has_permission(current_user, Permission.SUPERVISE_CASES),
        "hold": case.holds_in_force[0] if case.holds_in_force else None,
        "can_hold": retention.may_hold(current_user, case),
    }


def _form_error_page(case: Case, **forms: Any) -> tuple[str, int]:
    """The case page again with a form that came back with errors: nothing was changed."""
    flash(_("Nothing was changed: see the message in the form below."), "error")
    context = _show_context(case)
    context.update(forms)
    return _error_page("cases/show.html", **context)


def _chosen_caseworker(
    case: Case,
    form: AssignForm | ReassignForm,
    leave_out: Collection[int],
    act: Callable[[User], Any],
) -> User | None:
    """The caseworker form of the assign and reassign pages: offers the organisation's
    caseworkers but those in ``leave_out`` (user ids); on a valid POST, ``act`` on the
    chosen one (a refusal goes into the form's errors) and return them."""
    form.user.choices = blank_first(
        (u.public_id, u.full_name)
        for u in services.caseworkers_of(case.organisation_id)
        if u.id not in leave_out
    )
    if request.method != "POST" or not form.validate():
        return None
    user = find(User, form.user.data)
    return user if user is not None and attempt(lambda: act(user), form) else None


@blueprint.route("/<public_id>")
@requires(Permission.HANDLE_CASES)
def show(public_id: str) -> Page:
    case = _case(public_id, for_page=True)
    return render_template("cases/show.html", **_show_context(case))


@blueprint.route("/<public_id>/details", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def details(public_id: str) -> Page:
    """The sensitive fields: shown only here, and every view is recorded (R2)."""
    case = _case(public_id)
    form = NotesForm()
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.update_notes(case, form.notes.data or "", actor=current_user), form
        ):
            flash(_("Notes saved."), "success")
            return redirect(url_for("cases.details", public_id=case.public_id))
        values = services.reveal(case, current_user)
        return _error_page("cases/details.html", case=case, values=values, form=form)
    values = services.reveal(case, current_user)
    follow_ups = [(f, f.note) for f in case.follow_ups]
    if follow_ups:
        audit(
            "case.viewed",
            actor=current_user,
            obj_type="case",
            obj_id=case.public_id,
            fields_revealed=["follow_up_notes"],
        )
    form.notes.data = values.get("notes", "")
    return render_template(
        "cases/details.html", case=case, values=values, form=form, follow_ups=follow_ups
    )


# --- consent --------------------------------------------------------------------------------


def _pathway_service_choices(case: Case) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for option in engine.pathway_options(case):
        service = option.service
        seen.setdefault(
            service.public_id,
            f"{service.name} ({service.organisation.acronym}, {SECTOR_LABELS[service.sector]})",
        )
    return list(seen.items())


def _child_consent(case: Case, form: ChildConsentForm) -> engine.ChildConsent | None:
    """R5: the child-consent answers of the form, for a child survivor only."""
    if not case.is_child:
        return None
    return engine.ChildConsent(
        caregiver_consented=_yes(form.caregiver_consented.data),
        caregiver_relationship=CaregiverRelationship(form.caregiver_relationship.data)
        if form.caregiver_relationship.data
        else None,
        caregiver_name=form.caregiver_name.data,
        caregiver_is_alleged_perpetrator=_yes(form.caregiver_is_alleged_perpetrator.data),
        child_assented=_yes(form.child_assented.data),
        best_interest_note=form.best_interest_note.data,
    )


@blueprint.route("/<public_id>/consent", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def consent(public_id: str) -> Page:
    case = _case(public_id)
    form = ConsentForm()
    form.service.choices = [("", _("Not a referral")), *_pathway_service_choices(case)]
    if request.method == "POST":
        if form.validate():
            kind = ConsentKind(form.kind.data)
            service = service_by_public_id(form.service.data) if form.service.data else None
            child = _child_consent(case, form)
            if kind is ConsentKind.REFERRAL and service is None:
                form.service.errors.append(_("Choose the receiving service."))
            elif attempt(
                lambda: services.record_consent(
                    case,
                    kind,
                    actor=current_user,
                    survivor_is_child=case.is_child,
                    granted=form.granted.data == "yes",
                    receiving_organisation=service.organisation if service else None,
                    sector=service.sector if service else None,
                    shared_fields=form.shared_fields.data or [],
                    child=child,
                ),
                form,
                fields={"receiving_organisation": "service", "sector": "service"},
            ):
                flash(_("Consent recorded."), "success")
                return redirect(url_for("cases.show", public_id=case.public_id))
        return _error_page("cases/consent.html", case=case, form=form)
    return render_template("cases/consent.html", case=case, form=form)


@blueprint.route("/<public_id>/consents/<consent_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def withdraw_consent(public_id: str, consent_id: str) -> Page:
    """R3 on a page of its own: what the consent covers and which pending referrals go
    with it, then the reason and the tick box."""
    case = _case(public_id)
    record = services.consent_of(case, consent_id)
    form = WithdrawForm()
    if request.method == "GET" or not form.validate():
        return action_page(
            case,
            form,
            heading=_("Withdraw consent"),
            submit=_("Withdraw consent"),
            template="cases/withdraw_consent.html",
            danger=True,
            closed=None
            if record.active
            else _("This consent is no longer in force: there is nothing to withdraw."),
            consent=record,
            going=engine.referrals_withdrawn_with(
                record, engine.referrals_of(case.source_kind, case.public_id)
            ),
        )

    def withdraw() -> Sequence[Referral]:
        referrals = engine.withdraw_consent(
            record, actor=current_user, reason=form.reason.data or ""
        )
        transfers.consent_withdrawn(record, actor=current_user)  # R3: stops a transfer too
        return referrals

    done = attempt(withdraw)
    if not done:
        flash(_("The consent could not be withdrawn; reload and try again."), "error")
        return _error_page("cases/show.html", 409, **_show_context(case))
    withdrawn = done.value
    flash(
        ngettext(
            "Consent withdrawn. %(num)d pending referral withdrawn.",
            "Consent withdrawn. %(num)d pending referrals withdrawn.",
            len(withdrawn),
        ),
        "success",
    )
    return redirect(url_for("cases.show", public_id=case.public_id))


# --- incident -------------------------------------------------------------------------------


def _parse_time(value: str | None) -> time | None:
    if not value:
        return time(12, 0)
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None


@blueprint.route("/<public_id>/incident", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def incident(public_id: str) -> Page:
    """Record a new incident of the case (a returning survivor's next one too)."""
    case = _case(public_id, for_update=request.method == "POST")
    return _incident_form(case, None)


@blueprint.route("/<public_id>/incidents/<incident_id>", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def edit_incident(public_id: str, incident_id: str) -> Page:
    """Correct one incident of the case."""
    case = _case(public_id)
    existing = case.incident_by_public_id(incident_id)
    if existing is None:
        deny("incident not of this case", status=404, obj_type="incident", obj_id=incident_id)
    return _incident_form(case, existing)


def _incident_form(case: Case, existing: Incident | None) -> Page:
    form = IncidentForm()
    form.location_type.choices = blank_first(
        lists.choices(CountryList.LOCATION_TYPE, keep=existing.location_type if existing else None)
    )
    form.area.choices = area_choices(blank=_("Not asked"))
    # an occupation no longer offered stays available to the incident that has it
    offered = lists.choices(CountryList.OCCUPATION)
    labels = lists.labels(CountryList.OCCUPATION)
    kept = {p.occupation for p in existing.perpetrators if p.occupation} if existing else set()
    extra = sorted(code for code in kept if code is not None and code not in dict(offered))
    occupations = [
        ("", str(_("Not given"))),
        *offered,
        *[(code, labels[code]) for code in extra if code in labels],
    ]
    for entry in form.perpetrators:
        entry.form.occupation.choices = occupations
    context = {"case": case, "form": form, "incident": existing}
    if request.method == "GET" and existing is not None:
        for question in QUESTION_LABELS:
            getattr(form, question).data = "yes" if getattr(existing, question) else "no"
        local = wall_clock(existing.incident_at)
        form.incident_date.data = local.date()
        form.incident_time.data = local.strftime("%H:%M")
        form.reported_on.data = existing.reported_on
        form.incident_time_approximate.data = existing.incident_time_approximate
        form.time_of_day.data = existing.time_of_day.value
        form.location_type.data = existing.location_type
        form.perpetrator_count.process_data(existing.perpetrator_count)
        sex = existing.perpetrator_sex
        form.perpetrator_sex.data = sex.value if sex else ""
        form.perpetrator_age_group.data = existing.perpetrator_age_group.value
        form.perpetrator_relationship.data = existing.perpetrator_relationship.value
        form.goods_or_money_exchanged.data = existing.goods_or_money_exchanged
        form.abduction.data = existing.abduction
        form.previously_reported.data = existing.previously_reported.value
        _fill_dictionary(form, existing)
    if request.method == "POST":
        if form.validate():
            at = _parse_time(form.incident_time.data)
            if at is None:
                form.incident_time.errors.append(_("Write the time as HH:MM, e.g. 21:30."))
            elif form.incident_date.data is not None and form.reported_on.data is not None:
                data = services.IncidentData(
                    answers={q: getattr(form, q).data == "yes" for q in QUESTION_LABELS},
                    # Typed in the organisation's time zone, as every page shows times.
                    incident_at=from_wall_clock(datetime.combine(form.incident_date.data, at)),
                    reported_on=form.reported_on.data,
                    time_of_day=TimeOfDay(form.time_of_day.data),
                    location_type=form.location_type.data or "",
                    perpetrator_count=form.perpetrator_count.data or 1,
                    perpetrator_sex=Sex(form.perpetrator_sex.data)
                    if form.perpetrator_sex.data
                    else None,
                    perpetrator_age_group=PerpetratorAgeGroup(form.perpetrator_age_group.data),
                    perpetrator_relationship=PerpetratorRelationship(
                        form.perpetrator_relationship.data
                    ),
                    incident_time_approximate=bool(form.incident_time_approximate.data),
                    goods_or_money_exchanged=bool(form.goods_or_money_exchanged.data),
                    abduction=bool(form.abduction.data),
                    previously_reported=PreviouslyReported(form.previously_reported.data),
                    **_incident_dictionary(form),
                )
                if attempt(
                    lambda: services.record_incident(
                        case, data, actor=current_user, incident=existing
                    ),
                    form,
                ):
                    flash(_("Incident recorded."), "success")
                    return redirect(url_for("cases.show", public_id=case.public_id) + "#incidents")
        return _error_page("cases/incident.html", **context)
    return render_template("cases/incident.html", **context)


def _value(member: Any) -> str:
    return member.value if member is not None else ""


def _fill_dictionary(form: IncidentForm, existing: Incident) -> None:
    form.survivor_age.process_data(existing.survivor_age)
    form.area.data = existing.area.public_id if existing.area else ""
    form.displacement_stage.data = _value(existing.displacement_stage)
    form.harmful_practice.data = _value(existing.harmful_practice)
    form.abduction_type.data = _value(existing.abduction_type)
    previous = existing.previous_incidents
    form.previous_incidents.data = "" if previous is None else ("yes" if previous else "no")
    form.wants_legal_action.data = _value(existing.wants_legal_action)
    for entry, perpetrator in zip(form.perpetrators, existing.perpetrators, strict=False):
        sub = entry.form
        sub.primary.data = perpetrator.primary
        sub.sex.data = perpetrator.sex.value
        sub.age_band.data = perpetrator.age_band.value
        sub.relation.data = _value(perpetrator.relation)
        sub.occupation.data = perpetrator.occupation or ""
        known = perpetrator.previous_incident
        sub.previous_incident.data = "" if known is None else ("yes" if known else "no")
    answers = existing.answers_by_sector()
    for key in ANSWER_SECTORS:
        getattr(form, f"answer_{key}").data = _value(answers.get(key))


def _incident_dictionary(form: IncidentForm) -> dict[str, Any]:
    """The GBVIMS answers of the incident form, for :class:`services.IncidentData`."""
    perpetrators = tuple(
        PerpetratorData(
            primary=bool(sub.primary.data),
            sex=PerpetratorSex(sub.sex.data) if sub.sex.data else PerpetratorSex.UNKNOWN,
            age_band=AgeBand(sub.age_band.data) if sub.age_band.data else AgeBand.UNKNOWN,
            relation=_enum_or_none(GbvimsRelationship, sub.relation.data),
            occupation=sub.occupation.data or None,
            previous_incident=_yes(sub.previous_incident.data),
        )
        for sub in (entry.form for entry in form.perpetrators)
        if sub.given()
    )
    answers = {
        key: ReferralAnswer(getattr(form, f"answer_{key}").data)
        for key in ANSWER_SECTORS
        if getattr(form, f"answer_{key}").data
    }
    return {
        "survivor_age": form.survivor_age.data,
        "area": area_by_public_id(form.area.data) if form.area.data else None,
        "displacement_stage": _enum_or_none(DisplacementStage, form.displacement_stage.data),
        "harmful_practice": _enum_or_none(HarmfulPractice, form.harmful_practice.data),
        "abduction_type": _enum_or_none(AbductionType, form.abduction_type.data),
        "previous_incidents": _yes(form.previous_incidents.data),
        "wants_legal_action": _enum_or_none(LegalAction, form.wants_legal_action.data),
        "perpetrators": perpetrators,
        "sector_answers": answers,
    }


# --- stages, plan, follow-up, closure ----------------------------------------------------------


@blueprint.route("/<public_id>/stage", methods=["POST"])
@requires(Permission.HANDLE_CASES)
def stage(public_id: str) -> Page:
    case = _case(public_id, for_update=True)
    form = StageForm()
    if not form.validate():
        abort(400)
    moved = attempt(
        lambda: services.move_stage(case, CaseStage(form.stage.data), actor=current_user)
    )
    if not moved:
        flash(_("The case cannot move to that step now."), "error")
        return _error_page("cases/show.html", moved.status, **_show_context(_case(public_id)))
    return redirect(url_for("cases.show", public_id=case.public_id))


@blueprint.route("/<public_id>/actions", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def add_action(public_id: str) -> Page:
    """A step of the case action plan, on a page of its own (the case page links to it)."""
    case = _case(public_id)
    form = ActionForm(prefix="action")
    if (
        request.method == "POST"
        and form.validate()
        and attempt(
            lambda: services.add_action_item(
                case,
                Need(form.need.data),
                form.goal.data or "",
                form.due_on.data,
                actor=current_user,
            ),
            form,
        )
    ):
        return redirect(url_for("cases.show", public_id=case.public_id) + "#plan")
    return action_page(
        case,
        form,
        heading=_("Add an action"),
        submit=_("Add"),
        closed=None if case.is_open else _closed_to_changes(),
    )


@blueprint.route("/<public_id>/actions/<item_id>", methods=["POST"])
@requires(Permission.HANDLE_CASES)
def action_status(public_id: str, item_id: str) -> Page:
    case = _case(public_id)
    item = services.action_item_of(case, item_id)
    form = ActionStatusForm()
    form.status.choices = [(s.value, s.value) for s in ActionStatus]
    if not form.validate():
        abort(400)
    if not attempt(
        lambda: services.set_action_status(item, ActionStatus(form.status.data), actor=current_user)
    ):
        return _error_page("cases/show.html", **_show_context(_case(public_id)))
    return redirect(url_for("cases.show", public_id=case.public_id) + "#plan")


@blueprint.route("/<public_id>/follow-ups", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def add_follow_up(public_id: str) -> Page:
    """A follow-up note (encrypted, shown on the sensitive details page), on a page of its own."""
    case = _case(public_id)
    form = FollowUpForm(prefix="followup")
    if (
        request.method == "POST"
        and form.validate()
        and attempt(
            lambda: services.add_follow_up(case, form.note.data or "", actor=current_user), form
        )
    ):
        flash(_("Follow-up note saved."), "success")
        return redirect(url_for("cases.show", public_id=case.public_id))
    return action_page(
        case,
        form,
        heading=_("Write a follow-up note"),
        submit=_("Save note"),
        closed=None if case.is_open else _closed_to_changes(),
    )


@blueprint.route("/<public_id>/closure", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def request_closure(public_id: str) -> Page:
    case = _case(public_id, for_update=request.method == "POST")
    form = ClosureForm(prefix="closure")
    if request.method == "POST" and form.validate():
        requested = attempt(
            lambda: services.request_closure(
                case,
                ClosureReason(form.reason.data) if form.reason.data else None,
                form.note.data or "",
                actor=current_user,
            ),
            form,
        )
        if requested:
            flash(_("Closure requested; a supervisor approves it."), "success")
            return redirect(url_for("cases.show", public_id=case.public_id))
        if requested.status == 409:
            form.reason.errors.append(_("The case cannot be closed from this step."))
    return action_page(
        case,
        form,
        heading=_("Request closure"),
        submit=_("Request closure"),
        danger=True,
        closed=None if case.is_open else _("The case cannot be closed from this step."),
    )


@blueprint.route("/<public_id>/legal-hold", methods=["GET", "POST"])
@requires(Permission.HOLD_CASES)
def legal_hold(public_id: str) -> Page:
    """R26: a supervisor of the case's organisation places or releases a legal hold."""
    case = _case(public_id, for_update=request.method == "POST")
    authorize(
        retention.may_hold(current_user, case),
        reason="legal hold on another organisation's case",
        obj_type="case",
        obj_id=public_id,
    )
    form = LegalHoldForm(prefix="hold")
    done = apply_hold_form(form, case, current_user) if request.method == "POST" else None
    if done is not None:
        flash(
            _("Legal hold placed: this case will not be purged.")
            if done == "place"
            else _("Legal hold released."),
            "success",
        )
        return redirect(url_for("cases.show", public_id=case.public_id))
    hold = retention.active_hold(db.session(), "case", case.public_id)
    if request.method == "GET":
        form.action.data = "release" if hold else "place"
    releasing = form.action.data == "release"
    return action_page(
        case,
        form,
        heading=_("Release the legal hold") if releasing else _("Place a legal hold"),
        submit=_("Release the hold") if releasing else _("Place the hold"),
        skip=() if releasing else ("confirm",),  # placing a hold can itself be undone
        template="cases/legal_hold.html",
        hold=hold,
    )


@blueprint.route("/<public_id>/closure/decision", methods=["POST"])
@requires(Permission.APPROVE_CLOSURE)
def decide_closure(public_id: str) -> Page:
    case = _case(public_id, for_update=True)
    form = DecisionForm()
    if form.decision.data not in ("approve", "refuse"):
        abort(400)
    if not form.validate():
        return _form_error_page(_case(public_id), decision_form=form)
    approve = form.decision.data == "approve"
    decided = attempt(
        lambda: services.decide_closure(
            case, approve=approve, actor=current_user, reason=form.reason.data or ""
        ),
        form,
    )
    if not decided:
        if decided.status == 400:
            return _form_error_page(_case(public_id), decision_form=form)
        flash(_("This case is not awaiting closure approval."), "error")
        return _error_page("cases/show.html", 409, **_show_context(_case(public_id)))
    flash(
        _("Case closed.") if form.decision.data == "approve" else _("Closure refused."), "success"
    )
    return redirect(url_for("cases.show", public_id=case.public_id))


@blueprint.route("/<public_id>/reopen", methods=["POST"])
@requires(Permission.APPROVE_CLOSURE)
def reopen(public_id: str) -> Page:
    """A supervisor reopens a closed case, with a reason."""
    case = _case(public_id, for_update=True)
    form = ReopenForm(prefix="reopen")
    if form.validate():
        reopened = attempt(
            lambda: services.reopen(case, form.reason.data or "", actor=current_user), form
        )
        if reopened:
            flash(_("Case reopened: it is back at the follow-up step."), "success")
            return redirect(url_for("cases.show", public_id=case.public_id))
        if reopened.status == 409:
            flash(_("This case is not closed."), "error")
            return _error_page("cases/show.html", 409, **_show_context(_case(public_id)))
    return _form_error_page(_case(public_id), reopen_form=form)


@blueprint.route("/<public_id>/assign", methods=["GET", "POST"])
@requires(Permission.SUPERVISE_CASES)
def assign(public_id: str) -> Page:
    """A supervisor adds a caseworker of the organisation to the case (audited), on a page
    of its own: the case page links to it."""
    case = _case(public_id, for_update=request.method == "POST")
    form = AssignForm()
    if _chosen_caseworker(
        case,
        form,
        case.assigned_user_ids(),
        lambda user: services.assign(case, user, actor=current_user),
    ):
        flash(_("Caseworker assigned."), "success")
        return redirect(url_for("cases.show", public_id=case.public_id))
    return action_page(
        case,
        form,
        heading=_("Assign a caseworker"),
        submit=_("Assign"),
        template="cases/assign.html",
        closed=None
        if case.is_open and len(form.user.choices) > 1
        else _("No other caseworker of the organisation can be assigned to the case."),
    )


# --- referrals from the case ------------------------------------------------------------------


@blueprint.route("/<public_id>/refer", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def refer(public_id: str) -> Page:
    case = _case(public_id)
    form = ReferForm()
    incident_choices = [
        (
            i.public_id,
            _(
                "Incident %(n)d: %(type)s, %(day)s",
                n=i.number,
                type=INCIDENT_TYPE_LABELS[i.incident_type],
                day=day_text(i.incident_at),
            ),
        )
        for i in reversed(case.incidents)
    ]
    if request.method == "GET":
        wanted = request.args.get("incident")
        latest = case.latest_incident
        if wanted is not None and (wanted == "" or case.incident_by_public_id(wanted)):
            form.incident.data = wanted
        else:
            form.incident.data = latest.public_id if latest else ""
    elif "incident" not in request.form:
        # a form that names none (an older page) refers about the latest incident
        latest = case.latest_incident
        form.incident.data = latest.public_id if latest else ""
    elif form.incident.data and case.incident_by_public_id(form.incident.data) is None:
        abort(400)
    chosen = case.incident_by_public_id(form.incident.data or "")
    source = case.regarding(chosen)
    options = engine.pathway_options(source)
    consents = engine.usable_referral_consents(case)
    form.service.choices = list(
        dict.fromkeys((o.service.public_id, o.service.name) for o in options)
    )
    form.consent.choices = [("", _("No consent recorded"))] + [
        (
            c.public_id,
            f"{c.receiving_organisation.acronym if c.receiving_organisation else ''} · "
            f"{SECTOR_LABELS[c.sector] if c.sector else ''}",
        )
        for c in consents
    ]
    can_override = has_permission(current_user, Permission.OVERRIDE_CONSENT)
    context: dict[str, Any] = {
        "case": case,
        "form": form,
        "options": options,
        "can_override": can_override,
        "now": utcnow(),
        "incident_choices": incident_choices,
        "chosen_incident": chosen,
    }
    if request.method == "POST":
        if form.validate():
            service = service_by_public_id(form.service.data or "")
            consent_record = next((c for c in consents if c.public_id == form.consent.data), None)
            if consent_record is None and service is not None:
                # consent is entered once: the consent covering this service applies
                consent_record = engine.matching_consent(consents, service)
            if service is None:
                form.service.errors.append(_("Choose a service of the pathway."))
            else:
                sent = attempt(
                    lambda: services.refer(
                        source,
                        engine.ReferralRequest(
                            service=service,
                            priority=Priority(form.priority.data),
                            needs=[Need(n) for n in form.needs.data or []],
                            note=form.note.data or "",
                            shared_fields=form.shared_fields.data or [],
                            off_pathway_reason=form.off_pathway_reason.data or "",
                            priority_reason=form.priority_reason.data or "",
                        ),
                        consent=consent_record,
                        actor=current_user,
                        override_reason=form.override_reason.data if can_override else None,
                    ),
                    form,
                    fields={"source": "service"},
                    default="service",
                )
                if sent:
                    referral = sent.value
                    after_commit(lambda: notify.new_referral(referral))
                    flash(
                        _(
                            "Referral %(ref)s sent to %(org)s.",
                            ref=referral.reference,
                            org=service.organisation.acronym,
                        ),
                        "success",
                    )
                    return redirect(url_for("cases.show", public_id=case.public_id))
        return _error_page("cases/refer.html", **context)
    if request.method == "GET":
        _preselect(form, options, consents)
        picked = [o for o in options if o.service.public_id == form.service.data] or options
        if any(o.urgent for o in picked):
            # R8: a clinical window is open; a lower priority needs a reason (the engine checks).
            form.priority.data = Priority.EMERGENCY.value
    return render_template("cases/refer.html", **context)


def _preselect(form: ReferForm, options: list[PathwayOption], consents: list[Consent]) -> None:
    """Consent is entered once: the refer page starts from the service or consent named in
    the address (or the only referral consent there is) and preselects the matching
    consent, the information it allows to share and the need of the service's sector."""
    services_by_id = {o.service.public_id: o.service for o in options}
    service = services_by_id.get(request.args.get("service", ""))
    wanted = request.args.get("consent", "")
    consent = next((c for c in consents if c.public_id == wanted), None)
    if service is None and consent is None and len(consents) == 1:
        consent = consents[0]
    if service is None and consent is not None:
        service = next(
            (s for s in services_by_id.values() if engine.matching_consent([consent], s)), None
        )
    if consent is None and service is not None:
        consent = engine.matching_consent(consents, service)
    if service is not None:
        form.service.data = service.public_id
        form.needs.data = [service.sector.value]
    if consent is not None:
        form.consent.data = consent.public_id
        form.shared_fields.data = consent.shared_field_list


def _case_referral(case: Case, referral_id: str) -> Referral | None:
    """One of the case's own referrals, by public id."""
    return next(
        (
            r
            for r in engine.referrals_of(case.source_kind, case.public_id)
            if r.public_id == referral_id
        ),
        None,
    )


@blueprint.route("/<public_id>/referrals/<referral_id>/slip")
@requires(Permission.HANDLE_CASES)
def referral_slip(public_id: str, referral_id: str) -> Page:
    """The survivor's slip for a referral: where to go, when, what to bring, in the
    language the survivor reads. It carries nothing of the case (no code, no reference,
    no name), so a lost slip tells nobody anything."""
    case = _case(public_id)
    referral = _case_referral(case, referral_id)
    if referral is None:
        abort(404)
    languages: list[str] = current_app.config["LANGUAGES"]
    language = request.args.get("lang", "")
    if language not in languages:
        language = str(get_locale() or languages[0])
    with force_locale(language):
        return render_template(
            "cases/slip.html",
            case=case,
            referral=referral,
            service=referral.service,
            language=language,
            language_names=LANGUAGE_NAMES,
            cost_labels=COST_LABELS,
        )


@blueprint.route("/<public_id>/referrals/<referral_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def withdraw_referral(public_id: str, referral_id: str) -> Page:
    case = _case(public_id)
    referral = _case_referral(case, referral_id)
    if referral is None:
        deny("referral not of this case", status=404, obj_type="referral", obj_id=referral_id)
    form = WithdrawReferralForm()
    if request.method == "GET" or not form.validate():
        return action_page(
            case,
            form,
            heading=_("Withdraw referral %(reference)s", reference=referral.reference),
            submit=_("Withdraw referral"),
            template="cases/withdraw_referral.html",
            danger=True,
            closed=None
            if referral.state in PENDING_STATES
            else _("This referral is no longer pending: it cannot be withdrawn."),
            referral=referral,
        )
    withdrawn = attempt(
        lambda: engine.transition(
            referral_id,
            ReferralState.WITHDRAWN,
            actor=current_user,
            reason=form.reason.data,
            as_sender=True,
        )
    )
    if not withdrawn:
        flash(_("The referral can no longer be withdrawn."), "error")
        return _error_page("cases/show.html", 409, **_show_context(_case(public_id)))
    flash(_("Referral withdrawn."), "success")
    return redirect(url_for("cases.show", public_id=case.public_id))


# --- moving a case: reassignment, transfer to another organisation ----------------------------


@blueprint.route("/<public_id>/reassign", methods=["GET", "POST"])
@requires(Permission.SUPERVISE_CASES)
def reassign(public_id: str) -> Page:
    """A supervisor hands the case to another caseworker of the organisation (audited)."""
    case = _case(public_id, for_update=request.method == "POST")
    form = ReassignForm(prefix="reassign")
    user = _chosen_caseworker(
        case,
        form,
        {case.owner_id},
        lambda chosen: transfers.reassign(case, chosen, actor=current_user),
    )
    if user is not None:
        flash(_("Case reassigned to %(name)s.", name=user.full_name), "success")
        return redirect(url_for("cases.show", public_id=case.public_id))
    return action_page(
        case,
        form,
        heading=_("Reassign the case"),
        submit=_("Reassign"),
        template="cases/reassign.html",
        closed=None
        if case.is_open and len(form.user.choices) > 1
        else _("No other caseworker of the organisation can take the case."),
    )


def _transfer_choices(case: Case) -> list[tuple[str, str]]:
    return [
        (o.public_id, f"{o.name} ({o.acronym})") for o in transfers.receiving_organisations(case)
    ]


@blueprint.route("/<public_id>/transfer", methods=["GET", "POST"])
@requires(Permission.HANDLE_CASES)
def transfer(public_id: str) -> Page:
    """Propose the case to another organisation, with the survivor's consent."""
    case = _case(public_id, for_update=request.method == "POST")
    form = TransferForm()
    form.organisation.choices = [("", _("Choose")), *_transfer_choices(case)]
    context = {"case": case, "form": form, "pending": transfers.pending_transfer(case)}
    if request.method == "POST":
        if form.validate():
            receiver = find(Organisation, form.organisation.data)
            proposed = attempt(
                lambda: transfers.propose_transfer(
                    case,
                    receiver,
                    consented=form.consented.data == "yes",
                    note=form.note.data or "",
                    actor=current_user,
                    child=_child_consent(case, form),
                ),
                form,
                fields={"receiving_organisation": "organisation"},
                default="organisation",
            )
            if proposed:
                flash(
                    _(
                        "Transfer proposed to %(org)s; its supervisor accepts or declines it.",
                        org=proposed.value.to_organisation.acronym,
                    ),
                    "success",
                )
                return redirect(url_for("cases.show", public_id=case.public_id))
        return _error_page("cases/transfer.html", **context)
    return render_template("cases/transfer.html", **context)


@blueprint.route("/<public_id>/transfers/<transfer_id>/withdraw", methods=["POST"])
@requires(Permission.HANDLE_CASES)
def withdraw_transfer(public_id: str, transfer_id: str) -> Page:
    case = _case(public_id)
    record = transfers.load_transfer(transfer_id, for_update=True)
    if record is None or record.case_id != case.id:
        deny("transfer not of this case", status=404, obj_type="case_transfer", obj_id=transfer_id)
    form = WithdrawTransferForm(prefix="transfer")
    if form.validate():
        done = attempt(
            lambda: transfers.withdraw_transfer(record, form.reason.data or "", actor=current_user),
            form,
        )
        if done:
            flash(_("Transfer withdrawn."), "success")
            return redirect(url_for("cases.show", public_id=case.public_id))
        if done.status == 409:
            form.reason.errors.append(_("The transfer was already answered."))
    return _form_error_page(_case(public_id), withdraw_transfer_form=form)


@blueprint.route("/transfers")
@requires(Permission.SUPERVISE_CASES)
def transfers_index() -> Page:
    """Transfers proposed to the supervisor's organisation, waiting for an answer."""
    return render_template(
        "cases/transfers.html",
        rows=transfers.incoming(current_user.organisation_id),
        now=utcnow(),
    )


def _incoming_transfer(transfer_id: str, *, for_update: bool = False) -> CaseTransfer:
    """Load -> authorise: only a supervisor of the receiving organisation sees a transfer
    request (and nothing of the case until it accepts)."""
    record = transfers.load_transfer(transfer_id, for_update=for_update)
    if record is None or not transfers.may_answer(current_user, record):
        deny(
            "transfer not proposed to this organisation",
            status=404,
            obj_type="case_transfer",
            obj_id=transfer_id,
        )
    return record


def _transfer_request_page(
    record: CaseTransfer,
    accept_form: AcceptTransferForm | None = None,
    decline_form: DeclineTransferForm | None = None,
    status: int = 200,
) -> Page:
    accept = accept_form or AcceptTransferForm(formdata=None, prefix="accept")
    accept.owner.choices = blank_first(_owner_choices(record))
    context = {
        "transfer": record,
        "case": record.case,
        "note": transfers.reveal_note(record, current_user),
        "accept_form": accept,
        "decline_form": decline_form or DeclineTransferForm(formdata=None, prefix="decline"),
        "can_answer": record.state is TransferState.PROPOSED,
    }
    if status != 200:
        return _error_page("cases/transfer_request.html", status, **context)
    return render_template("cases/transfer_request.html", **context)


def _owner_choices(record: CaseTransfer) -> list[tuple[str, str]]:
    return [(u.public_id, u.full_name) for u in services.caseworkers_of(record.to_organisation_id)]


@blueprint.route("/transfers/<transfer_id>")
@requires(Permission.SUPERVISE_CASES)
def transfer_request(transfer_id: str) -> Page:
    return _transfer_request_page(_incoming_transfer(transfer_id))


@blueprint.route("/transfers/<transfer_id>/accept", methods=["POST"])
@requires(Permission.SUPERVISE_CASES)
def accept_transfer(transfer_id: str) -> Page:
    record = _incoming_transfer(transfer_id, for_update=True)
    form = AcceptTransferForm(prefix="accept")
    form.owner.choices = blank_first(_owner_choices(record))
    if form.validate():
        owner = find(User, form.owner.data)
        done = attempt(lambda: transfers.accept_transfer(record, owner, actor=current_user), form)
        if done:
            flash(
                _(
                    "Transfer accepted: case %(code)s is now your organisation's.",
                    code=record.case.survivor_code,
                ),
                "success",
            )
            return redirect(url_for("cases.show", public_id=record.case.public_id))
        if done.status == 409:
            form.owner.errors.append(
                _(
                    "The transfer can no longer be accepted: it was answered or withdrawn, the "
                    "survivor withdrew the consent, or the case was closed."
                )
            )
            return _transfer_request_page(
                _incoming_transfer(transfer_id), accept_form=form, status=409
            )
    return _transfer_request_page(_incoming_transfer(transfer_id), accept_form=form, status=400)


@blueprint.route("/transfers/<transfer_id>/decline", methods=["POST"])
@requires(Permission.SUPERVISE_CASES)
def decline_transfer(transfer_id: str) -> Page:
    record = _incoming_transfer(transfer_id, for_update=True)
    form = DeclineTransferForm(prefix="decline")
    if form.validate():
        done = attempt(
            lambda: transfers.decline_transfer(record, form.reason.data or "", actor=current_user),
            form,
        )
        if done:
            flash(_("Transfer declined."), "success")
            return redirect(url_for("cases.transfers_index"))
        if done.status == 409:
            form.reason.errors.append(_("The transfer was already answered or withdrawn."))
            return _transfer_request_page(
                _incoming_transfer(transfer_id), decline_form=form, status=409
            )
    return _transfer_request_page(_incoming_transfer(transfer_id), decline_form=form, status=400)
