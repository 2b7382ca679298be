"""Human, translatable names for the directory's enumerations (reused by other features)."""

from __future__ import annotations

from referral.directory.models import AgeGroup, AreaLevel, Cost, Sector, ServiceStatus, Sex
from referral.messages import lazy_gettext as _l

SECTOR_LABELS = {
    Sector.GBV_CASE_MANAGEMENT: _l("GBV case management"),
    Sector.HEALTH: _l("Health / clinical management of rape"),
    Sector.PSYCHOSOCIAL: _l("Psychosocial support"),
    Sector.SAFETY_SECURITY: _l("Safety and security (police or other)"),
    Sector.LEGAL_AID: _l("Legal aid / justice"),
    Sector.SHELTER: _l("Shelter / safe house"),
    Sector.LIVELIHOODS: _l("Livelihoods / economic support"),
    Sector.CHILD_PROTECTION: _l("Child protection"),
    Sector.EDUCATION: _l("Education"),
    Sector.SAFE_SPACE: _l("Women and girls' safe space"),
    Sector.CASH: _l("Cash assistance"),
    Sector.DIGNITY_NFI: _l("Dignity kits / non-food items"),
    Sector.FOOD: _l("Food"),
    Sector.OTHER: _l("Other"),
}

SERVICE_STATUS_LABELS = {
    ServiceStatus.AVAILABLE: _l("Available"),
    ServiceStatus.LIMITED: _l("Limited capacity"),
    ServiceStatus.SUSPENDED: _l("Suspended"),
}

# The CSS class of each status (shown as a word plus a colour).
SERVICE_STATUS_CLASSES = {
    ServiceStatus.AVAILABLE: "ok",
    ServiceStatus.LIMITED: "warn",
    ServiceStatus.SUSPENDED: "off",
}

AGE_GROUP_LABELS = {
    AgeGroup.CHILD: _l("Children 0-11"),
    AgeGroup.ADOLESCENT: _l("Adolescents 12-17"),
    AgeGroup.ADULT: _l("Adults 18-59"),
    AgeGroup.OLDER_ADULT: _l("Older adults 60+"),
}

SEX_LABELS = {Sex.FEMALE: _l("Female"), Sex.MALE: _l("Male"), Sex.OTHER: _l("Other")}

AREA_LEVEL_LABELS = {
    AreaLevel.COUNTRY: _l("Country"),
    AreaLevel.PROVINCE: _l("Province"),
    AreaLevel.DISTRICT: _l("District"),
    AreaLevel.SITE: _l("Camp / site"),
}

COST_LABELS = {Cost.FREE: _l("Free"), Cost.PAID: _l("Paid")}
