"""The GBVIMS intake data dictionary: the survivor's and the incident's GBVIMS answers,
checked, and what follows from them (the yes/no summaries kept for statistics, the
primary perpetrator's summary, the sector answers).

The GBVIMS core lists are enumerations in ``models``; the country-adapted ones are codes
checked against ``referral.admin.lists``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from babel import Locale
from flask_babel import get_locale

from referral.admin import lists
from referral.admin.lists import CountryList
from referral.directory.models import Sex
from referral.messages import lazy_gettext as _l
from referral.workflow import RuleError

from .models import (
    ANSWER_SECTORS,
    AgeBand,
    DisabilityType,
    GbvimsRelationship,
    Incident,
    Perpetrator,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PerpetratorSex,
    ReferralAnswer,
    SeparationStatus,
)

MAX_PERPETRATORS = 10

# The summary relationship kept on the incident (statistics, the IPV flag) for each
# GBVIMS relationship of the primary perpetrator, and back for incidents recorded before.
SUMMARY_RELATIONSHIP = {
    GbvimsRelationship.INTIMATE_PARTNER: PerpetratorRelationship.INTIMATE_PARTNER,
    GbvimsRelationship.PRIMARY_CAREGIVER: PerpetratorRelationship.CAREGIVER,
    GbvimsRelationship.FAMILY_OTHER: PerpetratorRelationship.FAMILY_MEMBER,
    GbvimsRelationship.SUPERVISOR_EMPLOYER: PerpetratorRelationship.TEACHER_OR_SUPERVISOR,
    GbvimsRelationship.SCHOOLMATE: PerpetratorRelationship.COMMUNITY_MEMBER,
    GbvimsRelationship.TEACHER: PerpetratorRelationship.TEACHER_OR_SUPERVISOR,
    GbvimsRelationship.SERVICE_PROVIDER: PerpetratorRelationship.AID_WORKER,
    GbvimsRelationship.COTENANT_LANDLORD: PerpetratorRelationship.COMMUNITY_MEMBER,
    GbvimsRelationship.OTHER_DISPLACED: PerpetratorRelationship.COMMUNITY_MEMBER,
    GbvimsRelationship.COMMUNITY_MEMBER: PerpetratorRelationship.COMMUNITY_MEMBER,
    GbvimsRelationship.OTHER: PerpetratorRelationship.OTHER,
    GbvimsRelationship.NO_RELATION: PerpetratorRelationship.STRANGER,
}
# An incident recorded with the summary only: the GBVIMS relationship it surely is.
FROM_SUMMARY = {
    PerpetratorRelationship.INTIMATE_PARTNER: GbvimsRelationship.INTIMATE_PARTNER,
    PerpetratorRelationship.CAREGIVER: GbvimsRelationship.PRIMARY_CAREGIVER,
    PerpetratorRelationship.FAMILY_MEMBER: GbvimsRelationship.FAMILY_OTHER,
    PerpetratorRelationship.AID_WORKER: GbvimsRelationship.SERVICE_PROVIDER,
    PerpetratorRelationship.COMMUNITY_MEMBER: GbvimsRelationship.COMMUNITY_MEMBER,
    PerpetratorRelationship.STRANGER: GbvimsRelationship.NO_RELATION,
    PerpetratorRelationship.OTHER: GbvimsRelationship.OTHER,
}
CHILD_BANDS = (AgeBand.AGE_0_11, AgeBand.AGE_12_17)


@lru_cache(maxsize=8)
def _territories(locale: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale).territories
    found = [(code, name) for code, name in names.items() if len(code) == 2 and code.isalpha()]
    return tuple(sorted(found, key=lambda pair: pair[1]))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries, named in the reader's language."""
    return list(_territories(str(get_locale() or "en")))


def country_name(code: str | None, locale: str | None = None) -> str | None:
    """The country's name in ``locale`` (default: the reader's language)."""
    if not code:
        return None
    return dict(_territories(locale or str(get_locale() or "en"))).get(code)


def check_country(code: str | None) -> None:
    if code and code not in dict(_territories("en")):
        raise RuleError("country_of_origin", _l("Choose a country of the list."))


def disability_yes(kind: DisabilityType | None, fallback: bool) -> bool:
    return fallback if kind is None else kind is not DisabilityType.NONE


def separated_yes(status: SeparationStatus | None, fallback: bool) -> bool:
    return fallback if status is None else status is not SeparationStatus.NO


@dataclass(frozen=True)
class PerpetratorData:
    primary: bool = True
    sex: PerpetratorSex = PerpetratorSex.UNKNOWN
    age_band: AgeBand = AgeBand.UNKNOWN
    relation: GbvimsRelationship | None = None
    occupation: str | None = None  # a code of the country-adapted list
    previous_incident: bool | None = None


def check_perpetrators(given: Sequence[PerpetratorData], incident: Incident | None) -> None:
    """Before anything changes: the number, and occupations of the country list (an
    incident keeps an occupation no longer offered)."""
    if len(given) > MAX_PERPETRATORS:
        raise RuleError("perpetrator_count", _l("At most %(n)d perpetrators.", n=MAX_PERPETRATORS))
    kept = {p.occupation for p in incident.perpetrators} if incident is not None else set()
    for data in given:
        if data.occupation not in kept:
            lists.check_code(CountryList.OCCUPATION, data.occupation, "perpetrators")


def set_perpetrators(incident: Incident, given: Sequence[PerpetratorData]) -> None:
    """Replace the incident's perpetrators; at least one is primary (the first, when none
    was marked); the incident's summary columns follow the first primary perpetrator."""
    if given and not any(p.primary for p in given):
        given = [replace(given[0], primary=True), *given[1:]]
    incident.perpetrators[:] = [
        Perpetrator(
            position=position,
            primary=data.primary,
            sex=data.sex,
            age_band=data.age_band,
            relation=data.relation,
            occupation=data.occupation,
            previous_incident=data.previous_incident,
        )
        for position, data in enumerate(given, start=1)
    ]
    primary = next((p for p in incident.perpetrators if p.primary), None)
    if primary is None:
        return
    incident.perpetrator_sex = {
        PerpetratorSex.FEMALE: Sex.FEMALE,
        PerpetratorSex.MALE: Sex.MALE,
    }.get(primary.sex)
    if primary.age_band is AgeBand.UNKNOWN:
        incident.perpetrator_age_group = PerpetratorAgeGroup.UNKNOWN
    elif primary.age_band in CHILD_BANDS:
        incident.perpetrator_age_group = PerpetratorAgeGroup.UNDER_18
    else:
        incident.perpetrator_age_group = PerpetratorAgeGroup.ADULT
    incident.perpetrator_relationship = (
        SUMMARY_RELATIONSHIP[primary.relation]
        if primary.relation is not None
        else PerpetratorRelationship.UNKNOWN
    )


def perpetrator_from_summary(incident: Incident) -> PerpetratorData:
    """The one primary perpetrator an incident recorded with the summary only stands for."""
    return PerpetratorData(
        primary=True,
        sex={Sex.FEMALE: PerpetratorSex.FEMALE, Sex.MALE: PerpetratorSex.MALE}.get(
            incident.perpetrator_sex, PerpetratorSex.UNKNOWN
        )
        if incident.perpetrator_sex is not None
        else PerpetratorSex.UNKNOWN,
        relation=FROM_SUMMARY.get(incident.perpetrator_relationship),
    )


def encode_answers(answers: dict[str, ReferralAnswer]) -> str:
    unknown = set(answers) - set(ANSWER_SECTORS)
    if unknown:
        raise RuleError("sector_answers", _l("Unknown service sector."))
    return ",".join(f"{key}={answers[key].value}" for key in ANSWER_SECTORS if key in answers)
