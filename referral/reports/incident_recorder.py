"""The GBVIMS Incident Recorder export: an organisation's incidents in the Incident
Recorder's own layout (its 42 columns, in its order, under its headers) and value
vocabulary, so a supervisor can paste them into the organisation's Incident Recorder.

Only the own organisation's incidents of a GBV type whose survivor consented to
anonymous statistics leave, one row per incident. Columns the project withholds for
privacy stay in place, empty; the About sheet says which and why. The INCIDENT ID is the
incident's own random id, so the same incident keeps its id from one export to the next.
Values keep the Incident Recorder's English vocabulary in every language (its menus and
pivot tables recognise those words); headers follow the chosen language.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from referral.admin import lists
from referral.admin.lists import CountryList
from referral.cases.dictionary import country_name
from referral.cases.models import (
    ANSWER_SECTORS,
    AbductionType,
    AgeBand,
    Case,
    DisabilityType,
    DisplacementStage,
    DisplacementStatus,
    GbvimsRelationship,
    HarmfulPractice,
    Incident,
    IncidentType,
    LegalAction,
    MaritalStatus,
    Perpetrator,
    PerpetratorRelationship,
    PerpetratorSex,
    PreviouslyReported,
    ReferralAnswer,
    SeparationStatus,
    TimeOfDay,
)
from referral.db import Organisation
from referral.directory.models import Area, AreaLevel, Sector, Sex
from referral.extensions import db
from referral.formatting import wall_clock
from referral.messages import lazy_gettext as _l
from referral.referrals.models import Referral, ReferralState, SourceKind
from referral.reports.exports import neutralise
from referral.reports.labels import GBV_TYPES
from referral.reports.services import StatsScope, in_area, statistics_consent

LANGUAGES = ("en", "fr", "ar")
DATE_FORMAT = "dd-mmm-yyyy"  # shown as 05-Mar-2026, the Incident Recorder's dates

# The Incident Recorder's columns, in its order: key, then its header in English (exactly
# as the Incident Recorder spells it), French and Arabic.
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("incident_id", "INCIDENT ID", "ID DE L'INCIDENT", "رقم الحادثة"),
    ("survivor_code", "SURVIVOR CODE", "CODE DU/DE LA SURVIVANT(E)", "رمز الناجي/الناجية"),
    (
        "case_manager_code",
        "CASE MANAGER CODE",
        "CODE DU/DE LA GESTIONNAIRE DE CAS",
        "رمز مدير الحالة",
    ),
    ("date_of_interview", "DATE OF INTERVIEW", "DATE DE L'ENTRETIEN", "تاريخ المقابلة"),
    ("date_of_incident", "DATE OF INCIDENT", "DATE DE L'INCIDENT", "تاريخ الحادثة"),
    ("date_of_birth", "DATE OF BIRTH", "DATE DE NAISSANCE", "تاريخ الميلاد"),
    ("sex", "SEX", "SEXE", "الجنس"),
    ("ethnicity", "ETHNICITY", "ETHNIE", "الانتماء العرقي"),
    ("country_of_origin", "COUNTRY OF ORIGIN", "PAYS D'ORIGINE", "بلد المنشأ"),
    (
        "marital_status",
        "CIVIL / MARITAL STATUS",
        "ÉTAT CIVIL / MATRIMONIAL",
        "الحالة المدنية / الزوجية",
    ),
    (
        "displacement_status",
        "DISPLACEMENT STATUS AT REPORT",
        "STATUT DE DÉPLACEMENT AU SIGNALEMENT",
        "وضع النزوح عند الإبلاغ",
    ),
    (
        "disability",
        "PERSON WITH DISABILITY?",
        "PERSONNE EN SITUATION DE HANDICAP ?",
        "شخص ذو إعاقة؟",
    ),
    (
        "unaccompanied_separated",
        "UNACCOMPANIED OR SEPARATED CHILD?",
        "ENFANT NON ACCOMPAGNÉ OU SÉPARÉ ?",
        "طفل غير مصحوب أو منفصل عن ذويه؟",
    ),
    (
        "stage_of_displacement",
        "STAGE OF DISPLACEMENT AT INCIDENT",
        "PHASE DU DÉPLACEMENT LORS DE L'INCIDENT",
        "مرحلة النزوح عند وقوع الحادثة",
    ),
    (
        "time_of_day",
        "INCIDENT TIME OF DAY",
        "MOMENT DE LA JOURNÉE DE L'INCIDENT",
        "وقت وقوع الحادثة",
    ),
    ("location", "INCIDENT LOCATION", "LIEU DE L'INCIDENT", "مكان الحادثة"),
    ("county", "INCIDENT COUNTY", "PROVINCE DE L'INCIDENT", "محافظة الحادثة"),
    ("district", "INCIDENT DISTRICT", "DISTRICT DE L'INCIDENT", "قضاء الحادثة"),
    ("camp_town", "INCIDENT CAMP / TOWN", "CAMP / VILLE DE L'INCIDENT", "مخيم / بلدة الحادثة"),
    ("gbv_type", "GBV TYPE", "TYPE DE VBG", "نوع العنف القائم على النوع الاجتماعي"),
    (
        "harmful_traditional_practice",
        "HARMFUL TRADITIONAL PRACTICE",
        "PRATIQUE TRADITIONNELLE NÉFASTE",
        "ممارسة تقليدية ضارة",
    ),
    (
        "goods_money_exchanged",
        "MONEY, GOODS, BENEFITS AND / OR SERVICES EXCHANGED ?",
        "ARGENT, BIENS, AVANTAGES ET / OU SERVICES ÉCHANGÉS ?",
        "هل جرى تبادل مال أو سلع أو منافع و / أو خدمات؟",
    ),
    ("abduction_type", "TYPE OF ABDUCTION", "TYPE D'ENLÈVEMENT", "نوع الاختطاف"),
    (
        "previously_reported",
        "PREVIOUSLY REPORTED THIS INCIDENT?",
        "INCIDENT DÉJÀ SIGNALÉ ?",
        "هل سبق الإبلاغ عن هذه الحادثة؟",
    ),
    (
        "previous_incidents",
        "PREVIOUS GBV INCIDENTS?",
        "INCIDENTS DE VBG ANTÉRIEURS ?",
        "حوادث عنف سابقة قائمة على النوع الاجتماعي؟",
    ),
    (
        "perpetrator_count",
        "No. ALLEGED PRIMARY PERPETRATOR(S)",
        "NOMBRE D'AUTEUR(S) PRÉSUMÉ(S) PRINCIPAL(AUX)",
        "عدد الجناة الرئيسيين المزعومين",
    ),
    (
        "perpetrator_sex",
        "ALLEGED PERPETRATOR SEX",
        "SEXE DE L'AUTEUR PRÉSUMÉ",
        "جنس الجاني المزعوم",
    ),
    (
        "perpetrator_previous",
        "PREVIOUS INCIDENT WITH THIS PERPETRATOR",
        "INCIDENT ANTÉRIEUR AVEC CET AUTEUR",
        "حادثة سابقة مع هذا الجاني",
    ),
    (
        "perpetrator_age",
        "ALLEGED PERPETRATOR AGE GROUP",
        "TRANCHE D'ÂGE DE L'AUTEUR PRÉSUMÉ",
        "الفئة العمرية للجاني المزعوم",
    ),
    (
        "perpetrator_relationship",
        "ALLEGED PERPETRATOR - SURVIVOR RELATIONSHIP",
        "RELATION AUTEUR PRÉSUMÉ - SURVIVANT(E)",
        "علاقة الجاني المزعوم بالناجي/الناجية",
    ),
    (
        "perpetrator_occupation",
        "ALLEGED PERPETRATOR OCCUPATION",
        "PROFESSION DE L'AUTEUR PRÉSUMÉ",
        "مهنة الجاني المزعوم",
    ),
    ("referred_from", "REFERRED TO YOU FROM?", "RÉFÉRÉ(E) PAR ?", "جهة الإحالة إليكم؟"),
    ("shelter", "SAFE HOUSE / SHELTER", "MAISON SÛRE / ABRI", "بيت آمن / مأوى"),
    ("health", "HEALTH / MEDICAL SERVICES", "SERVICES DE SANTÉ / MÉDICAUX", "خدمات صحية / طبية"),
    ("psychosocial", "PSYCHOSOCIAL SERVICES", "SERVICES PSYCHOSOCIAUX", "خدمات نفسية اجتماعية"),
    (
        "wants_legal_action",
        "WANTS LEGAL ACTION?",
        "SOUHAITE UNE ACTION EN JUSTICE ?",
        "يرغب في اتخاذ إجراء قانوني؟",
    ),
    (
        "legal",
        "LEGAL ASSISTANCE SERVICES",
        "SERVICES D'ASSISTANCE JURIDIQUE",
        "خدمات المساعدة القانونية",
    ),
    (
        "police",
        "POLICE / OTHER SECURITY ACTOR",
        "POLICE / AUTRE ACTEUR DE SÉCURITÉ",
        "الشرطة / جهة أمنية أخرى",
    ),
    (
        "livelihoods",
        "LIVELIHOODS PROGRAM",
        "PROGRAMME DE MOYENS DE SUBSISTANCE",
        "برنامج سبل العيش",
    ),
    (
        "child_protection",
        "CHILD PROTECTION SERVICES / EDUCATION SERVICES",
        "SERVICES DE PROTECTION DE L'ENFANCE / D'ÉDUCATION",
        "خدمات حماية الطفل / الخدمات التعليمية",
    ),
    ("consent", "CONSENT GIVEN", "CONSENTEMENT DONNÉ", "تم إعطاء الموافقة"),
    (
        "agency_code",
        "REPORTING AGENCY CODE",
        "CODE DE L'ORGANISATION DÉCLARANTE",
        "رمز الجهة المبلغة",
    ),
)
KEYS: tuple[str, ...] = tuple(column[0] for column in COLUMNS)


def headers(language: str) -> list[str]:
    index = 1 + LANGUAGES.index(language)
    return [column[index] for column in COLUMNS]


# Columns left empty on purpose, with the reason the About sheet gives.
WITHHELD: dict[str, Any] = {
    "survivor_code": _l(
        "The survivor code is the key to the survivor's case file: with it a row leads back "
        "to a person. The INCIDENT ID identifies the row instead."
    ),
    "case_manager_code": _l(
        "Names the staff member who holds the case; with small numbers it narrows down whose "
        "case a row is, and the project keeps no caseworker codes."
    ),
    "date_of_birth": _l(
        "A date of birth together with sex and place identifies a person. Age groups are "
        "published in the statistics report instead."
    ),
    "ethnicity": _l(
        "Ethnicity is a special category of personal data that, with sex, age and place, can "
        "single out survivors of a small group; the Incident Recorder itself hides this column."
    ),
}

# --- the Incident Recorder's value vocabulary ---------------------------------------------

YES, NO = "Yes", "No"
SEX_VALUES = {Sex.FEMALE: "F", Sex.MALE: "M"}
DISPLACEMENT_VALUES = {
    DisplacementStatus.RESIDENT: "Resident",
    DisplacementStatus.IDP: "IDP",
    DisplacementStatus.REFUGEE: "Refugee",
    DisplacementStatus.RETURNEE: "Returnee",
    DisplacementStatus.ASYLUM_SEEKER: "Asylum Seeker",
    DisplacementStatus.FOREIGN_NATIONAL: "Foreign National",
    DisplacementStatus.STATELESS: "Stateless Person",
}
TIME_OF_DAY_VALUES = {
    TimeOfDay.MORNING: "Morning (sunrise to noon)",
    TimeOfDay.AFTERNOON: "Afternoon (noon to sunset)",
    TimeOfDay.EVENING_NIGHT: "Evening / Night (sunset to sunrise)",
    TimeOfDay.UNKNOWN: "Unknown / Not Applicable",
}
GBV_TYPE_VALUES = {
    IncidentType.RAPE: "Rape",
    IncidentType.SEXUAL_ASSAULT: "Sexual Assault",
    IncidentType.PHYSICAL_ASSAULT: "Physical Assault",
    IncidentType.FORCED_MARRIAGE: "Forced Marriage",
    IncidentType.DENIAL_OF_RESOURCES: "Denial of Resources, Opportunities or Services",
    IncidentType.PSYCHOLOGICAL_ABUSE: "Psychological / Emotional Abuse",
    IncidentType.NON_GBV: "Non-GBV",
}
PREVIOUSLY_REPORTED_VALUES = {
    PreviouslyReported.NO: "No",
    PreviouslyReported.GBVIMS_ORG: "Yes-GBVIMS Org / Agency",
    PreviouslyReported.NON_GBVIMS_ORG: "Yes-Non GBVIMS Org / Agency",
}
RELATIONSHIP_VALUES = {
    PerpetratorRelationship.INTIMATE_PARTNER: "Intimate Partner / Former Partner",
    PerpetratorRelationship.CAREGIVER: "Primary Caregiver",
    PerpetratorRelationship.FAMILY_MEMBER: "Family other than spouse or caregiver",
    PerpetratorRelationship.AID_WORKER: "Service Provider",
    PerpetratorRelationship.COMMUNITY_MEMBER: "Other resident community member",
    PerpetratorRelationship.STRANGER: "No relation",
    PerpetratorRelationship.OTHER: "Other",
}
AGE_BAND_VALUES = {
    AgeBand.AGE_0_11: "Age 0 - 11",
    AgeBand.AGE_12_17: "Age 12 - 17",
    AgeBand.AGE_18_25: "Age 18 - 25",
    AgeBand.AGE_26_40: "Age 26 - 40",
    AgeBand.AGE_41_60: "Age 41 - 60",
    AgeBand.AGE_61_PLUS: "Age 61 & Older",
    AgeBand.UNKNOWN: "Unknown",
}
REFERRED = "Referred"
BOTH_SEXES = "M and F"
ANSWER_VALUES = {
    ReferralAnswer.REFERRED: REFERRED,
    ReferralAnswer.OWN_AGENCY: "Service provided by your agency",
    ReferralAnswer.ALREADY_RECEIVED: "Services already received from another agency",
    ReferralAnswer.NOT_APPLICABLE: "Service not applicable",
    ReferralAnswer.DECLINED: "Referral declined by survivor",
    ReferralAnswer.UNAVAILABLE: "Service unavailable",
}
MARITAL_VALUES = {
    MaritalStatus.SINGLE: "Single",
    MaritalStatus.MARRIED_COHABITING: "Married / Cohabiting",
    MaritalStatus.DIVORCED_SEPARATED: "Divorced / Separated",
    MaritalStatus.WIDOWED: "Widowed",
}
DISABILITY_VALUES = {
    DisabilityType.NONE: "No",
    DisabilityType.MENTAL: "Mental disability",
    DisabilityType.PHYSICAL: "Physical disability",
    DisabilityType.BOTH: "Both",
}
SEPARATION_VALUES = {
    SeparationStatus.NO: "No",
    SeparationStatus.UNACCOMPANIED: "Unaccompanied Minor",
    SeparationStatus.SEPARATED: "Separated Child",
    SeparationStatus.OTHER_VULNERABLE: "Other Vulnerable Child",
}
STAGE_VALUES = {
    DisplacementStage.NOT_DISPLACED: "Not Displaced / Home Community",
    DisplacementStage.PRE_DISPLACEMENT: "Pre-displacement",
    DisplacementStage.DURING_FLIGHT: "During Flight",
    DisplacementStage.DURING_REFUGE: "During Refuge",
    DisplacementStage.DURING_RETURN: "During Return / Transit",
    DisplacementStage.POST_DISPLACEMENT: "Post-displacement",
}
HARMFUL_PRACTICE_VALUES = {
    HarmfulPractice.NO: "No",
    HarmfulPractice.FGM_C: "Female Genital Mutilation / Cutting",
    HarmfulPractice.CHILD_MARRIAGE: "Child Marriage",
    HarmfulPractice.HONOUR_CRIME: "Honour Killing / Maiming",
    HarmfulPractice.WIDOW_INHERITANCE: "Widow Cleansing / Inheritance",
    HarmfulPractice.DENIAL_OF_EDUCATION: "Denial of Education",
    HarmfulPractice.OTHER: "Other",
}
ABDUCTION_VALUES = {
    AbductionType.NONE: "None",
    AbductionType.FORCED_CONSCRIPTION: "Forced Conscription",
    AbductionType.TRAFFICKED: "Trafficked",
    AbductionType.OTHER: "Other Abduction / Kidnapping",
}
LEGAL_ACTION_VALUES = {
    LegalAction.YES: "Yes",
    LegalAction.NO: "No",
    LegalAction.UNDECIDED: "Undecided at time of report",
}
GBVIMS_RELATIONSHIP_VALUES = {
    GbvimsRelationship.INTIMATE_PARTNER: "Intimate Partner / Former Partner",
    GbvimsRelationship.PRIMARY_CAREGIVER: "Primary Caregiver",
    GbvimsRelationship.FAMILY_OTHER: "Family other than spouse or caregiver",
    GbvimsRelationship.SUPERVISOR_EMPLOYER: "Supervisor / Employer",
    GbvimsRelationship.SCHOOLMATE: "Schoolmate",
    GbvimsRelationship.TEACHER: "Teacher / School Official",
    GbvimsRelationship.SERVICE_PROVIDER: "Service Provider",
    GbvimsRelationship.COTENANT_LANDLORD: "Cotenant / Housemate / Landlord",
    GbvimsRelationship.OTHER_DISPLACED: "Other refugee / IDP / Returnee",
    GbvimsRelationship.COMMUNITY_MEMBER: "Other resident community member",
    GbvimsRelationship.OTHER: "Other",
    GbvimsRelationship.NO_RELATION: "No relation",
}
# The sectors of the referral columns.
REFERRAL_SECTORS = ANSWER_SECTORS
MENU_HEADERS = (
    "CASEWORKER CODE",
    "ETHNICITY",
    "INCIDENT LOCATION",
    "INCIDENT COUNTY",
    "INCIDENT DISTRICT",
    "INCIDENT CAMP",
)
# Levels of the area hierarchy that answer COUNTY, DISTRICT and CAMP / TOWN.
AREA_COLUMNS = {
    "county": AreaLevel.PROVINCE,
    "district": AreaLevel.DISTRICT,
    "camp_town": AreaLevel.SITE,
}


@dataclass(frozen=True)
class Context:
    """What the row builders share: loaded once per export."""

    organisation: Organisation
    # (incident public id, sector) with a sent referral made for that incident
    referred: set[tuple[str, Sector]]
    areas: dict[int, Area]
    location_labels: dict[str, str]
    occupation_labels: dict[str, str]
    referred_from_labels: dict[str, str]


def _date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return wall_clock(value).date()
    return value


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else (YES if value else NO)


def _area_at(context: Context, area_id: int | None, level: AreaLevel) -> str | None:
    """The name of the area of ``level`` that holds ``area_id`` (or is it)."""
    area = context.areas.get(area_id) if area_id is not None else None
    while area is not None:
        if area.level is level:
            return area.name
        area = context.areas.get(area.parent_id) if area.parent_id is not None else None
    return None


def _referral(context: Context, incident: Incident, key: str) -> str | None:
    """Referred when a referral record says so; else the answer typed on the incident."""
    sectors = REFERRAL_SECTORS[key]
    if any((incident.public_id, sector) in context.referred for sector in sectors):
        return REFERRED
    answer = incident.answers_by_sector().get(key)
    return ANSWER_VALUES[answer] if answer is not None else None


def _primary(incident: Incident) -> Perpetrator | None:
    return next(iter(incident.primary_perpetrators), None)


def _perpetrators_sex(incident: Incident) -> str | None:
    """Over the primary perpetrators: M, F, or both when they are of both sexes."""
    sexes = {p.sex for p in incident.primary_perpetrators} - {PerpetratorSex.UNKNOWN}
    if PerpetratorSex.BOTH in sexes or sexes == {PerpetratorSex.FEMALE, PerpetratorSex.MALE}:
        return BOTH_SEXES
    if sexes == {PerpetratorSex.MALE}:
        return "M"
    if sexes == {PerpetratorSex.FEMALE}:
        return "F"
    return None


def _perpetrator_previous(incident: Incident) -> str | None:
    known = [p.previous_incident for p in incident.primary_perpetrators]
    if True in known:
        return YES
    if known and all(value is False for value in known):
        return NO
    return None


def _disability(case: Case) -> str | None:
    if case.disability_type is not None:
        return DISABILITY_VALUES[case.disability_type]
    return None if case.has_disability else NO


def _separation(case: Case) -> str | None:
    if case.separation_status is not None:
        return SEPARATION_VALUES[case.separation_status]
    return None if case.unaccompanied_or_separated else NO


def _abduction(incident: Incident) -> str | None:
    if incident.abduction_type is not None:
        return ABDUCTION_VALUES[incident.abduction_type]
    return None if incident.abduction else ABDUCTION_VALUES[AbductionType.NONE]


def _occupation(context: Context, incident: Incident) -> str | None:
    primary = _primary(incident)
    if primary is None or primary.occupation is None:
        return None
    return context.occupation_labels.get(primary.occupation)


def _relationship(incident: Incident) -> str | None:
    primary = _primary(incident)
    if primary is not None and primary.relation is not None:
        return GBVIMS_RELATIONSHIP_VALUES[primary.relation]
    return RELATIONSHIP_VALUES.get(incident.perpetrator_relationship)


def _perpetrator_count(incident: Incident) -> int | str:
    return incident.perpetrator_count if incident.perpetrator_count <= 3 else "More than 3"


Row = Callable[[Context, Incident], Any]


def _builders() -> dict[str, Row]:
    def area_of(level: AreaLevel) -> Row:
        # where it happened; the survivor's area when that was not recorded
        return lambda context, incident: _area_at(
            context, incident.area_id or incident.case.area_id, level
        )

    def referral(key: str) -> Row:
        return lambda context, incident: _referral(context, incident, key)

    builders: dict[str, Row] = {
        "incident_id": lambda context, incident: incident.public_id,
        "date_of_interview": lambda context, incident: incident.reported_on,
        "date_of_incident": lambda context, incident: _date(incident.incident_at),
        "sex": lambda context, incident: SEX_VALUES.get(incident.case.sex),
        "displacement_status": lambda context, incident: DISPLACEMENT_VALUES.get(
            incident.case.displacement_status
        ),
        "country_of_origin": lambda context, incident: country_name(
            incident.case.country_of_origin, "en"
        ),
        "marital_status": lambda context, incident: (
            MARITAL_VALUES.get(incident.case.marital_status)
            if incident.case.marital_status
            else None
        ),
        "unaccompanied_separated": lambda context, incident: _separation(incident.case),
        "disability": lambda context, incident: _disability(incident.case),
        "stage_of_displacement": lambda context, incident: (
            STAGE_VALUES[incident.displacement_stage] if incident.displacement_stage else None
        ),
        "harmful_traditional_practice": lambda context, incident: (
            HARMFUL_PRACTICE_VALUES[incident.harmful_practice]
            if incident.harmful_practice
            else None
        ),
        "previous_incidents": lambda context, incident: _yes_no(incident.previous_incidents),
        "perpetrator_previous": lambda context, incident: _perpetrator_previous(incident),
        "perpetrator_age": lambda context, incident: (
            AGE_BAND_VALUES[primary.age_band] if (primary := _primary(incident)) else None
        ),
        "perpetrator_occupation": _occupation,
        "referred_from": lambda context, incident: context.referred_from_labels.get(
            incident.case.referred_by
        ),
        "wants_legal_action": lambda context, incident: (
            LEGAL_ACTION_VALUES[incident.wants_legal_action]
            if incident.wants_legal_action
            else None
        ),
        "time_of_day": lambda context, incident: TIME_OF_DAY_VALUES.get(incident.time_of_day),
        "location": lambda context, incident: context.location_labels.get(incident.location_type),
        "gbv_type": lambda context, incident: GBV_TYPE_VALUES[incident.incident_type],
        "goods_money_exchanged": lambda context, incident: _yes_no(
            incident.goods_or_money_exchanged
        ),
        "abduction_type": lambda context, incident: _abduction(incident),
        "previously_reported": lambda context, incident: PREVIOUSLY_REPORTED_VALUES[
            incident.previously_reported
        ],
        "perpetrator_count": lambda context, incident: _perpetrator_count(incident),
        "perpetrator_sex": lambda context, incident: _perpetrators_sex(incident),
        "perpetrator_relationship": lambda context, incident: _relationship(incident),
        "consent": lambda context, incident: YES,  # only consenting survivors' incidents
        "agency_code": lambda context, incident: context.organisation.acronym,
    }
    for key, level in AREA_COLUMNS.items():
        builders[key] = area_of(level)
    for key in REFERRAL_SECTORS:
        builders[key] = referral(key)
    return builders


def incidents_statement(scope: StatsScope) -> Any:
    """The own organisation's incidents of a GBV type, reported in the period, whose
    survivor consented to anonymous statistics."""
    if scope.organisation_id is None:
        raise ValueError("the Incident Recorder export is for one organisation only")
    conditions = [
        Case.organisation_id == scope.organisation_id,
        statistics_consent(),
        Incident.incident_type.in_(GBV_TYPES),
        Incident.reported_on >= scope.start,
        Incident.reported_on <= scope.end,
    ]
    if scope.area_id is not None:
        conditions.append(in_area(Case.area_id, scope.area_id))
    return (
        select(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(*conditions)
        .options(joinedload(Incident.case), selectinload(Incident.perpetrators))
        .order_by(Incident.reported_on, Incident.id)
    )


def _context(organisation: Organisation, incidents: Sequence[Incident]) -> Context:
    case_ids = sorted({incident.case.public_id for incident in incidents})
    referred: set[tuple[str, Sector]] = set()
    wanted = [sector for sectors in REFERRAL_SECTORS.values() for sector in sectors]
    for start in range(0, len(case_ids), 500):
        rows = db.session.execute(
            select(Referral.incident_public_id, Referral.sector).where(
                Referral.source_kind == SourceKind.GBV_CASE,
                Referral.source_public_id.in_(case_ids[start : start + 500]),
                Referral.incident_public_id.is_not(None),
                Referral.sector.in_(wanted),
                Referral.state != ReferralState.DRAFT,
            )
        )
        referred.update((public_id, sector) for public_id, sector in rows if public_id)
    areas = {area.id: area for area in db.session.scalars(select(Area))}
    return Context(
        organisation,
        referred,
        areas,
        lists.labels(CountryList.LOCATION_TYPE),
        lists.labels(CountryList.OCCUPATION),
        lists.labels(CountryList.REFERRED_FROM),
    )


def rows(scope: StatsScope, organisation: Organisation) -> list[list[Any]]:
    """One row of 42 values per incident, withheld columns empty."""
    incidents = list(db.session.scalars(incidents_statement(scope)).unique())
    context = _context(organisation, incidents)
    builders = _builders()
    result = []
    for incident in incidents:
        row = []
        for key in KEYS:
            build = builders.get(key)
            row.append(None if key in WITHHELD or build is None else build(context, incident))
        result.append(row)
    return result


def _menus(areas: Sequence[Area]) -> list[list[str]]:
    """The Menu Data columns: the options of the country lists and areas (never records)."""
    by_level = {
        level: sorted(area.name for area in areas if area.level is level)
        for level in AREA_COLUMNS.values()
    }
    return [
        [],  # caseworker codes: withheld
        [item.label for item in lists.items(CountryList.ETHNICITY)],
        [item.label for item in lists.items(CountryList.LOCATION_TYPE)],
        by_level[AreaLevel.PROVINCE],
        by_level[AreaLevel.DISTRICT],
        by_level[AreaLevel.SITE],
    ]


@dataclass(frozen=True)
class AboutText:
    title: str
    lines: Sequence[tuple[str, str]]
    withheld_title: str
    notes: Sequence[str]


def workbook(data: Sequence[Sequence[Any]], language: str, about: AboutText) -> bytes:
    """Incident Data first (the Incident Recorder's layout), then Menu Data, then About."""
    book = Workbook()
    book.properties.creator = "referral"
    book.properties.lastModifiedBy = "referral"
    sheet = book.active
    sheet.title = "Incident Data"
    sheet.append(headers(language))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    for values in data:
        sheet.append([_cell(value) for value in values])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime | date):
                cell.number_format = DATE_FORMAT
    menu = book.create_sheet("Menu Data")
    menu.append(list(MENU_HEADERS))
    columns = _menus(list(db.session.scalars(select(Area))))
    for index in range(max((len(column) for column in columns), default=0)):
        menu.append([neutralise(c[index]) if index < len(c) else None for c in columns])
    info = book.create_sheet("About")
    info.append([neutralise(about.title)])
    info["A1"].font = bold
    for label, text in about.lines:
        info.append([neutralise(label), neutralise(text)])
    info.append([])
    info.append([neutralise(about.withheld_title)])
    names = dict(zip(KEYS, headers(language), strict=True))
    for key, reason in WITHHELD.items():
        info.append([names[key], neutralise(str(reason))])
    info.append([])
    for note in about.notes:
        info.append([neutralise(note)])
    info.column_dimensions["A"].width = 34
    info.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | date | datetime):
        return value
    return neutralise(str(value))
