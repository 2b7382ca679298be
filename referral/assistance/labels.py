"""Translatable names for victim assistance and the referral statuses it shows."""

from __future__ import annotations

from referral.assistance.models import AssistanceNeed, AssistanceState
from referral.messages import lazy_gettext as _l
from referral.referrals.models import Priority, ReferralState

NEED_LABELS = {
    AssistanceNeed.SAFETY_PROTECTION: _l("Safety and protection"),
    AssistanceNeed.MEDICAL: _l("Medical care"),
    AssistanceNeed.PSYCHOSOCIAL: _l("Psychosocial support"),
    AssistanceNeed.LEGAL: _l("Legal help"),
    AssistanceNeed.EDUCATION: _l("Education"),
    AssistanceNeed.LIVELIHOOD_MATERIAL: _l("Livelihood and material assistance"),
    AssistanceNeed.CHILD_BORN_OF_SEA: _l("Support for a child born of SEA"),
}

STATE_LABELS = {AssistanceState.OPEN: _l("Open"), AssistanceState.CLOSED: _l("Closed")}

PRIORITY_LABELS = {
    Priority.EMERGENCY: _l("Emergency (24 h)"),
    Priority.URGENT: _l("Urgent (72 h)"),
    Priority.ROUTINE: _l("Routine (2 weeks)"),
}

REFERRAL_STATE_LABELS = {
    ReferralState.DRAFT: _l("Draft"),
    ReferralState.SENT: _l("Sent, awaiting answer"),
    ReferralState.ACCEPTED: _l("Accepted"),
    ReferralState.DECLINED: _l("Declined"),
    ReferralState.COMPLETED: _l("Service provided"),
    ReferralState.CLOSED: _l("Closed, not completed"),
    ReferralState.WITHDRAWN: _l("Withdrawn"),
}

REFERRAL_STATE_STATUS = {
    ReferralState.DRAFT: "off",
    ReferralState.SENT: "warn",
    ReferralState.ACCEPTED: "ok",
    ReferralState.DECLINED: "danger",
    ReferralState.COMPLETED: "ok",
    ReferralState.CLOSED: "off",
    ReferralState.WITHDRAWN: "off",
}
