"""GBV cases: survivor-coded case, incident, action plan and follow-up notes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.clinical import ClinicalWindow, clinical_windows
from referral.db import Organisation, User
from referral.db.base import PublicIdMixin, TimestampMixin, UTCDateTime, enum_type, random_code
from referral.directory.models import AgeGroup, Area, Sector, Sex
from referral.extensions import Base
from referral.lifecycle.models import LegalHold, Retention
from referral.referrals.models import Need, SourceKind
from referral.security.crypto import DataKeyOwner, encrypted_column
from referral.security.policy import Permission
from referral.workflow import TransitionTable


class CaseStage(StrEnum):
    """R9: the six case-management steps; closure is requested, then approved."""

    ENGAGEMENT = "engagement"
    ASSESSMENT = "assessment"
    ACTION_PLAN = "action_plan"
    IMPLEMENTATION = "implementation"
    FOLLOW_UP = "follow_up"
    CLOSURE_REQUESTED = "closure_requested"
    CLOSED = "closed"


OPEN_STAGES = (
    CaseStage.ENGAGEMENT,
    CaseStage.ASSESSMENT,
    CaseStage.ACTION_PLAN,
    CaseStage.IMPLEMENTATION,
    CaseStage.FOLLOW_UP,
)

CASE_WORKFLOW: TransitionTable[CaseStage] = TransitionTable.build(
    "case",
    {
        CaseStage.ENGAGEMENT: [CaseStage.ASSESSMENT, CaseStage.CLOSURE_REQUESTED],
        CaseStage.ASSESSMENT: [CaseStage.ACTION_PLAN, CaseStage.CLOSURE_REQUESTED],
        CaseStage.ACTION_PLAN: [CaseStage.IMPLEMENTATION, CaseStage.CLOSURE_REQUESTED],
        CaseStage.IMPLEMENTATION: [CaseStage.FOLLOW_UP, CaseStage.CLOSURE_REQUESTED],
        CaseStage.FOLLOW_UP: [
            CaseStage.IMPLEMENTATION,
            CaseStage.ACTION_PLAN,
            CaseStage.CLOSURE_REQUESTED,
        ],
        # approval closes; a refused request sends the case back to follow-up
        CaseStage.CLOSURE_REQUESTED: [CaseStage.CLOSED, CaseStage.FOLLOW_UP],
        # a supervisor reopens a closed case, with a reason
        CaseStage.CLOSED: [CaseStage.FOLLOW_UP],
    },
)


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class DisplacementStatus(StrEnum):
    RESIDENT = "resident"
    IDP = "idp"
    REFUGEE = "refugee"
    RETURNEE = "returnee"
    ASYLUM_SEEKER = "asylum_seeker"
    FOREIGN_NATIONAL = "foreign_national"
    STATELESS = "stateless"
    OTHER = "other"
    UNKNOWN = "unknown"


# --- the GBVIMS intake data dictionary: its core lists, fixed (country lists: admin.lists) --


class MaritalStatus(StrEnum):
    SINGLE = "single"
    MARRIED_COHABITING = "married_cohabiting"
    DIVORCED_SEPARATED = "divorced_separated"
    WIDOWED = "widowed"


class DisabilityType(StrEnum):
    NONE = "none"
    MENTAL = "mental"
    PHYSICAL = "physical"
    BOTH = "both"


class SeparationStatus(StrEnum):
    """Unaccompanied or separated child?"""

    NO = "no"
    UNACCOMPANIED = "unaccompanied"
    SEPARATED = "separated"
    OTHER_VULNERABLE = "other_vulnerable"


class DisplacementStage(StrEnum):
    """Stage of displacement at the time of the incident."""

    NOT_DISPLACED = "not_displaced"
    PRE_DISPLACEMENT = "pre_displacement"
    DURING_FLIGHT = "during_flight"
    DURING_REFUGE = "during_refuge"
    DURING_RETURN = "during_return"
    POST_DISPLACEMENT = "post_displacement"


class HarmfulPractice(StrEnum):
    NO = "no"
    FGM_C = "fgm_c"
    CHILD_MARRIAGE = "child_marriage"
    HONOUR_CRIME = "honour_crime"
    WIDOW_INHERITANCE = "widow_inheritance"
    DENIAL_OF_EDUCATION = "denial_of_education"
    OTHER = "other"


class AbductionType(StrEnum):
    NONE = "none"
    FORCED_CONSCRIPTION = "forced_conscription"
    TRAFFICKED = "trafficked"
    OTHER = "other"


class LegalAction(StrEnum):
    YES = "yes"
    NO = "no"
    UNDECIDED = "undecided"


class ReferralAnswer(StrEnum):
    """The Incident Recorder's answer per service sector."""

    REFERRED = "referred"
    OWN_AGENCY = "own_agency"  # service provided by your agency
    ALREADY_RECEIVED = "already_received"  # already received from another agency
    NOT_APPLICABLE = "not_applicable"
    DECLINED = "declined"  # declined by the survivor
    UNAVAILABLE = "unavailable"


# The Incident Recorder's sector questions: key -> the directory sectors that answer it.
ANSWER_SECTORS: dict[str, tuple[Sector, ...]] = {
    "shelter": (Sector.SHELTER,),
    "health": (Sector.HEALTH,),
    "psychosocial": (Sector.PSYCHOSOCIAL,),
    "legal": (Sector.LEGAL_AID,),
    "police": (Sector.SAFETY_SECURITY,),
    "livelihoods": (Sector.LIVELIHOODS,),
    "child_protection": (Sector.CHILD_PROTECTION, Sector.EDUCATION),
}


class PerpetratorSex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    BOTH = "both"  # a group of both
    UNKNOWN = "unknown"


class AgeBand(StrEnum):
    """The Incident Recorder's age groups of an alleged perpetrator."""

    AGE_0_11 = "0-11"
    AGE_12_17 = "12-17"
    AGE_18_25 = "18-25"
    AGE_26_40 = "26-40"
    AGE_41_60 = "41-60"
    AGE_61_PLUS = "61+"
    UNKNOWN = "unknown"


class GbvimsRelationship(StrEnum):
    """Alleged perpetrator - survivor relationship, the GBVIMS list."""

    INTIMATE_PARTNER = "intimate_partner"  # current or former
    PRIMARY_CAREGIVER = "primary_caregiver"
    FAMILY_OTHER = "family_other"  # family other than spouse or caregiver
    SUPERVISOR_EMPLOYER = "supervisor_employer"
    SCHOOLMATE = "schoolmate"
    TEACHER = "teacher"  # teacher or school official
    SERVICE_PROVIDER = "service_provider"
    COTENANT_LANDLORD = "cotenant_landlord"  # cotenant, housemate or landlord
    OTHER_DISPLACED = "other_displaced"  # other refugee, IDP or returnee
    COMMUNITY_MEMBER = "community_member"  # other resident community member
    OTHER = "other"
    NO_RELATION = "no_relation"


class ClosureReason(StrEnum):
    NEEDS_MET = "needs_met"
    SURVIVOR_REQUEST = "survivor_request"
    LOST_CONTACT = "lost_contact"
    RELOCATED = "relocated"
    TRANSFERRED = "transferred"
    DECEASED = "deceased"
    OTHER = "other"


class IncidentType(StrEnum):
    """R7: exactly one of the six GBVIMS core types, or non-GBV."""

    RAPE = "rape"
    SEXUAL_ASSAULT = "sexual_assault"
    PHYSICAL_ASSAULT = "physical_assault"
    FORCED_MARRIAGE = "forced_marriage"
    DENIAL_OF_RESOURCES = "denial_of_resources"
    PSYCHOLOGICAL_ABUSE = "psychological_abuse"
    NON_GBV = "non_gbv"


class PreviouslyReported(StrEnum):
    """GBVIMS: has the survivor reported this incident elsewhere, and to whom? Statistics
    drop only incidents already reported to a GBVIMS organisation (counted there)."""

    NO = "no"
    GBVIMS_ORG = "gbvims_org"
    NON_GBVIMS_ORG = "non_gbvims_org"


class PerpetratorRelationship(StrEnum):
    INTIMATE_PARTNER = "intimate_partner"  # current or former
    FAMILY_MEMBER = "family_member"
    CAREGIVER = "caregiver"
    TEACHER_OR_SUPERVISOR = "teacher_or_supervisor"
    AID_WORKER = "aid_worker"
    SECURITY_OR_ARMED_ACTOR = "security_or_armed_actor"
    COMMUNITY_MEMBER = "community_member"
    STRANGER = "stranger"
    OTHER = "other"
    UNKNOWN = "unknown"


class PerpetratorAgeGroup(StrEnum):
    UNDER_18 = "under_18"
    ADULT = "adult"
    UNKNOWN = "unknown"


class TimeOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING_NIGHT = "evening_night"
    UNKNOWN = "unknown"


class LocationType(StrEnum):
    """The default codes of the country-adapted location-type list (referral.admin.lists);
    incidents store the code, checked against the list by the service."""

    HOME = "home"
    ROAD = "road"
    FIELD_OR_BUSH = "field_or_bush"
    SCHOOL = "school"
    MARKET = "market"
    DISTRIBUTION_SITE = "distribution_site"
    CAMP_OR_SETTLEMENT = "camp_or_settlement"
    WORKPLACE = "workplace"
    DETENTION = "detention"
    OTHER = "other"


class ReportingDelay(StrEnum):
    DAYS_0_3 = "0-3 days"
    DAYS_4_5 = "4-5 days"
    DAYS_6_14 = "6-14 days"
    WEEKS_2_TO_MONTH = "2 weeks-1 month"
    OVER_MONTH = "more than 1 month"

    @classmethod
    def between(cls, incident: datetime, reported: datetime) -> ReportingDelay:
        days = (reported - incident).total_seconds() / 86400
        if days < 4:
            return cls.DAYS_0_3
        if days < 6:
            return cls.DAYS_4_5
        if days < 15:
            return cls.DAYS_6_14
        if days <= 31:
            return cls.WEEKS_2_TO_MONTH
        return cls.OVER_MONTH


class Case(PublicIdMixin, TimestampMixin, Base):
    """A GBV case under a random survivor code (R1). Sensitive fields are encrypted and
    bound to the row (R2)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_org_opened", "organisation_id", "opened_at", "id"),
        Index("ix_cases_owner_opened", "owner_id", "opened_at", "id"),
        # The stage filter of the case list, in the list's order (also serves counts per
        # stage; found by bench/).
        Index("ix_cases_org_stage_opened", "organisation_id", "stage", "opened_at", "id"),
    )

    source_kind = SourceKind.GBV_CASE
    # Envelope encryption: the case's own data key seals its fields and those of its
    # incident, plan, follow-ups, consents and referrals; purging destroys it (R26).
    __data_key_owners__ = (DataKeyOwner("case"),)
    __retention__ = Retention(
        "case", "CASE_RETENTION_DAYS", closed_at="closed_at", closed_when=("stage", "closed")
    )
    __hold_permission__ = Permission.HOLD_CASES

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_code: Mapped[str] = mapped_column(
        String(20), unique=True, default=lambda: random_code("GBV")
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The accepted referral this case was opened for, if any: one case per referral.
    origin_referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), unique=True)
    # Case context, derived and never typed (R7, R21): the case came through victim
    # assistance, i.e. SEA by aid or peacekeeping personnel.
    sea_by_aid_personnel: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stage: Mapped[CaseStage] = mapped_column(enum_type(CaseStage), default=CaseStage.ENGAGEMENT)
    stage_before_closure: Mapped[CaseStage | None] = mapped_column(enum_type(CaseStage))
    risk_level: Mapped[RiskLevel] = mapped_column(enum_type(RiskLevel), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)

    age: Mapped[int | None] = mapped_column(Integer)
    age_group: Mapped[AgeGroup] = mapped_column(enum_type(AgeGroup))
    sex: Mapped[Sex] = mapped_column(enum_type(Sex))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    has_disability: Mapped[bool] = mapped_column(Boolean, default=False)
    displacement_status: Mapped[DisplacementStatus] = mapped_column(
        enum_type(DisplacementStatus), default=DisplacementStatus.UNKNOWN
    )
    unaccompanied_or_separated: Mapped[bool] = mapped_column(Boolean, default=False)
    # A code of the country-adapted "referred from" list.
    referred_by: Mapped[str] = mapped_column(String(40), default="self_referral")
    # GBVIMS intake: country-adapted ethnicity code, ISO 3166 country, GBVIMS lists. The
    # precise disability and separation answers; the yes/no columns above follow them
    # (None: recorded before these were asked, only the yes/no is known).
    ethnicity: Mapped[str | None] = mapped_column(String(40))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))
    marital_status: Mapped[MaritalStatus | None] = mapped_column(enum_type(MaritalStatus))
    disability_type: Mapped[DisabilityType | None] = mapped_column(enum_type(DisabilityType))
    separation_status: Mapped[SeparationStatus | None] = mapped_column(enum_type(SeparationStatus))

    # R6: the mandatory-reporting explanation, confirmed before intake.
    mandatory_reporting_explained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mandatory_reporting_explained_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    # R2: sensitive, encrypted, bound to table/column/public id.
    name: Mapped[str | None] = encrypted_column()
    contact: Mapped[str | None] = encrypted_column()
    safe_contact: Mapped[str | None] = encrypted_column()
    location_detail: Mapped[str | None] = encrypted_column()
    narrative: Mapped[str | None] = encrypted_column()
    notes: Mapped[str | None] = encrypted_column()

    closure_reason: Mapped[ClosureReason | None] = mapped_column(enum_type(ClosureReason))
    closure_note: Mapped[str | None] = encrypted_column()
    closure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The supervisor's answers: why a closure was refused (shown back to the caseworker)
    # and why a closed case was reopened.
    closure_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_refusal_reason: Mapped[str | None] = encrypted_column()
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_reason: Mapped[str | None] = encrypted_column()

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    assignments: Mapped[list[CaseAssignment]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    # A survivor may come back after another incident (common in intimate-partner
    # violence): one case, several incidents, numbered in the order they were recorded.
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Incident.number"
    )
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="ActionItem.id"
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="FollowUp.id.desc()"
    )
    # What the case page shows with the case, read in its statement (rarely more than
    # one of each): the transfers proposed, newest first, and the legal holds in force.
    transfers: Mapped[list[CaseTransfer]] = relationship(
        viewonly=True,
        order_by=lambda: (CaseTransfer.proposed_at.desc(), CaseTransfer.id.desc()),
    )
    holds_in_force: Mapped[list[LegalHold]] = relationship(
        primaryjoin=lambda: LegalHold.in_force(Case.__retention__.owner_type, Case.public_id),
        foreign_keys=lambda: [LegalHold.owner_public_id],
        viewonly=True,
        order_by=lambda: LegalHold.id.desc(),
    )

    # --- ReferralSource -----------------------------------------------------------------
    @property
    def survivor_age_group(self) -> AgeGroup:
        return self.age_group

    @property
    def survivor_sex(self) -> Sex:
        return self.sex

    @property
    def survivor_area(self) -> Area | None:
        return self.area

    # As a referral source on its own, a case stands for its latest incident; a referral
    # about another incident goes through ``regarding(incident)``.
    @property
    def incident_type_value(self) -> str | None:
        latest = self.latest_incident
        return latest.incident_type.value if latest else None

    def hours_since_incident(self, now: datetime) -> float | None:
        return _hours_since(self.latest_incident, now)

    @property
    def incident_public_id(self) -> str | None:
        latest = self.latest_incident
        return latest.public_id if latest else None

    @property
    def latest_incident(self) -> Incident | None:
        """The incident that happened last (the most recently recorded on a tie)."""
        return latest_of(self.incidents)

    def incident_by_public_id(self, public_id: str) -> Incident | None:
        return next((i for i in self.incidents if i.public_id == public_id), None)

    def regarding(self, incident: Incident | None) -> CaseIncident:
        """The case as a referral source for a referral about ``incident`` (None: about
        no one incident)."""
        return CaseIncident(self, incident)

    def open_clinical_windows(
        self, now: datetime, *, care_arranged: Collection[str] = ()
    ) -> list[tuple[Incident, ClinicalWindow]]:
        """R8: every window open now, over every incident of the case but those whose
        health care is arranged (their public ids in ``care_arranged``), closing first
        first."""
        return open_windows_of(self.incidents, now, care_arranged)

    @property
    def is_child(self) -> bool:
        return self.age_group.is_child

    def shared_field_value(self, name: str) -> str | None:
        if name == "name":
            return self.name
        if name == "contact":
            return self.contact
        if name == "safe_contact":
            return self.safe_contact
        if name == "incident_type":
            return self.incident_type_value
        if name == "disability":
            return "yes" if self.has_disability else "no"
        if name == "displacement_status":
            return self.displacement_status.value
        return None

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    def assigned_user_ids(self) -> set[int]:
        return {a.user_id for a in self.assignments}


class IncidentFacts(Protocol):
    """What a case's incidents must tell for the rules below: a mapped Incident, or an
    incident read as a list's line (cases.services.IncidentLine)."""

    @property
    def public_id(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def incident_at(self) -> datetime: ...
    def clinical_windows(self) -> list[ClinicalWindow]: ...


IncidentT = TypeVar("IncidentT", bound=IncidentFacts)


def latest_of(incidents: Sequence[IncidentT]) -> IncidentT | None:
    """The incident that happened last (the most recently recorded on a tie)."""
    if not incidents:
        return None
    return max(incidents, key=lambda i: (i.incident_at, i.number))


def open_windows_of(
    incidents: Iterable[IncidentT], now: datetime, care_arranged: Collection[str]
) -> list[tuple[IncidentT, ClinicalWindow]]:
    """R8: every window open now over these incidents but those whose health care is
    arranged (public ids in ``care_arranged``), closing first first."""
    found = [
        (incident, window)
        for incident in incidents
        if incident.public_id not in care_arranged
        for window in incident.clinical_windows()
        if window.is_open(now)
    ]
    return sorted(found, key=lambda pair: pair[1].closes_at)


def _hours_since(incident: Incident | None, now: datetime) -> float | None:
    if incident is None:
        return None
    return (now - incident.incident_at).total_seconds() / 3600


class CaseIncident:
    """A case seen by the referral engine for a referral about one of its incidents: the
    incident's type and time decide the pathway's urgency (R8) and the referral names
    it. Everything else is the case's."""

    source_kind = SourceKind.GBV_CASE

    def __init__(self, case: Case, incident: Incident | None) -> None:
        if incident is not None and incident.case_id != case.id:
            raise ValueError("the incident belongs to another case")
        self.case = case
        self.incident = incident

    @property
    def public_id(self) -> str:
        return self.case.public_id

    @property
    def organisation_id(self) -> int:
        return self.case.organisation_id

    @property
    def survivor_code(self) -> str:
        return self.case.survivor_code

    @property
    def survivor_age_group(self) -> AgeGroup:
        return self.case.age_group

    @property
    def survivor_sex(self) -> Sex:
        return self.case.sex

    @property
    def survivor_area(self) -> Area | None:
        return self.case.area

    @property
    def incident_type_value(self) -> str | None:
        return self.incident.incident_type.value if self.incident else None

    @property
    def incident_public_id(self) -> str | None:
        return self.incident.public_id if self.incident else None

    def hours_since_incident(self, now: datetime) -> float | None:
        return _hours_since(self.incident, now)

    def shared_field_value(self, name: str) -> str | None:
        if name == "incident_type":
            return self.incident_type_value
        return self.case.shared_field_value(name)


class CaseAssignment(Base):
    __tablename__ = "case_assignments"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship(lazy="joined")


class Incident(PublicIdMixin, TimestampMixin, Base):
    """R7: the type follows from the ordered GBVIMS questions; flags are derived."""

    __tablename__ = "incidents"
    __data_key_owners__ = (DataKeyOwner("case", via="case"),)
    # also the index of a case's incidents (case_id leads)
    __table_args__ = (
        UniqueConstraint("case_id", "number", name="uq_incidents_case_number"),
        # the inbox finds incidents whose clinical windows are still open by their time,
        # from this index alone on PostgreSQL (it carries what the search reads)
        Index(
            "ix_incidents_incident_at",
            "incident_at",
            "case_id",
            postgresql_include=["incident_type", "public_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # 1, 2, ... within the case, in the order the incidents were recorded
    number: Mapped[int] = mapped_column(Integer, default=1)
    # the answers to the decision questions, in order
    penetration: Mapped[bool] = mapped_column(Boolean)
    unwanted_sexual_contact: Mapped[bool] = mapped_column(Boolean)
    physical_assault: Mapped[bool] = mapped_column(Boolean)
    forced_marriage: Mapped[bool] = mapped_column(Boolean)
    denial_of_resources: Mapped[bool] = mapped_column(Boolean)
    psychological_abuse: Mapped[bool] = mapped_column(Boolean)
    incident_type: Mapped[IncidentType] = mapped_column(enum_type(IncidentType), index=True)

    goods_or_money_exchanged: Mapped[bool] = mapped_column(Boolean, default=False)
    abduction: Mapped[bool] = mapped_column(Boolean, default=False)
    previously_reported: Mapped[PreviouslyReported] = mapped_column(
        enum_type(PreviouslyReported), default=PreviouslyReported.NO
    )
    perpetrator_count: Mapped[int] = mapped_column(Integer, default=1)
    perpetrator_sex: Mapped[Sex | None] = mapped_column(enum_type(Sex))  # None: unknown
    perpetrator_age_group: Mapped[PerpetratorAgeGroup] = mapped_column(
        enum_type(PerpetratorAgeGroup)
    )
    perpetrator_relationship: Mapped[PerpetratorRelationship] = mapped_column(
        enum_type(PerpetratorRelationship)
    )

    incident_at: Mapped[datetime] = mapped_column(UTCDateTime)
    incident_time_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    time_of_day: Mapped[TimeOfDay] = mapped_column(enum_type(TimeOfDay))
    # A code of the country-adapted location-type list.
    location_type: Mapped[str] = mapped_column(String(40))
    reported_on: Mapped[date] = mapped_column(Date)
    reporting_delay: Mapped[ReportingDelay] = mapped_column(enum_type(ReportingDelay))

    # GBVIMS intake. The survivor's age at the incident (None: unknown, the case's age
    # group decides the child status); where it happened (an area of the directory).
    survivor_age: Mapped[int | None] = mapped_column(Integer)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    displacement_stage: Mapped[DisplacementStage | None] = mapped_column(
        enum_type(DisplacementStage)
    )
    harmful_practice: Mapped[HarmfulPractice | None] = mapped_column(enum_type(HarmfulPractice))
    # None with abduction true: abducted, type not recorded (recorded before it was asked)
    abduction_type: Mapped[AbductionType | None] = mapped_column(enum_type(AbductionType))
    previous_incidents: Mapped[bool | None] = mapped_column(Boolean)
    wants_legal_action: Mapped[LegalAction | None] = mapped_column(enum_type(LegalAction))
    # The Incident Recorder's answer per sector (ANSWER_SECTORS) when no referral record
    # says "referred"; stored as "key=answer" pairs, comma-separated.
    sector_answers: Mapped[str] = mapped_column(String(300), default="", server_default="")

    # R7: derived by the service from the answers and the case, never typed.
    child_sexual_abuse: Mapped[bool] = mapped_column(Boolean, default=False)
    early_marriage: Mapped[bool] = mapped_column(Boolean, default=False)
    possible_sexual_exploitation: Mapped[bool] = mapped_column(Boolean, default=False)
    intimate_partner_violence: Mapped[bool] = mapped_column(Boolean, default=False)
    # (server defaults: rows written by bulk loaders that predate them stay valid)
    possible_sexual_slavery: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    harmful_traditional_practice: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    case: Mapped[Case] = relationship(back_populates="incidents")
    area: Mapped[Area | None] = relationship()
    perpetrators: Mapped[list[Perpetrator]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Perpetrator.position"
    )

    def clinical_windows(self) -> list[ClinicalWindow]:
        """R8: the windows of care counted from this incident."""
        return clinical_windows(self.incident_type.value, self.incident_at)

    @property
    def survivor_child(self) -> bool:
        """Child status at the incident: from the age then, else the case's age group."""
        if self.survivor_age is not None:
            return self.survivor_age < 18
        return self.case.is_child

    @property
    def primary_perpetrators(self) -> list[Perpetrator]:
        return [p for p in self.perpetrators if p.primary]

    def answers_by_sector(self) -> dict[str, ReferralAnswer]:
        pairs = (item.partition("=") for item in self.sector_answers.split(",") if item)
        return {
            key: ReferralAnswer(value)
            for key, _eq, value in pairs
            if key in ANSWER_SECTORS and value in ReferralAnswer.__members__.values()
        }


class Perpetrator(Base):
    """One alleged perpetrator (or group) of an incident, in the GBVIMS terms."""

    __tablename__ = "incident_perpetrators"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=1)
    primary: Mapped[bool] = mapped_column(Boolean, default=True)
    sex: Mapped[PerpetratorSex] = mapped_column(
        enum_type(PerpetratorSex), default=PerpetratorSex.UNKNOWN
    )
    age_band: Mapped[AgeBand] = mapped_column(enum_type(AgeBand), default=AgeBand.UNKNOWN)
    # None: not recorded (an incident recorded before the GBVIMS list was asked)
    relation: Mapped[GbvimsRelationship | None] = mapped_column(enum_type(GbvimsRelationship))
    # A code of the country-adapted occupation list.
    occupation: Mapped[str | None] = mapped_column(String(40))
    previous_incident: Mapped[bool | None] = mapped_column(Boolean)

    incident: Mapped[Incident] = relationship(back_populates="perpetrators")


class TransferState(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# A case moves to another organisation only with the survivor's consent: the sending
# side proposes, the receiving organisation's supervisor accepts or declines; the sender
# may withdraw the proposal (withdrawing the consent does) until it is answered.
TRANSFER_WORKFLOW: TransitionTable[TransferState] = TransitionTable.build(
    "case transfer",
    {
        TransferState.PROPOSED: [
            TransferState.ACCEPTED,
            TransferState.DECLINED,
            TransferState.WITHDRAWN,
        ],
    },
)


class CaseTransfer(PublicIdMixin, TimestampMixin, Base):
    """A proposal to hand a case to another organisation (with the survivor's consent, a
    consent record of its own). Until the receiving organisation accepts, its users see
    this request only, never the case."""

    __tablename__ = "case_transfers"
    __data_key_owners__ = (DataKeyOwner("case", via="case"),)
    __table_args__ = (
        # the receiving organisation's queue, oldest first
        Index("ix_case_transfers_to_state", "to_organisation_id", "state", "proposed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    state: Mapped[TransferState] = mapped_column(
        enum_type(TransferState), default=TransferState.PROPOSED
    )
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # for the receiving supervisor: why the case moves (no story, no identifying detail)
    note: Mapped[str | None] = encrypted_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = encrypted_column()  # of a decline or a withdrawal
    new_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship()
    from_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[from_organisation_id], lazy="joined"
    )
    to_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[to_organisation_id], lazy="joined"
    )
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class ActionItem(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "case_action_items"
    __data_key_owners__ = (DataKeyOwner("case", via="case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    need: Mapped[Need] = mapped_column(enum_type(Need))
    goal: Mapped[str | None] = encrypted_column()
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        enum_type(ActionStatus), default=ActionStatus.PLANNED
    )

    case: Mapped[Case] = relationship(back_populates="action_items")


class FollowUp(PublicIdMixin, Base):
    __tablename__ = "case_follow_ups"
    __data_key_owners__ = (DataKeyOwner("case", via="case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = encrypted_column()

    case: Mapped[Case] = relationship(back_populates="follow_ups")
    author: Mapped[User] = relationship(lazy="joined")
