"""Human, translatable names for the referral engine's values."""

from __future__ import annotations

from referral.directory.labels import SECTOR_LABELS
from referral.messages import lazy_gettext as _l
from referral.referrals.models import (
    CaregiverRelationship,
    ConsentKind,
    Priority,
    ReferralState,
)

PRIORITY_LABELS = {
    Priority.EMERGENCY: _l("Emergency (answer within 24 h)"),
    Priority.URGENT: _l("Urgent (answer within 72 h)"),
    Priority.ROUTINE: _l("Routine (answer within 2 weeks)"),
}
PRIORITY_SHORT = {
    Priority.EMERGENCY: _l("Emergency"),
    Priority.URGENT: _l("Urgent"),
    Priority.ROUTINE: _l("Routine"),
}
STATE_LABELS = {
    ReferralState.DRAFT: _l("Draft"),
    ReferralState.SENT: _l("Awaiting answer"),
    ReferralState.ACCEPTED: _l("Accepted"),
    ReferralState.DECLINED: _l("Declined"),
    ReferralState.COMPLETED: _l("Service provided"),
    ReferralState.CLOSED: _l("Closed, not completed"),
    ReferralState.WITHDRAWN: _l("Withdrawn"),
}
# A move into each state, as the referral's history tells it.
EVENT_LABELS = {
    ReferralState.DRAFT: _l("Drafted"),
    ReferralState.SENT: _l("Sent"),
    ReferralState.ACCEPTED: _l("Accepted"),
    ReferralState.DECLINED: _l("Declined"),
    ReferralState.COMPLETED: _l("Service provided"),
    ReferralState.CLOSED: _l("Closed, not completed"),
    ReferralState.WITHDRAWN: _l("Withdrawn"),
}
# The CSS class of each state: a word plus a colour.
STATE_CLASSES = {
    ReferralState.DRAFT: "off",
    ReferralState.SENT: "warn",
    ReferralState.ACCEPTED: "ok",
    ReferralState.DECLINED: "danger",
    ReferralState.COMPLETED: "ok",
    ReferralState.CLOSED: "off",
    ReferralState.WITHDRAWN: "off",
}
NEED_LABELS = SECTOR_LABELS
CONSENT_KIND_LABELS = {
    ConsentKind.SERVICES: _l("Consent to case-management services"),
    ConsentKind.REFERRAL: _l("Consent to a referral"),
    ConsentKind.STATISTICS: _l("Consent to anonymous statistics"),
    ConsentKind.TRANSFER: _l("Consent to a case transfer"),
}
CAREGIVER_LABELS = {
    CaregiverRelationship.MOTHER: _l("Mother"),
    CaregiverRelationship.FATHER: _l("Father"),
    CaregiverRelationship.OTHER_RELATIVE: _l("Other relative"),
    CaregiverRelationship.LEGAL_GUARDIAN: _l("Legal guardian"),
    CaregiverRelationship.FOSTER_CARER: _l("Foster carer"),
    CaregiverRelationship.OTHER: _l("Other trusted adult"),
}
SHARED_FIELD_LABELS = {
    "name": _l("Survivor's name"),
    "contact": _l("Contact details"),
    "safe_contact": _l("Safe-contact instructions"),
    "incident_type": _l("Incident type"),
    "disability": _l("Disability"),
    "displacement_status": _l("Displacement status"),
}
