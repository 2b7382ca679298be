"""A year of fictional case history for the demo, so statistics, charts and the Incident
Recorder export show figures.

A few hundred past cases of the demo caseworker's organisation, each with its incident,
its consents (most survivors consent to anonymous statistics) and referrals that ran
their course, spread over the last twelve months. They are written as rows in one go
rather than through the pages' services (which take a fifth of a second per case), hold
no free text or name (nothing to encrypt) and leave no audit events: nobody did these
things. The recent demo cases made through the services stay the ones to work on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from referral.admin import lists
from referral.admin.lists import CountryList
from referral.cases import dictionary
from referral.cases import services as cases
from referral.cases.dictionary import PerpetratorData
from referral.cases.models import (
    ANSWER_SECTORS,
    AbductionType,
    AgeBand,
    Case,
    CaseAssignment,
    CaseStage,
    ClosureReason,
    DisabilityType,
    DisplacementStage,
    DisplacementStatus,
    GbvimsRelationship,
    HarmfulPractice,
    Incident,
    LegalAction,
    LocationType,
    MaritalStatus,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PerpetratorSex,
    PreviouslyReported,
    ReferralAnswer,
    ReportingDelay,
    RiskLevel,
    SeparationStatus,
    TimeOfDay,
)
from referral.db import User
from referral.db.base import random_code
from referral.directory.models import Area, Sector, Service, Sex
from referral.extensions import db
from referral.referrals.models import (
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Priority,
    Referral,
    ReferralState,
    ReferralTransition,
    SourceKind,
    age_group_of,
)
from referral.referrals.services import deadline_for

HISTORY_CASES = 300
# The demo's adapted ethnicity list (fictional groups of Lomara).
ETHNICITIES = (("kesani", "Kesani"), ("daloan", "Daloan"), ("mavi_hill", "Mavi hill people"))
REFERRED_FROM: Sequence[tuple[str, int]] = (
    ("self_referral", 40),
    ("health_medical", 15),
    ("community_camp_leader", 15),
    ("psychosocial", 8),
    ("other_humanitarian", 8),
    ("police_security", 5),
    ("teacher_school", 4),
    ("other", 5),
)
STAGES: Sequence[tuple[DisplacementStage, int]] = (
    (DisplacementStage.DURING_REFUGE, 45),
    (DisplacementStage.NOT_DISPLACED, 30),
    (DisplacementStage.DURING_FLIGHT, 12),
    (DisplacementStage.PRE_DISPLACEMENT, 8),
    (DisplacementStage.DURING_RETURN, 5),
)
BANDS: Sequence[tuple[AgeBand, int]] = (
    (AgeBand.AGE_12_17, 6),
    (AgeBand.AGE_18_25, 22),
    (AgeBand.AGE_26_40, 40),
    (AgeBand.AGE_41_60, 20),
    (AgeBand.AGE_61_PLUS, 2),
    (AgeBand.UNKNOWN, 10),
)
GBVIMS_RELATIONS: Sequence[tuple[GbvimsRelationship, int]] = (
    (GbvimsRelationship.INTIMATE_PARTNER, 38),
    (GbvimsRelationship.FAMILY_OTHER, 10),
    (GbvimsRelationship.PRIMARY_CAREGIVER, 3),
    (GbvimsRelationship.COMMUNITY_MEMBER, 14),
    (GbvimsRelationship.OTHER_DISPLACED, 6),
    (GbvimsRelationship.NO_RELATION, 14),
    (GbvimsRelationship.SUPERVISOR_EMPLOYER, 4),
    (GbvimsRelationship.TEACHER, 2),
    (GbvimsRelationship.SERVICE_PROVIDER, 2),
    (GbvimsRelationship.OTHER, 7),
)
OCCUPATIONS: Sequence[tuple[str, int]] = (
    ("unemployed", 25),
    ("farmer", 20),
    ("trader", 12),
    ("armed_forces", 10),
    ("police", 4),
    ("student", 5),
    ("unknown", 20),
    ("other", 4),
)
OTHER_ANSWERS: Sequence[tuple[ReferralAnswer, int]] = (
    (ReferralAnswer.NOT_APPLICABLE, 60),
    (ReferralAnswer.OWN_AGENCY, 20),
    (ReferralAnswer.DECLINED, 10),
    (ReferralAnswer.UNAVAILABLE, 5),
    (ReferralAnswer.ALREADY_RECEIVED, 5),
)
HISTORY_DAYS = 365

# Weighted choices: (value, weight).
TYPES: Sequence[tuple[dict[str, bool], int]] = (
    ({"penetration": True}, 30),
    ({"unwanted_sexual_contact": True}, 14),
    ({"physical_assault": True}, 24),
    ({"forced_marriage": True}, 8),
    ({"denial_of_resources": True}, 10),
    ({"psychological_abuse": True}, 14),
)
AGES: Sequence[tuple[int, int]] = (
    (8, 3),
    (13, 5),
    (16, 8),
    (19, 12),
    (23, 16),
    (29, 18),
    (34, 14),
    (41, 9),
    (52, 4),
    (66, 2),
)
RELATIONSHIPS: Sequence[tuple[PerpetratorRelationship, int]] = (
    (PerpetratorRelationship.INTIMATE_PARTNER, 38),
    (PerpetratorRelationship.FAMILY_MEMBER, 10),
    (PerpetratorRelationship.CAREGIVER, 3),
    (PerpetratorRelationship.COMMUNITY_MEMBER, 16),
    (PerpetratorRelationship.STRANGER, 14),
    (PerpetratorRelationship.SECURITY_OR_ARMED_ACTOR, 8),
    (PerpetratorRelationship.TEACHER_OR_SUPERVISOR, 3),
    (PerpetratorRelationship.AID_WORKER, 2),
    (PerpetratorRelationship.UNKNOWN, 6),
)
DELAY_HOURS: Sequence[tuple[float, int]] = (
    (10, 30),
    (50, 14),
    (100, 8),
    (200, 12),
    (500, 14),
    (1500, 22),
)
REFERRAL_OUTCOMES: Sequence[tuple[ReferralState, int]] = (
    (ReferralState.COMPLETED, 55),
    (ReferralState.ACCEPTED, 12),
    (ReferralState.CLOSED, 8),
    (ReferralState.DECLINED, 10),
    (ReferralState.WITHDRAWN, 5),
    # never answered: overdue now, as the inboxes and the statistics both show
    (ReferralState.SENT, 3),
)
REFERRAL_SECTORS: Sequence[tuple[Sector, int]] = (
    (Sector.HEALTH, 40),
    (Sector.PSYCHOSOCIAL, 30),
    (Sector.LEGAL_AID, 12),
    (Sector.SHELTER, 8),
    (Sector.SAFETY_SECURITY, 6),
    (Sector.LIVELIHOODS, 4),
    # transfers to another case-management team (the pathways offer it as a step)
    (Sector.GBV_CASE_MANAGEMENT, 6),
)


T = TypeVar("T")


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int | float]]) -> T:
    values = [value for value, _weight in weighted]
    weights = [weight for _value, weight in weighted]
    return rng.choices(values, weights)[0]


def _time_of_day(at: datetime) -> TimeOfDay:
    hour = at.hour
    if 6 <= hour < 12:
        return TimeOfDay.MORNING
    if 12 <= hour < 18:
        return TimeOfDay.AFTERNOON
    return TimeOfDay.EVENING_NIGHT


def load_history(
    rng: random.Random,
    now: datetime,
    areas: Sequence[Area],
    worker: User,
    supervisor: User,
) -> int:
    """Add the past cases; return how many incidents were made."""
    if not lists.is_adapted(CountryList.ETHNICITY):
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.example.org"))
        for code, label in ETHNICITIES:
            lists.add_item(CountryList.ETHNICITY, code, label, actor=admin or supervisor)
    services = {
        service.sector: service
        for service in db.session.scalars(
            select(Service).where(Service.sector.in_([s for s, _w in REFERRAL_SECTORS]))
        )
    }
    rows: list[object] = []
    codes: set[str] = set()
    for _index in range(HISTORY_CASES):
        rows.extend(_one(rng, now, rng.choice(list(areas)), worker, supervisor, services, codes))
    db.session.add_all(rows)
    db.session.flush()
    return HISTORY_CASES


def _one(
    rng: random.Random,
    now: datetime,
    area: Area,
    worker: User,
    supervisor: User,
    services: dict[Sector, Service],
    codes: set[str],
) -> list[object]:
    opened = now - timedelta(days=rng.uniform(3, HISTORY_DAYS), hours=rng.uniform(0, 10))
    incident_at = opened - timedelta(hours=_pick(rng, DELAY_HOURS) * rng.uniform(0.6, 1.3))
    age = _pick(rng, AGES) + rng.randint(0, 3)
    sex = Sex.FEMALE if rng.random() < 0.9 else Sex.MALE
    days_open = (now - opened).days
    closed = days_open > 90 or (days_open > 30 and rng.random() < 0.5)
    case = Case(
        survivor_code=_history_code("GBV", codes),
        organisation_id=worker.organisation_id,
        owner_id=worker.id,
        stage=CaseStage.CLOSED if closed else rng.choice(list(CaseStage)[1:5]),
        risk_level=rng.choice(list(RiskLevel)),
        opened_at=opened,
        age=age,
        age_group=age_group_of(age),
        sex=sex,
        area_id=area.id,
        has_disability=False,
        displacement_status=rng.choice(
            [DisplacementStatus.IDP] * 4
            + [DisplacementStatus.RESIDENT] * 3
            + [DisplacementStatus.REFUGEE, DisplacementStatus.RETURNEE]
        ),
        unaccompanied_or_separated=False,
        mandatory_reporting_explained_at=opened,
        ethnicity=rng.choice([code for code, _label in ETHNICITIES]),
        marital_status=(
            MaritalStatus.SINGLE
            if age < 18
            else _pick(
                rng,
                (
                    (MaritalStatus.MARRIED_COHABITING, 50),
                    (MaritalStatus.SINGLE, 30),
                    (MaritalStatus.DIVORCED_SEPARATED, 12),
                    (MaritalStatus.WIDOWED, 8),
                ),
            )
        ),
        referred_by=_pick(rng, REFERRED_FROM),
        mandatory_reporting_explained_by_id=worker.id,
    )
    if case.displacement_status is DisplacementStatus.REFUGEE:
        case.country_of_origin = rng.choice(["CF", "SS", "TD"])
    case.disability_type = _pick(
        rng,
        (
            (DisabilityType.NONE, 92),
            (DisabilityType.PHYSICAL, 5),
            (DisabilityType.MENTAL, 2),
            (DisabilityType.BOTH, 1),
        ),
    )
    case.has_disability = case.disability_type is not DisabilityType.NONE
    if age < 18:
        case.separation_status = _pick(
            rng,
            (
                (SeparationStatus.NO, 80),
                (SeparationStatus.SEPARATED, 10),
                (SeparationStatus.UNACCOMPANIED, 6),
                (SeparationStatus.OTHER_VULNERABLE, 4),
            ),
        )
        case.unaccompanied_or_separated = case.separation_status is not SeparationStatus.NO
    if closed:
        closed_at = opened + timedelta(days=rng.randint(20, 80))
        case.stage_before_closure = CaseStage.FOLLOW_UP
        case.closure_reason = _pick(
            rng,
            (
                (ClosureReason.NEEDS_MET, 70),
                (ClosureReason.SURVIVOR_REQUEST, 10),
                (ClosureReason.LOST_CONTACT, 12),
                (ClosureReason.RELOCATED, 8),
            ),
        )
        case.closure_requested_at = closed_at - timedelta(days=1)
        case.closure_requested_by_id = worker.id
        case.closed_at = closed_at
        case.closure_approved_by_id = supervisor.id
    case.assignments.append(CaseAssignment(user_id=worker.id, assigned_at=opened))
    answers = _pick(rng, TYPES)
    incident = Incident(
        case=case,
        **{question: bool(answers.get(question)) for question, _t in cases.DECISION_QUESTIONS},
        incident_type=cases.classify(answers),
        incident_at=incident_at,
        incident_time_approximate=rng.random() < 0.3,
        time_of_day=_time_of_day(incident_at),
        location_type=rng.choice(list(LocationType)[:9]).value,
        reported_on=opened.date(),
        reporting_delay=ReportingDelay.between(incident_at, opened),
        perpetrator_count=_pick(rng, ((1, 80), (2, 12), (3, 5), (5, 3))),
        perpetrator_sex=Sex.MALE if rng.random() < 0.95 else Sex.FEMALE,
        perpetrator_age_group=PerpetratorAgeGroup.UNDER_18
        if rng.random() < 0.08
        else PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=_pick(rng, RELATIONSHIPS),
        goods_or_money_exchanged=bool(answers.get("penetration")) and rng.random() < 0.12,
        abduction=False,
        abduction_type=AbductionType.NONE,
        survivor_age=max(0, age - (1 if (opened - incident_at).days > 180 else 0)),
        area_id=area.id,
        displacement_stage=_pick(rng, STAGES),
        harmful_practice=HarmfulPractice.NO,
        previous_incidents=rng.random() < 0.3,
        wants_legal_action=_pick(
            rng, ((LegalAction.NO, 55), (LegalAction.YES, 20), (LegalAction.UNDECIDED, 25))
        ),
        previously_reported=_pick(
            rng,
            (
                (PreviouslyReported.NO, 90),
                (PreviouslyReported.GBVIMS_ORG, 5),
                (PreviouslyReported.NON_GBVIMS_ORG, 5),
            ),
        ),
    )
    if rng.random() < 0.04:
        incident.abduction_type = rng.choice(list(AbductionType)[1:])
        incident.abduction = True
    if answers.get("unwanted_sexual_contact") and age < 15 and rng.random() < 0.5:
        incident.harmful_practice = HarmfulPractice.FGM_C
    elif answers.get("forced_marriage") and age < 18:
        incident.harmful_practice = HarmfulPractice.CHILD_MARRIAGE
    dictionary.set_perpetrators(incident, _perpetrators(rng, incident.perpetrator_count))
    cases._derive_flags(case, incident)
    made: list[object] = [case, incident]
    made.append(_consent(case, worker, opened, ConsentKind.SERVICES))
    if rng.random() < 0.85:
        made.append(_consent(case, worker, opened, ConsentKind.STATISTICS))
    wanted = {_pick(rng, REFERRAL_SECTORS) for _n in range(rng.choice([0, 1, 1, 2, 2, 3]))}
    if answers.get("penetration") and incident_at > opened - timedelta(hours=72):
        wanted.add(Sector.HEALTH)
    # the Incident Recorder's answer for sectors not referred: mostly the own service
    unreferred = [key for key, sectors in ANSWER_SECTORS.items() if not set(sectors) & wanted]
    incident.sector_answers = dictionary.encode_answers(
        {key: _pick(rng, OTHER_ANSWERS) for key in unreferred}
    )
    for sector in sorted(wanted):
        service = services.get(sector)
        if service is not None:
            made.append(_referral(rng, case, service, opened, worker, codes))
    return made


def _perpetrators(rng: random.Random, count: int) -> list[PerpetratorData]:
    relation = _pick(rng, GBVIMS_RELATIONS)
    group = count > 1 and rng.random() < 0.5
    return [
        PerpetratorData(
            primary=True,
            sex=PerpetratorSex.MALE
            if rng.random() < 0.95
            else (PerpetratorSex.BOTH if group else PerpetratorSex.FEMALE),
            age_band=_pick(rng, BANDS),
            relation=relation,
            occupation=_pick(rng, OCCUPATIONS),
            previous_incident=relation is GbvimsRelationship.INTIMATE_PARTNER
            and rng.random() < 0.6,
        )
    ]


def _consent(case: Case, worker: User, at: datetime, kind: ConsentKind, **extra: Any) -> Consent:
    child = case.age_group.is_child
    return Consent(
        source_kind=SourceKind.GBV_CASE,
        source_public_id=case.public_id,
        organisation_id=case.organisation_id,
        kind=kind,
        granted=True,
        survivor_is_child=child,
        caregiver_consented=True if child else None,
        caregiver_relationship=CaregiverRelationship.MOTHER if child else None,
        caregiver_is_alleged_perpetrator=False if child else None,
        child_assented=True if child else None,
        recorded_by_id=worker.id,
        recorded_at=at,
        **extra,
    )


def _history_code(prefix: str, taken: set[str]) -> str:
    """A code one character longer than the services draw (so never one of theirs) and
    not yet drawn for this history: the rows are flushed together, with no check."""
    while (code := random_code(prefix, 6)) in taken:
        pass
    taken.add(code)
    return code


def _referral(
    rng: random.Random,
    case: Case,
    service: Service,
    opened: datetime,
    worker: User,
    codes: set[str],
) -> Referral:
    agreed = _consent(
        case,
        worker,
        opened,
        ConsentKind.REFERRAL,
        receiving_organisation_id=service.organisation_id,
        sector=service.sector,
    )
    sent = opened + timedelta(hours=rng.uniform(0.5, 30))
    priority = Priority.EMERGENCY if service.sector is Sector.HEALTH else Priority.ROUTINE
    state = _pick(rng, REFERRAL_OUTCOMES)
    referral = Referral(
        reference=_history_code("REF", codes),
        source_kind=SourceKind.GBV_CASE,
        source_public_id=case.public_id,
        survivor_code=case.survivor_code,
        sending_organisation_id=case.organisation_id,
        created_by_id=worker.id,
        receiving_organisation_id=service.organisation_id,
        service_id=service.id,
        sector=service.sector,
        priority=priority,
        state=state,
        deadline_at=deadline_for(priority, sent),
        sent_at=sent,
        age_group=case.age_group,
        sex=case.sex,
        needs=service.sector.value,
        consent=agreed,
        created_at=sent,
        updated_at=sent,
    )
    steps: list[tuple[ReferralState | None, ReferralState, datetime]] = [
        (None, ReferralState.SENT, sent)
    ]
    at = sent
    if state is ReferralState.WITHDRAWN:
        steps.append((ReferralState.SENT, state, at + timedelta(hours=rng.uniform(2, 60))))
    elif state is not ReferralState.SENT:
        at = at + timedelta(hours=rng.uniform(0.5, 70 if priority is Priority.ROUTINE else 20))
        referral.responded_at = at
        first = (
            ReferralState.DECLINED if state is ReferralState.DECLINED else ReferralState.ACCEPTED
        )
        steps.append((ReferralState.SENT, first, at))
        if state in (ReferralState.COMPLETED, ReferralState.CLOSED):
            at = at + timedelta(days=rng.uniform(1, 25))
            steps.append((ReferralState.ACCEPTED, state, at))
    if state in (ReferralState.COMPLETED, ReferralState.CLOSED, ReferralState.WITHDRAWN):
        referral.finished_at = steps[-1][2]
    for before, after, when in steps:
        referral.transitions.append(
            ReferralTransition(from_state=before, to_state=after, occurred_at=when)
        )
    return referral
