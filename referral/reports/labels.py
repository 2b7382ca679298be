"""Translatable names of the categories statistics are cut by."""

from __future__ import annotations

from referral.cases.models import IncidentType, ReportingDelay
from referral.messages import lazy_gettext as _l
from referral.referrals.models import ReferralState

GBV_TYPES: tuple[IncidentType, ...] = (
    IncidentType.RAPE,
    IncidentType.SEXUAL_ASSAULT,
    IncidentType.PHYSICAL_ASSAULT,
    IncidentType.FORCED_MARRIAGE,
    IncidentType.DENIAL_OF_RESOURCES,
    IncidentType.PSYCHOLOGICAL_ABUSE,
)

DELAY_LABELS = {
    ReportingDelay.DAYS_0_3: _l("0-3 days"),
    ReportingDelay.DAYS_4_5: _l("4-5 days"),
    ReportingDelay.DAYS_6_14: _l("6-14 days"),
    ReportingDelay.WEEKS_2_TO_MONTH: _l("2 weeks to 1 month"),
    ReportingDelay.OVER_MONTH: _l("More than 1 month"),
}

CONTEXT_LABELS = {
    "child_sexual_abuse": _l("Child sexual abuse"),
    "early_marriage": _l("Early marriage"),
    "possible_sexual_exploitation": _l("Possible sexual exploitation"),
    "intimate_partner_violence": _l("Intimate partner violence"),
    "possible_sexual_slavery": _l("Possible sexual slavery"),
    "harmful_traditional_practice": _l("Harmful traditional practice"),
}

# Sent referrals only: drafts are not referrals yet.
REFERRAL_STATES: tuple[ReferralState, ...] = (
    ReferralState.SENT,
    ReferralState.ACCEPTED,
    ReferralState.DECLINED,
    ReferralState.COMPLETED,
    ReferralState.CLOSED,
    ReferralState.WITHDRAWN,
)

REFERRAL_STATE_LABELS = {
    ReferralState.DRAFT: _l("Draft"),
    ReferralState.SENT: _l("Awaiting answer"),
    ReferralState.ACCEPTED: _l("Accepted"),
    ReferralState.DECLINED: _l("Declined"),
    ReferralState.COMPLETED: _l("Completed"),
    ReferralState.CLOSED: _l("Closed, not completed"),
    ReferralState.WITHDRAWN: _l("Withdrawn"),
}

GRANULARITY_LABELS = {
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
}
