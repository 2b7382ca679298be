"""Human, translatable names for the case workflow's values."""

from __future__ import annotations

from referral.cases.models import (
    AbductionType,
    ActionStatus,
    AgeBand,
    CaseStage,
    ClosureReason,
    DisabilityType,
    DisplacementStage,
    DisplacementStatus,
    GbvimsRelationship,
    HarmfulPractice,
    IncidentType,
    LegalAction,
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
    TransferState,
)
from referral.messages import lazy_gettext as _l

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
    DisplacementStatus.FOREIGN_NATIONAL: _l("Foreign national"),
    DisplacementStatus.STATELESS: _l("Stateless person"),
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


# --- the GBVIMS intake data dictionary ----------------------------------------------------

MARITAL_LABELS = {
    MaritalStatus.SINGLE: _l("Single"),
    MaritalStatus.MARRIED_COHABITING: _l("Married or cohabiting"),
    MaritalStatus.DIVORCED_SEPARATED: _l("Divorced or separated"),
    MaritalStatus.WIDOWED: _l("Widowed"),
}
DISABILITY_LABELS = {
    DisabilityType.NONE: _l("No disability"),
    DisabilityType.MENTAL: _l("Mental disability"),
    DisabilityType.PHYSICAL: _l("Physical disability"),
    DisabilityType.BOTH: _l("Both mental and physical disability"),
}
SEPARATION_LABELS = {
    SeparationStatus.NO: _l("No"),
    SeparationStatus.UNACCOMPANIED: _l("Unaccompanied child"),
    SeparationStatus.SEPARATED: _l("Separated child"),
    SeparationStatus.OTHER_VULNERABLE: _l("Other vulnerable child"),
}
DISPLACEMENT_STAGE_LABELS = {
    DisplacementStage.NOT_DISPLACED: _l("Not displaced / home community"),
    DisplacementStage.PRE_DISPLACEMENT: _l("Before displacement"),
    DisplacementStage.DURING_FLIGHT: _l("During flight"),
    DisplacementStage.DURING_REFUGE: _l("During refuge"),
    DisplacementStage.DURING_RETURN: _l("During return or transit"),
    DisplacementStage.POST_DISPLACEMENT: _l("After displacement"),
}
HARMFUL_PRACTICE_LABELS = {
    HarmfulPractice.NO: _l("No"),
    HarmfulPractice.FGM_C: _l("Female genital mutilation or cutting"),
    HarmfulPractice.CHILD_MARRIAGE: _l("Child marriage"),
    HarmfulPractice.HONOUR_CRIME: _l("Honour killing or maiming"),
    HarmfulPractice.WIDOW_INHERITANCE: _l("Widow cleansing or inheritance"),
    HarmfulPractice.DENIAL_OF_EDUCATION: _l("Denial of education"),
    HarmfulPractice.OTHER: _l("Other harmful traditional practice"),
}
ABDUCTION_LABELS = {
    AbductionType.NONE: _l("None"),
    AbductionType.FORCED_CONSCRIPTION: _l("Forced conscription"),
    AbductionType.TRAFFICKED: _l("Trafficked"),
    AbductionType.OTHER: _l("Other abduction or kidnapping"),
}
LEGAL_ACTION_LABELS = {
    LegalAction.YES: _l("Yes"),
    LegalAction.NO: _l("No"),
    LegalAction.UNDECIDED: _l("Undecided at the time of report"),
}
REFERRAL_ANSWER_LABELS = {
    ReferralAnswer.REFERRED: _l("Referred"),
    ReferralAnswer.OWN_AGENCY: _l("Service provided by your agency"),
    ReferralAnswer.ALREADY_RECEIVED: _l("Already received from another agency"),
    ReferralAnswer.NOT_APPLICABLE: _l("Not applicable"),
    ReferralAnswer.DECLINED: _l("Declined by the survivor"),
    ReferralAnswer.UNAVAILABLE: _l("Service unavailable"),
}
ANSWER_SECTOR_LABELS = {
    "shelter": _l("Safe house or shelter"),
    "health": _l("Health or medical services"),
    "psychosocial": _l("Psychosocial services"),
    "legal": _l("Legal assistance services"),
    "police": _l("Police or other security actor"),
    "livelihoods": _l("Livelihoods programme"),
    "child_protection": _l("Child protection or education services"),
}
PERPETRATOR_SEX_LABELS = {
    PerpetratorSex.FEMALE: _l("Female"),
    PerpetratorSex.MALE: _l("Male"),
    PerpetratorSex.BOTH: _l("Both (a group of women and men)"),
    PerpetratorSex.UNKNOWN: _l("Unknown"),
}
AGE_BAND_LABELS = {
    AgeBand.AGE_0_11: _l("0 to 11"),
    AgeBand.AGE_12_17: _l("12 to 17"),
    AgeBand.AGE_18_25: _l("18 to 25"),
    AgeBand.AGE_26_40: _l("26 to 40"),
    AgeBand.AGE_41_60: _l("41 to 60"),
    AgeBand.AGE_61_PLUS: _l("61 and older"),
    AgeBand.UNKNOWN: _l("Unknown"),
}
GBVIMS_RELATIONSHIP_LABELS = {
    GbvimsRelationship.INTIMATE_PARTNER: _l("Intimate partner or former partner"),
    GbvimsRelationship.PRIMARY_CAREGIVER: _l("Primary caregiver"),
    GbvimsRelationship.FAMILY_OTHER: _l("Family other than spouse or caregiver"),
    GbvimsRelationship.SUPERVISOR_EMPLOYER: _l("Supervisor or employer"),
    GbvimsRelationship.SCHOOLMATE: _l("Schoolmate"),
    GbvimsRelationship.TEACHER: _l("Teacher or school official"),
    GbvimsRelationship.SERVICE_PROVIDER: _l("Service provider"),
    GbvimsRelationship.COTENANT_LANDLORD: _l("Cotenant, housemate or landlord"),
    GbvimsRelationship.OTHER_DISPLACED: _l("Other refugee, IDP or returnee"),
    GbvimsRelationship.COMMUNITY_MEMBER: _l("Other resident community member"),
    GbvimsRelationship.OTHER: _l("Other"),
    GbvimsRelationship.NO_RELATION: _l("No relation"),
}
