"""GBV case rules (R1, R2, R5-R9) as plain functions over the session.

Views load a case, call :func:`authorize_case` (load -> authorise -> act) and then one
of these functions; each state change is one transaction committed by the caller.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.exc import StaleDataError

from referral.admin import lists
from referral.admin.lists import CountryList
from referral.audit import record as audit
from referral.clinical import ClinicalWindow, clinical_windows
from referral.clock import utcnow
from referral.db import Organisation, User, paging
from referral.db.paging import Keyset, Page
from referral.directory.models import AgeGroup, Area, Sector, Sex
from referral.extensions import db
from referral.lifecycle.models import LegalHold
from referral.messages import lazy_gettext as _l
from referral.referrals import services as engine
from referral.referrals.models import (
    Consent,
    ConsentKind,
    Need,
    Referral,
    ReferralState,
    SourceKind,
    age_group_of,
)
from referral.security.policy import Permission, has_permission
from referral.security.records import load_or_404
from referral.workflow import ConflictError, RuleError

from . import dictionary
from .dictionary import PerpetratorData
from .models import (
    CASE_WORKFLOW,
    OPEN_STAGES,
    AbductionType,
    ActionItem,
    ActionStatus,
    Case,
    CaseAssignment,
    CaseIncident,
    CaseStage,
    CaseTransfer,
    ClosureReason,
    DisabilityType,
    DisplacementStage,
    DisplacementStatus,
    FollowUp,
    HarmfulPractice,
    Incident,
    IncidentType,
    LegalAction,
    MaritalStatus,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PreviouslyReported,
    ReferralAnswer,
    ReportingDelay,
    RiskLevel,
    SeparationStatus,
    TimeOfDay,
    latest_of,
    open_windows_of,
)

MAX_AGE = 120
MAX_TEXT = 10_000
SENSITIVE_FIELDS = ("name", "contact", "safe_contact", "location_detail", "narrative", "notes")


# --- access ----------------------------------------------------------------------------


def open_to(user: User) -> ColumnElement[bool]:
    """Who opens a case, as one SQL condition for the case list and every case page.

    Caseworker: own or assigned cases; supervisor: every case of the own organisation.
    Nobody else (admin, auditor, coordinators, PSEA, receivers) opens a case.
    """
    if not has_permission(user, Permission.HANDLE_CASES):
        return false()
    own_organisation = Case.organisation_id == user.organisation_id
    if has_permission(user, Permission.SUPERVISE_CASES):
        return own_organisation
    assigned = select(CaseAssignment.case_id).where(CaseAssignment.user_id == user.id)
    return and_(own_organisation, or_(Case.owner_id == user.id, Case.id.in_(assigned)))


def can_open(user: User, case: Case) -> bool:
    """The same rule as :func:`open_to`, asked of a loaded case."""
    found = db.session.scalar(select(Case.id).where(Case.id == case.id, open_to(user)))
    return found is not None


# The case page shows every incident with its perpetrators: read with the case (one
# statement; a case holds a few incidents of a few perpetrators each), so the page sends
# as many statements for a survivor who came back three times as for one incident.
# Of the caseworker in charge and the assigned caseworkers it shows the names: their
# password hashes, second-factor secrets and organisation (the case's own) stay out of
# the statement. Assignments are joined too: a selectin load costs a second statement
# and, measured, more Python time than the few extra rows of the join.
CASE_PAGE_OPTIONS = (
    joinedload(Case.incidents).joinedload(Incident.perpetrators),
    joinedload(Case.owner)
    .load_only(User.public_id, User.full_name, User.organisation_id)
    .lazyload(User.organisation),
    joinedload(Case.assignments)
    .joinedload(CaseAssignment.user)
    .load_only(User.full_name)
    .lazyload(User.organisation),
    # not their notes and reasons (encrypted, not shown there)
    joinedload(Case.transfers)
    .load_only(CaseTransfer.public_id, CaseTransfer.state, CaseTransfer.proposed_at)
    .joinedload(CaseTransfer.to_organisation)
    .load_only(Organisation.acronym),
    joinedload(Case.holds_in_force).load_only(LegalHold.placed_at),
)


def load_case(
    public_id: str, user: User, *, for_update: bool = False, for_page: bool = False
) -> Case:
    """Load -> authorise: someone else's (or a missing) case is a 404 either way.
    ``for_page``: with what the case page shows of it (CASE_PAGE_OPTIONS)."""
    return load_or_404(
        Case,
        public_id,
        may=open_to(user),
        obj_type="case",
        for_update=for_update,
        options=CASE_PAGE_OPTIONS if for_page else (),
    )


def consent_of(case: Case, public_id: str) -> Consent:
    """A consent recorded for this case, or a 404."""
    return load_or_404(
        Consent,
        public_id,
        may=and_(
            Consent.source_kind == case.source_kind, Consent.source_public_id == case.public_id
        ),
        obj_type="consent",
    )


def action_item_of(case: Case, public_id: str) -> ActionItem:
    """An action item of this case's plan, or a 404."""
    return load_or_404(
        ActionItem, public_id, may=ActionItem.case_id == case.id, obj_type="action_item"
    )


class Caseworker(NamedTuple):
    """Of a user who may be put in charge of a case: what the choice shows and what the
    policy reads (not the whole account, with its password hash and second factor)."""

    id: int
    public_id: str
    full_name: str
    role: str
    organisation_id: int


def caseworkers_of(organisation_id: int) -> list[Caseworker]:
    """The organisation's active users who handle cases, by name (to assign one)."""
    rows = db.session.execute(
        select(User.id, User.public_id, User.full_name, User.role, User.organisation_id)
        .where(User.organisation_id == organisation_id, User.active)
        .order_by(User.full_name)
    )
    users = [Caseworker(*row) for row in rows]
    return [u for u in users if has_permission(u, Permission.HANDLE_CASES)]


def reveal(case: Case, actor: User, fields: Iterable[str] = SENSITIVE_FIELDS) -> dict[str, str]:
    """R2: decrypt the named fields for display and record which ones were revealed."""
    wanted = [f for f in fields if f in SENSITIVE_FIELDS]
    values = {f: getattr(case, f) for f in wanted}
    shown = [f for f, v in values.items() if v]
    if shown:
        audit(
            "case.viewed",
            actor=actor,
            obj_type="case",
            obj_id=case.public_id,
            fields_revealed=shown,
        )
    return {f: v for f, v in values.items() if v}


# --- intake (R1, R6) ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseDetails:
    """What intake records about the survivor, and what can be corrected later."""

    sex: Sex
    risk_level: RiskLevel
    area: Area
    age: int | None = None
    age_group: AgeGroup | None = None
    has_disability: bool = False
    displacement_status: DisplacementStatus = DisplacementStatus.UNKNOWN
    unaccompanied_or_separated: bool = False
    # GBVIMS: the precise answers (they decide the two yes/no above when given)
    disability_type: DisabilityType | None = None
    separation_status: SeparationStatus | None = None
    ethnicity: str | None = None  # a code of the country-adapted list
    country_of_origin: str | None = None  # ISO 3166 alpha-2
    marital_status: MaritalStatus | None = None
    referred_from: str | None = None  # a code of the country-adapted list
    name: str = ""
    contact: str = ""
    safe_contact: str = ""
    location_detail: str = ""
    narrative: str = ""


# The sensitive (encrypted) fields intake records; case notes are written on their own.
INTAKE_SENSITIVE_FIELDS = ("name", "contact", "safe_contact", "location_detail", "narrative")


@dataclass(frozen=True, kw_only=True)
class Intake(CaseDetails):
    mandatory_reporting_explained: bool
    # The accepted referral the case is opened for (R21: from victim assistance).
    from_referral: Referral | None = None


def _age_group(details: CaseDetails) -> AgeGroup:
    if details.age is not None:
        if not 0 <= details.age <= MAX_AGE:
            raise RuleError("age", _l("Age must be between 0 and %(max)d.", max=MAX_AGE))
        derived = age_group_of(details.age)
        if details.age_group not in (None, derived):
            raise RuleError("age_group", _l("The age group does not match the age."))
        return derived
    if details.age_group is None:
        raise RuleError("age_group", _l("Give the age, or the age group when it is unknown."))
    return details.age_group


def _check_dictionary(details: CaseDetails, case: Case | None) -> None:
    """The GBVIMS answers: country lists by code (a case keeps a code no longer offered)."""
    lists.check_code(
        CountryList.ETHNICITY,
        details.ethnicity,
        "ethnicity",
        keep=case.ethnicity if case else None,
    )
    lists.check_code(
        CountryList.REFERRED_FROM,
        details.referred_from,
        "referred_from",
        keep=case.referred_by if case else None,
    )
    dictionary.check_country(details.country_of_origin)


def _dictionary_values(details: CaseDetails, case: Case | None = None) -> dict[str, object]:
    """The GBVIMS columns of the case; the yes/no summaries follow the precise answers."""
    referred = details.referred_from or (case.referred_by if case else "self_referral")
    return {
        "has_disability": dictionary.disability_yes(
            details.disability_type, details.has_disability
        ),
        "unaccompanied_or_separated": dictionary.separated_yes(
            details.separation_status, details.unaccompanied_or_separated
        ),
        "disability_type": details.disability_type,
        "separation_status": details.separation_status,
        "ethnicity": details.ethnicity or None,
        "country_of_origin": details.country_of_origin or None,
        "marital_status": details.marital_status,
        "referred_by": referred,
    }


def _check_text(field: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        raise RuleError(field, _l("This text is too long."))
    return value.strip()


def open_case(intake: Intake, *, actor: User) -> Case:
    """R6 first, then R1: a case opens under a random survivor code, no name needed."""
    if not has_permission(actor, Permission.HANDLE_CASES):
        raise RuleError("mandatory_reporting_explained", _l("You may not open cases."))
    if not intake.mandatory_reporting_explained:
        raise RuleError(
            "mandatory_reporting_explained",
            _l("Confirm first that the survivor was told about any mandatory-reporting duty."),
        )
    age_group = _age_group(intake)
    _check_dictionary(intake, None)
    origin = intake.from_referral
    if origin is not None:
        check_origin_referral(origin, actor)
    now = utcnow()
    case = Case(
        survivor_code=engine.unique_code("GBV", Case.survivor_code),
        organisation_id=actor.organisation_id,
        owner_id=actor.id,
        stage=CaseStage.ENGAGEMENT,
        risk_level=intake.risk_level,
        opened_at=now,
        age=intake.age,
        age_group=age_group,
        sex=intake.sex,
        area_id=intake.area.id,
        displacement_status=intake.displacement_status,
        **_dictionary_values(intake),
        mandatory_reporting_explained_at=now,
        mandatory_reporting_explained_by_id=actor.id,
        origin_referral_id=origin.id if origin is not None else None,
        sea_by_aid_personnel=origin is not None and origin.source_kind is SourceKind.ASSISTANCE,
    )
    for field in INTAKE_SENSITIVE_FIELDS:
        value = _check_text(field, getattr(intake, field))
        setattr(case, field, value or None)
    case.assignments.append(CaseAssignment(user_id=actor.id, assigned_at=now))
    db.session.add(case)
    db.session.flush()
    audit(
        "case.opened",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={
            "mandatory_reporting_explained": True,
            "from_referral": origin.public_id if origin is not None else None,
        },
    )
    return case


def edit_case(case: Case, details: CaseDetails, *, actor: User) -> list[str]:
    """Correct what intake recorded. The audit names the changed fields, never their
    values (old or new); the derived context flags follow a changed age (R7). Returns the
    names of the fields changed."""
    check_open(case, "age")
    age_group = _age_group(details)
    _check_dictionary(details, case)
    wanted: dict[str, object] = {
        "age": details.age,
        "age_group": age_group,
        "sex": details.sex,
        "area": details.area,
        "risk_level": details.risk_level,
        "displacement_status": details.displacement_status,
        **_dictionary_values(details, case),
    }
    for field in INTAKE_SENSITIVE_FIELDS:
        wanted[field] = _check_text(field, getattr(details, field)) or None
    changed = [name for name, value in wanted.items() if getattr(case, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(case, name, wanted[name])
    for recorded in case.incidents:
        _derive_flags(case, recorded)
    _commit_guard()
    audit(
        "case.edited",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={"fields": changed},
    )
    return changed


def check_origin_referral(referral: Referral, actor: User) -> None:
    """A case may be opened for a referral accepted by the actor's organisation, once."""
    if (
        referral.receiving_organisation_id != actor.organisation_id
        or referral.state is not ReferralState.ACCEPTED
    ):
        raise RuleError(
            "mandatory_reporting_explained",
            _l("A case can be opened only for a referral your organisation accepted."),
        )
    taken = db.session.scalar(select(Case.id).where(Case.origin_referral_id == referral.id))
    if taken is not None:
        raise RuleError(
            "mandatory_reporting_explained", _l("A case was already opened for this referral.")
        )


def accepted_referrals_without_case(actor: User, limit: int = 20) -> Sequence[Referral]:
    """Referrals the actor's organisation accepted and no case was opened for yet, with
    what the inbox shows of them (the rest of the row raises if read)."""
    has_case = select(Case.id).where(Case.origin_referral_id == Referral.id).exists()
    return db.session.scalars(
        select(Referral)
        .where(
            Referral.receiving_organisation_id == actor.organisation_id,
            Referral.state == ReferralState.ACCEPTED,
            Referral.sector == Sector.GBV_CASE_MANAGEMENT,
            ~has_case,
        )
        .options(
            *engine.WITHOUT_JOINED_ROWS,
            load_only(
                Referral.public_id, Referral.survivor_code, Referral.priority, raiseload=True
            ),
        )
        .order_by(Referral.responded_at, Referral.id)
        .limit(limit)
    ).all()


def check_open(case: Case, field: str = "stage") -> None:
    """A closed case (or one whose closure is requested) is read-only until a supervisor
    refuses the closure or reopens it."""
    if not case.is_open:
        raise RuleError(
            field,
            _l("The case is closed or its closure is requested: nothing more can be changed."),
        )


def update_notes(case: Case, notes: str, *, actor: User) -> None:
    check_open(case, "notes")
    case.notes = _check_text("notes", notes) or None
    audit("case.notes_changed", actor=actor, obj_type="case", obj_id=case.public_id)


def assign(case: Case, user: User, *, actor: User) -> None:
    if not has_permission(actor, Permission.SUPERVISE_CASES):
        raise RuleError("user", _l("Only a supervisor assigns caseworkers."))
    if (
        user.organisation_id != case.organisation_id
        or not user.active
        or not has_permission(user, Permission.HANDLE_CASES)
    ):
        raise RuleError("user", _l("Choose an active caseworker of this organisation."))
    if user.id in case.assigned_user_ids():
        return
    case.assignments.append(CaseAssignment(user_id=user.id, assigned_at=utcnow()))
    audit(
        "case.assigned",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={"user": user.public_id},
    )


# --- incident (R7, R8) --------------------------------------------------------------------

DECISION_QUESTIONS: tuple[tuple[str, IncidentType], ...] = (
    ("penetration", IncidentType.RAPE),
    ("unwanted_sexual_contact", IncidentType.SEXUAL_ASSAULT),
    ("physical_assault", IncidentType.PHYSICAL_ASSAULT),
    ("forced_marriage", IncidentType.FORCED_MARRIAGE),
    ("denial_of_resources", IncidentType.DENIAL_OF_RESOURCES),
    ("psychological_abuse", IncidentType.PSYCHOLOGICAL_ABUSE),
)


def classify(answers: dict[str, bool]) -> IncidentType:
    """R7: ask in order, stop at the first yes; otherwise non-GBV."""
    for question, incident_type in DECISION_QUESTIONS:
        if answers.get(question):
            return incident_type
    return IncidentType.NON_GBV


@dataclass(frozen=True)
class IncidentData:
    answers: dict[str, bool]
    incident_at: datetime
    reported_on: date
    time_of_day: TimeOfDay
    location_type: str  # a code of the country-adapted list (LocationType: its defaults)
    perpetrator_count: int
    perpetrator_sex: Sex | None
    perpetrator_age_group: PerpetratorAgeGroup
    perpetrator_relationship: PerpetratorRelationship
    incident_time_approximate: bool = False
    goods_or_money_exchanged: bool = False
    abduction: bool = False
    previously_reported: PreviouslyReported = PreviouslyReported.NO
    # GBVIMS intake (optional). Perpetrators: when given, the summary fields above follow
    # the primary one; when not, one primary perpetrator is made from the summary.
    survivor_age: int | None = None
    area: Area | None = None
    displacement_stage: DisplacementStage | None = None
    harmful_practice: HarmfulPractice | None = None
    abduction_type: AbductionType | None = None  # when given, decides ``abduction``
    previous_incidents: bool | None = None
    wants_legal_action: LegalAction | None = None
    perpetrators: tuple[PerpetratorData, ...] = ()
    sector_answers: dict[str, ReferralAnswer] = dataclasses.field(default_factory=dict)


def record_incident(
    case: Case, data: IncidentData, *, actor: User, incident: Incident | None = None
) -> Incident:
    """Record a new incident of the case (the next number), or correct ``incident``."""
    if incident is not None and incident.case_id != case.id:
        raise RuleError("penetration", _l("This incident belongs to another case."))
    check_open(case, "incident_date")
    now = utcnow()
    if data.incident_at.tzinfo is None:
        raise RuleError("incident_date", _l("The incident time needs a time zone."))
    if data.incident_at > now:
        raise RuleError("incident_date", _l("The incident cannot be in the future."))
    if data.reported_on > now.date():
        raise RuleError("reported_on", _l("The report date cannot be in the future."))
    if data.reported_on < data.incident_at.date():
        raise RuleError("reported_on", _l("The report date cannot be before the incident."))
    if not 1 <= data.perpetrator_count <= 100:
        raise RuleError("perpetrator_count", _l("Give a number of perpetrators from 1 to 100."))
    if data.survivor_age is not None and not 0 <= data.survivor_age <= MAX_AGE:
        raise RuleError("survivor_age", _l("Age must be between 0 and %(max)d.", max=MAX_AGE))
    unknown = set(data.answers) - {q for q, _ in DECISION_QUESTIONS}
    if unknown:
        raise RuleError("penetration", _l("Unknown decision question."))
    lists.check_code(
        CountryList.LOCATION_TYPE,
        data.location_type,
        "location_type",
        keep=incident.location_type if incident is not None else None,
    )
    dictionary.check_perpetrators(data.perpetrators, incident)
    incident_type = classify(data.answers)
    new = incident is None
    if incident is None:
        number = max((i.number for i in case.incidents), default=0) + 1
        incident = Incident(case=case, number=number)
    for question, _type in DECISION_QUESTIONS:
        setattr(incident, question, bool(data.answers.get(question)))
    incident.incident_type = incident_type
    incident.incident_at = data.incident_at
    incident.incident_time_approximate = data.incident_time_approximate
    incident.time_of_day = data.time_of_day
    incident.location_type = str(data.location_type)
    incident.reported_on = data.reported_on
    incident.perpetrator_count = data.perpetrator_count
    incident.perpetrator_sex = data.perpetrator_sex
    incident.perpetrator_age_group = data.perpetrator_age_group
    incident.perpetrator_relationship = data.perpetrator_relationship
    incident.goods_or_money_exchanged = data.goods_or_money_exchanged
    incident.previously_reported = data.previously_reported
    _record_dictionary(incident, data)
    reported_at = datetime.combine(data.reported_on, data.incident_at.timetz())
    incident.reporting_delay = ReportingDelay.between(
        data.incident_at, max(reported_at, data.incident_at)
    )
    _derive_flags(case, incident)
    db.session.add(incident)
    db.session.flush()
    audit(
        "case.incident_recorded" if new else "case.incident_corrected",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={
            "incident": incident.public_id,
            "number": incident.number,
            "incident_type": incident_type.value,
        },
    )
    return incident


def _record_dictionary(incident: Incident, data: IncidentData) -> None:
    """The incident's GBVIMS answers, and the summaries that follow from them."""
    incident.survivor_age = data.survivor_age
    incident.area_id = data.area.id if data.area is not None else None
    incident.displacement_stage = data.displacement_stage
    incident.harmful_practice = data.harmful_practice
    if data.abduction_type is not None:
        incident.abduction_type = data.abduction_type
        incident.abduction = data.abduction_type is not AbductionType.NONE
    else:
        incident.abduction = data.abduction
        incident.abduction_type = None if data.abduction else AbductionType.NONE
    incident.previous_incidents = data.previous_incidents
    incident.wants_legal_action = data.wants_legal_action
    incident.sector_answers = dictionary.encode_answers(data.sector_answers)
    if data.perpetrators:
        dictionary.set_perpetrators(incident, data.perpetrators)
    else:
        incident.perpetrator_sex = data.perpetrator_sex
        incident.perpetrator_age_group = data.perpetrator_age_group
        incident.perpetrator_relationship = data.perpetrator_relationship
        summary = dictionary.perpetrator_from_summary(incident)
        dictionary.set_perpetrators(incident, [summary])
        incident.perpetrator_sex = data.perpetrator_sex
        incident.perpetrator_age_group = data.perpetrator_age_group
        incident.perpetrator_relationship = data.perpetrator_relationship


def _derive_flags(case: Case, incident: Incident) -> None:
    """R7: context flags follow from the answers and the survivor, never typed. A child
    is a survivor under 18 at the incident (the case's age group when the age then is
    not known)."""
    sexual = incident.incident_type in (IncidentType.RAPE, IncidentType.SEXUAL_ASSAULT)
    child = incident.survivor_age < 18 if incident.survivor_age is not None else case.is_child
    incident.child_sexual_abuse = sexual and child
    incident.early_marriage = incident.incident_type is IncidentType.FORCED_MARRIAGE and child
    # GBVIMS: sexual violence during an abduction; any harmful traditional practice
    incident.possible_sexual_slavery = sexual and incident.abduction
    incident.harmful_traditional_practice = incident.harmful_practice not in (
        None,
        HarmfulPractice.NO,
    )
    incident.possible_sexual_exploitation = sexual and incident.goods_or_money_exchanged
    incident.intimate_partner_violence = (
        incident.perpetrator_relationship is PerpetratorRelationship.INTIMATE_PARTNER
    )


# --- stages (R9) ---------------------------------------------------------------------------


def _commit_guard() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError() from error


def move_stage(case: Case, target: CaseStage, *, actor: User) -> None:
    """Move along the six steps; closure goes through request/approve only."""
    if target in (CaseStage.CLOSURE_REQUESTED, CaseStage.CLOSED):
        raise RuleError("stage", _l("Closure needs a request with a reason and approval."))
    check_open(case)
    CASE_WORKFLOW.check(case.stage, target)
    previous = case.stage
    case.stage = target
    _commit_guard()
    audit(
        "case.stage_changed",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={"from": previous.value, "to": target.value},
    )


def request_closure(case: Case, reason: ClosureReason | None, note: str, *, actor: User) -> None:
    """R9: closure needs a reason; a supervisor approves it."""
    if reason is None:
        raise RuleError("reason", _l("Choose the reason for closing the case."))
    if reason is ClosureReason.OTHER and not note.strip():
        raise RuleError("note", _l("Explain the reason for closing."))
    CASE_WORKFLOW.check(case.stage, CaseStage.CLOSURE_REQUESTED)
    case.stage_before_closure = case.stage
    case.stage = CaseStage.CLOSURE_REQUESTED
    case.closure_reason = reason
    case.closure_note = _check_text("note", note) or None
    case.closure_requested_at = utcnow()
    case.closure_requested_by_id = actor.id
    case.closure_refused_at = None
    case.closure_refusal_reason = None
    _commit_guard()
    audit(
        "case.closure_requested",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={"reason": reason.value},
    )


def _check_supervisor(case: Case, actor: User) -> None:
    if not (
        has_permission(actor, Permission.APPROVE_CLOSURE)
        and actor.organisation_id == case.organisation_id
    ):
        raise RuleError("decision", _l("Only a supervisor of this organisation decides closure."))


def decide_closure(case: Case, *, approve: bool, actor: User, reason: str = "") -> None:
    """R9: a supervisor approves a requested closure, or refuses it with a reason that is
    shown back to the caseworker (the case returns to follow-up)."""
    _check_supervisor(case, actor)
    if not approve and not reason.strip():
        raise RuleError("reason", _l("Say why the closure is refused: the caseworker reads it."))
    target = CaseStage.CLOSED if approve else CaseStage.FOLLOW_UP
    CASE_WORKFLOW.check(case.stage, target)
    case.stage = target
    if approve:
        case.closed_at = utcnow()
        case.closure_approved_by_id = actor.id
    else:
        case.closure_reason = None
        case.closure_note = None
        case.closure_requested_at = None
        case.closure_requested_by_id = None
        case.closure_refused_at = utcnow()
        case.closure_refusal_reason = _check_text("reason", reason)
    _commit_guard()
    audit(
        "case.closed" if approve else "case.closure_refused",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
    )


def reopen(case: Case, reason: str, *, actor: User) -> None:
    """A supervisor reopens a closed case, with a reason: it returns to follow-up."""
    _check_supervisor(case, actor)
    if not reason.strip():
        raise RuleError("reason", _l("Say why the case is reopened."))
    CASE_WORKFLOW.check(case.stage, CaseStage.FOLLOW_UP)
    if case.stage is not CaseStage.CLOSED:
        raise ConflictError()
    case.stage = CaseStage.FOLLOW_UP
    case.closed_at = None
    case.closure_approved_by_id = None
    case.closure_reason = None
    case.closure_note = None
    case.closure_requested_at = None
    case.closure_requested_by_id = None
    case.closure_refused_at = None
    case.closure_refusal_reason = None
    case.reopened_at = utcnow()
    case.reopen_reason = _check_text("reason", reason)
    _commit_guard()
    audit("case.reopened", actor=actor, obj_type="case", obj_id=case.public_id)


# --- action plan and follow-up -------------------------------------------------------------


def add_action_item(
    case: Case, need: Need, goal: str, due_on: date | None, *, actor: User
) -> ActionItem:
    if not case.is_open:
        raise RuleError("goal", _l("The case is closed."))
    if not goal.strip():
        raise RuleError("goal", _l("Describe the goal."))
    item = ActionItem(case=case, need=need, due_on=due_on, status=ActionStatus.PLANNED)
    item.goal = _check_text("goal", goal)
    db.session.add(item)
    db.session.flush()
    audit(
        "case.action_added",
        actor=actor,
        obj_type="case",
        obj_id=case.public_id,
        detail={"item": item.public_id, "need": need.value},
    )
    return item


def set_action_status(item: ActionItem, status: ActionStatus, *, actor: User) -> None:
    check_open(item.case, "status")
    item.status = status
    audit(
        "case.action_status",
        actor=actor,
        obj_type="case",
        obj_id=item.case.public_id,
        detail={"item": item.public_id, "status": status.value},
    )


def add_follow_up(case: Case, note: str, *, actor: User) -> FollowUp:
    check_open(case, "note")
    if not note.strip():
        raise RuleError("note", _l("Write the follow-up note."))
    follow_up = FollowUp(case=case, author_id=actor.id, written_at=utcnow())
    follow_up.note = _check_text("note", note)
    db.session.add(follow_up)
    db.session.flush()
    audit("case.follow_up_added", actor=actor, obj_type="case", obj_id=case.public_id)
    return follow_up


def record_consent(case: Case, kind: ConsentKind, *, actor: User, **details: Any) -> Consent:
    """R3 through the one engine; consent is recorded on an open case only (withdrawing
    one stays possible at any time)."""
    check_open(case, "kind")
    return engine.record_consent(case, kind, actor=actor, **details)


# --- referrals from a case -----------------------------------------------------------------


def refer(
    source: Case | CaseIncident,
    request: engine.ReferralRequest,
    *,
    consent: Consent | None,
    actor: User,
    override_reason: str | None = None,
) -> Referral:
    """R4, R8, R10-R12 through the one engine; the case must be open. A case alone refers
    about its latest incident; ``case.regarding(incident)`` about another one (or None)."""
    case = source.case if isinstance(source, CaseIncident) else source
    if not case.is_open:
        raise RuleError("service", _l("The case is closed."))
    return engine.create_referral(
        source, request, consent=consent, actor=actor, override_reason=override_reason
    )


# --- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    stage: CaseStage | None = None
    risk_level: RiskLevel | None = None
    mine_only: bool = False
    # a survivor code, or the reference of one of the case's referrals (normalised)
    code: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.stage or self.risk_level or self.mine_only or self.code)


CASE_ORDER = Keyset((Case.opened_at,), descending=True, row_id=Case.id, public_id=Case.public_id)


def visible_cases(actor: User) -> Select[Case]:
    return select(Case).where(open_to(actor))


def incidents_with_care_arranged(cases: Iterable[Case | CaseLine]) -> set[str]:
    """R8: the public ids of the incidents of these cases whose time-critical care is
    arranged (a health referral made for the incident was accepted or completed); one
    query for a whole list."""
    ids = [case.public_id for case in cases]
    if not ids:
        return set()
    rows = db.session.scalars(
        select(Referral.incident_public_id).where(
            Referral.source_kind == SourceKind.GBV_CASE,
            paging.one_of(Referral.source_public_id, ids),
            Referral.incident_public_id.is_not(None),
            *engine.care_arranged_conditions(),
        )
    )
    return {incident_id for incident_id in rows if incident_id is not None}


@dataclass(frozen=True)
class IncidentLine:
    """An incident as a line of a list shows it."""

    public_id: str
    number: int
    incident_type: IncidentType
    incident_at: datetime

    def clinical_windows(self) -> list[ClinicalWindow]:
        """R8: the windows of care counted from this incident (as Incident's)."""
        return clinical_windows(self.incident_type.value, self.incident_at)


@dataclass(frozen=True)
class CaseLine:
    """A case as a line of a list shows it: read as a few columns of the case and of its
    incidents rather than as mapped rows (a case and an incident have some forty columns
    each, and building them was most of a list's time)."""

    public_id: str
    survivor_code: str
    stage: CaseStage
    risk_level: RiskLevel
    age_group: AgeGroup
    opened_at: datetime
    incidents: tuple[IncidentLine, ...]

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def latest_incident(self) -> IncidentLine | None:
        return latest_of(self.incidents)

    def open_clinical_windows(
        self, now: datetime, *, care_arranged: Collection[str] = ()
    ) -> list[tuple[IncidentLine, ClinicalWindow]]:
        return open_windows_of(self.incidents, now, care_arranged)


LINE_COLUMNS = (
    Case.id,
    Case.public_id,
    Case.survivor_code,
    Case.stage,
    Case.risk_level,
    Case.age_group,
    Case.opened_at,
)


def case_lines(rows: Sequence[Any]) -> list[CaseLine]:
    """The lines of these rows (of a query selecting LINE_COLUMNS), with their incidents
    read in one more statement."""
    if not rows:
        return []
    incidents: dict[int, list[IncidentLine]] = {row.id: [] for row in rows}
    for incident in db.session.execute(
        select(
            Incident.case_id,
            Incident.public_id,
            Incident.number,
            Incident.incident_type,
            Incident.incident_at,
        )
        .where(paging.one_of(Incident.case_id, incidents.keys()))
        .order_by(Incident.case_id, Incident.number)
    ):
        incidents[incident.case_id].append(
            IncidentLine(
                incident.public_id, incident.number, incident.incident_type, incident.incident_at
            )
        )
    return [
        CaseLine(
            public_id=row.public_id,
            survivor_code=row.survivor_code,
            stage=row.stage,
            risk_level=row.risk_level,
            age_group=row.age_group,
            opened_at=row.opened_at,
            incidents=tuple(incidents[row.id]),
        )
        for row in rows
    ]


def list_cases(
    actor: User, filters: CaseFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[CaseLine]:
    """Newest first, keyset-paged on (opened_at, id); filters on indexed clear columns."""
    query = visible_cases(actor)
    if filters.stage is not None:
        query = query.where(Case.stage == filters.stage)
    if filters.risk_level is not None:
        query = query.where(Case.risk_level == filters.risk_level)
    if filters.mine_only:
        query = query.where(Case.owner_id == actor.id)
    if filters.code:
        referred = select(Referral.source_public_id).where(
            Referral.reference == filters.code, Referral.source_kind == SourceKind.GBV_CASE
        )
        query = query.where(or_(Case.survivor_code == filters.code, Case.public_id.in_(referred)))
    page = paging.page(
        query.with_only_columns(*LINE_COLUMNS), CASE_ORDER, cursor=cursor, limit=limit, columns=True
    )
    return Page(case_lines(page.rows), page.next_cursor)
