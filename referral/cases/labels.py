"""Human, translatable names for the case workflow's values."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from referral.cases.models import (
    ActionStatus,
    CaseStage,
    ClosureReason,
    DisplacementStatus,
    IncidentType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PreviouslyReported,
    ReportingDelay,
    RiskLevel,
    TimeOfDay,
    TransferState,
)

STAGE_LABELS = {
    CaseStage.ENGAGEMENT: _l("1. Engagement and intake"),
    CaseStage.ASSESSMENT: _l("2. Assessment"),
    CaseStage.ACTION_PLAN: _l("3. Case action plan"),
    CaseStage.IMPLEMENTATION: _l("4. Implementation"),
    CaseStage.FOLLOW_UP: _l("5. Follow-up"),
    CaseStage.CLOSURE_REQUESTED: _l("6. Closure awaiting approval"),
    CaseStage.CLOSED: _l("Closed"),
}
STAGE_CLASSES = {
    CaseStage.ENGAGEMENT: "warn",
    CaseStage.ASSESSMENT: "warn",
    CaseStage.ACTION_PLAN: "warn",
    CaseStage.IMPLEMENTATION: "ok",
    CaseStage.FOLLOW_UP: "ok",
    CaseStage.CLOSURE_REQUESTED: "warn",
    CaseStage.CLOSED: "off",
}
TRANSFER_STATE_LABELS = {
    TransferState.PROPOSED: _l("Proposed, waiting for an answer"),
    TransferState.ACCEPTED: _l("Accepted"),
    TransferState.DECLINED: _l("Declined"),
    TransferState.WITHDRAWN: _l("Withdrawn"),
}
RISK_LABELS = {RiskLevel.LOW: _l("Low"), RiskLevel.MEDIUM: _l("Medium"), RiskLevel.HIGH: _l("High")}
RISK_CLASSES = {RiskLevel.LOW: "ok", RiskLevel.MEDIUM: "warn", RiskLevel.HIGH: "danger"}
DISPLACEMENT_LABELS = {
    DisplacementStatus.RESIDENT: _l("Resident"),
    DisplacementStatus.IDP: _l("Internally displaced"),
    DisplacementStatus.REFUGEE: _l("Refugee"),
    DisplacementStatus.RETURNEE: _l("Returnee"),
    DisplacementStatus.ASYLUM_SEEKER: _l("Asylum seeker"),
    DisplacementStatus.OTHER: _l("Other"),
    DisplacementStatus.UNKNOWN: _l("Unknown"),
}
CLOSURE_LABELS = {
    ClosureReason.NEEDS_MET: _l("Needs met"),
    ClosureReason.SURVIVOR_REQUEST: _l("Survivor asked to close"),
    ClosureReason.LOST_CONTACT: _l("Contact lost"),
    ClosureReason.RELOCATED: _l("Survivor relocated"),
    ClosureReason.TRANSFERRED: _l("Transferred to another organisation"),
    ClosureReason.DECEASED: _l("Survivor deceased"),
    ClosureReason.OTHER: _l("Other (explain)"),
}
INCIDENT_TYPE_LABELS = {
    IncidentType.RAPE: _l("Rape"),
    IncidentType.SEXUAL_ASSAULT: _l("Sexual assault"),
    IncidentType.PHYSICAL_ASSAULT: _l("Physical assault"),
    IncidentType.FORCED_MARRIAGE: _l("Forced marriage"),
    IncidentType.DENIAL_OF_RESOURCES: _l("Denial of resources, opportunities or services"),
    IncidentType.PSYCHOLOGICAL_ABUSE: _l("Psychological / emotional abuse"),
    IncidentType.NON_GBV: _l("Non-GBV"),
}
QUESTION_LABELS = {
    "penetration": _l(
        "1. Was there penetration without consent (vagina, anus or mouth; body part or "
        "object)? Attempted rape is not penetration."
    ),
    "unwanted_sexual_contact": _l(
        "2. Was there unwanted sexual contact without penetration (including attempted rape, "
        "unwanted touching, FGM/C)?"
    ),
    "physical_assault": _l("3. Was there non-sexual physical violence?"),
    "forced_marriage": _l("4. Was the survivor married against her or his will?"),
    "denial_of_resources": _l(
        "5. Was the survivor denied rightful access to resources, livelihoods, education, "
        "health or other services?"
    ),
    "psychological_abuse": _l(
        "6. Was there psychological or emotional abuse (threats, humiliation, isolation, "
        "harassment, intimidation)?"
    ),
}
RELATIONSHIP_LABELS = {
    PerpetratorRelationship.INTIMATE_PARTNER: _l("Current or former intimate partner"),
    PerpetratorRelationship.FAMILY_MEMBER: _l("Family member"),
    PerpetratorRelationship.CAREGIVER: _l("Primary caregiver"),
    PerpetratorRelationship.TEACHER_OR_SUPERVISOR: _l("Teacher or supervisor"),
    PerpetratorRelationship.AID_WORKER: _l("Aid worker"),
    PerpetratorRelationship.SECURITY_OR_ARMED_ACTOR: _l("Security or armed actor"),
    PerpetratorRelationship.COMMUNITY_MEMBER: _l("Community member"),
    PerpetratorRelationship.STRANGER: _l("Stranger"),
    PerpetratorRelationship.OTHER: _l("Other"),
    PerpetratorRelationship.UNKNOWN: _l("Unknown"),
}
PREVIOUSLY_REPORTED_LABELS = {
    PreviouslyReported.NO: _l("No"),
    PreviouslyReported.GBVIMS_ORG: _l("Yes, to an organisation that uses the GBVIMS"),
    PreviouslyReported.NON_GBVIMS_ORG: _l("Yes, to an organisation that does not use the GBVIMS"),
}
PERPETRATOR_AGE_LABELS = {
    PerpetratorAgeGroup.UNDER_18: _l("Under 18"),
    PerpetratorAgeGroup.ADULT: _l("Adult"),
    PerpetratorAgeGroup.UNKNOWN: _l("Unknown"),
}
TIME_OF_DAY_LABELS = {
    TimeOfDay.MORNING: _l("Morning"),
    TimeOfDay.AFTERNOON: _l("Afternoon"),
    TimeOfDay.EVENING_NIGHT: _l("Evening or night"),
    TimeOfDay.UNKNOWN: _l("Unknown"),
}
ACTION_STATUS_LABELS = {
    ActionStatus.PLANNED: _l("Planned"),
    ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Done"),
    ActionStatus.CANCELLED: _l("Cancelled"),
}

# How long after the incident it was reported (GBVIMS bands), as the case page says it.
REPORTING_DELAY_LABELS = {
    ReportingDelay.DAYS_0_3: _l("reported within 3 days"),
    ReportingDelay.DAYS_4_5: _l("reported after 4 to 5 days"),
    ReportingDelay.DAYS_6_14: _l("reported after 6 to 14 days"),
    ReportingDelay.WEEKS_2_TO_MONTH: _l("reported after 2 weeks to 1 month"),
    ReportingDelay.OVER_MONTH: _l("reported after more than 1 month"),
}
