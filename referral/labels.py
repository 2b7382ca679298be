"""Human, translatable names for the values of enumerations shown to users."""

from __future__ import annotations

from referral.db import OrganisationType
from referral.messages import lazy_gettext as _l
from referral.security.policy import Role

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.AUDITOR: _l("Auditor"),
    Role.GBV_COORDINATOR: _l("GBV coordinator"),
    Role.SUPERVISOR: _l("Case management supervisor"),
    Role.CASEWORKER: _l("GBV caseworker"),
    Role.SERVICE_FOCAL_POINT: _l("Service focal point (receives referrals)"),
    Role.PSEA_FOCAL_POINT: _l("PSEA focal point"),
    Role.PSEA_COORDINATOR: _l("PSEA network coordinator"),
    Role.VA_FOCAL_POINT: _l("Victim-assistance focal point"),
}

ORGANISATION_TYPE_LABELS = {
    OrganisationType.UN_AGENCY: _l("UN agency"),
    OrganisationType.INTERNATIONAL_NGO: _l("International NGO"),
    OrganisationType.NATIONAL_NGO: _l("National NGO"),
    OrganisationType.GOVERNMENT: _l("Government"),
    OrganisationType.PEACEKEEPING_MISSION: _l("Peacekeeping mission"),
    OrganisationType.COMMUNITY_BASED: _l("Community-based organisation"),
}
