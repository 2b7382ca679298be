"""Translatable names of the PSEA enumerations."""

from __future__ import annotations

from referral.messages import lazy_gettext as _l
from referral.psea.models import (
    AllegationState,
    Category,
    Channel,
    EntityType,
    Outcome,
    PersonnelCategory,
    SurvivorAgeGroup,
    SurvivorSex,
)

STATE_LABELS = {
    AllegationState.RECEIVED: _l("Received, to route"),
    AllegationState.MANUAL_ROUTING: _l("Waiting for manual routing"),
    AllegationState.ROUTED: _l("Routed, awaiting acknowledgement"),
    AllegationState.ACKNOWLEDGED: _l("Acknowledged"),
    AllegationState.IN_PROGRESS: _l("Outcome reported (open)"),
    AllegationState.CLOSED: _l("Closed"),
}

# CSS status class per state: a word plus a colour.
STATE_STATUS = {
    AllegationState.RECEIVED: "warn",
    AllegationState.MANUAL_ROUTING: "warn",
    AllegationState.ROUTED: "warn",
    AllegationState.ACKNOWLEDGED: "ok",
    AllegationState.IN_PROGRESS: "ok",
    AllegationState.CLOSED: "off",
}

CHANNEL_LABELS = {
    Channel.IN_PERSON: _l("In person"),
    Channel.HOTLINE: _l("Hotline or phone"),
    Channel.EMAIL: _l("E-mail"),
    Channel.COMPLAINT_BOX: _l("Complaint box"),
    Channel.COMMUNITY_MECHANISM: _l("Community-based complaint mechanism"),
    Channel.OTHER_ORGANISATION: _l("Through another organisation"),
    Channel.OTHER: _l("Other"),
}

CATEGORY_LABELS = {
    Category.SEXUAL_EXPLOITATION: _l("Sexual exploitation"),
    Category.SEXUAL_ABUSE: _l("Sexual abuse"),
    Category.SEXUAL_ABUSE_OF_A_CHILD: _l("Sexual abuse of a child"),
    Category.UNKNOWN: _l("Unknown"),
}

REPORTABLE_CATEGORY_LABELS = {
    c: label for c, label in CATEGORY_LABELS.items() if c is not Category.SEXUAL_ABUSE_OF_A_CHILD
}

ENTITY_TYPE_LABELS = {
    EntityType.UNKNOWN: _l("Unknown"),
    EntityType.UN_AGENCY: _l("UN agency"),
    EntityType.NGO: _l("NGO"),
    EntityType.GOVERNMENT: _l("Government"),
    EntityType.PEACEKEEPING_MISSION: _l("Peacekeeping mission"),
    EntityType.NON_UN_FORCE: _l("Non-UN force"),
    EntityType.OTHER: _l("Other"),
}

PERSONNEL_LABELS = {
    PersonnelCategory.UNKNOWN: _l("Unknown"),
    PersonnelCategory.STAFF: _l("Staff member"),
    PersonnelCategory.VOLUNTEER: _l("Volunteer"),
    PersonnelCategory.CONTRACTOR: _l("Contractor or consultant"),
    PersonnelCategory.IMPLEMENTING_PARTNER: _l("Implementing partner personnel"),
    PersonnelCategory.MILITARY: _l("Military personnel"),
    PersonnelCategory.POLICE: _l("Police personnel"),
    PersonnelCategory.OTHER: _l("Other"),
}

SURVIVOR_AGE_LABELS = {
    SurvivorAgeGroup.UNDER_18: _l("Under 18"),
    SurvivorAgeGroup.ADULT: _l("Adult"),
    SurvivorAgeGroup.UNKNOWN: _l("Age unknown"),
}

SURVIVOR_SEX_LABELS = {
    SurvivorSex.FEMALE: _l("female"),
    SurvivorSex.MALE: _l("male"),
    SurvivorSex.UNKNOWN: _l("sex unknown"),
}

OUTCOME_LABELS = {
    Outcome.REFERRED_FOR_INVESTIGATION: _l("Referred for investigation"),
    Outcome.UNDER_INVESTIGATION: _l("Under investigation"),
    Outcome.SUBSTANTIATED: _l("Substantiated"),
    Outcome.UNSUBSTANTIATED: _l("Unsubstantiated"),
    Outcome.CLOSED_OTHER: _l("Closed (other reason)"),
}
