"""Fictional demo data: the province of Lomara in the Republic of Ardenia.

Every name here is invented. Loading twice changes nothing.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from referral.admin.services import OrganisationData, create_organisation
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import Area
from referral.extensions import db
from referral.security import passwords
from referral.security.policy import Role

TIME_ZONE = "Africa/Bangui"

ORGANISATIONS = [
    ("Lomara Women's Health Alliance", "LWHA", OrganisationType.NATIONAL_NGO, True),
    ("Hope Bridge International", "HBI", OrganisationType.INTERNATIONAL_NGO, True),
    ("Lomara Legal Aid Network", "LLAN", OrganisationType.NATIONAL_NGO, True),
    ("Ardenia Ministry of Social Affairs", "MOSA", OrganisationType.GOVERNMENT, True),
    ("United Nations Protection Office in Ardenia", "UNPOA", OrganisationType.UN_AGENCY, False),
    ("UN Stabilisation Mission in Ardenia", "UNSMA", OrganisationType.PEACEKEEPING_MISSION, False),
    ("Kesa Community Safe Spaces", "KCSS", OrganisationType.COMMUNITY_BASED, True),
]

USERS = [
    ("admin@demo.example.org", "Amara Okoye", Role.ADMIN, "UNPOA"),
    ("auditor@demo.example.org", "Bruno Lefevre", Role.AUDITOR, "UNPOA"),
    ("coordinator@demo.example.org", "Chiara Mbeki", Role.GBV_COORDINATOR, "UNPOA"),
    # the sub-cluster's co-lead: approves and publishes what the coordinator drafts (R15)
    ("colead@demo.example.org", "Moses Adeyemi", Role.GBV_COORDINATOR, "MOSA"),
    ("supervisor@demo.example.org", "Dalia Haddad", Role.SUPERVISOR, "HBI"),
    ("caseworker@demo.example.org", "Esther Nkemelu", Role.CASEWORKER, "HBI"),
    ("clinic@demo.example.org", "Fatou Diallo", Role.SERVICE_FOCAL_POINT, "LWHA"),
    ("legal@demo.example.org", "Gaspard Ndayishimiye", Role.SERVICE_FOCAL_POINT, "LLAN"),
    ("gbv.intake@demo.example.org", "Lina Osei", Role.SERVICE_FOCAL_POINT, "HBI"),
    ("psea.focal@demo.example.org", "Hawa Kamara", Role.PSEA_FOCAL_POINT, "HBI"),
    ("mission.psea@demo.example.org", "Ivan Petrov", Role.PSEA_FOCAL_POINT, "UNSMA"),
    ("psea.coordinator@demo.example.org", "Jamila Yusuf", Role.PSEA_COORDINATOR, "UNPOA"),
    ("va.focal@demo.example.org", "Kofi Mensah", Role.VA_FOCAL_POINT, "UNPOA"),
]


# The first line of what load_demo returns when it created the demo accounts.
SIGN_INS_TITLE = "Demo sign-ins (fictional data). At its first sign-in each account chooses its own"


def load_demo() -> list[str]:
    """Create what is missing; return the lines to print (sign-ins of new demo users)."""
    by_acronym: dict[str, Organisation] = {
        o.acronym: o for o in db.session.scalars(select(Organisation))
    }
    for name, acronym, org_type, provides in ORGANISATIONS:
        if acronym not in by_acronym:
            by_acronym[acronym] = create_organisation(
                OrganisationData(name, acronym, org_type, provides, TIME_ZONE), actor=None
            )

    password = "demo-" + secrets.token_urlsafe(9)
    password_hash = passwords.hash_password(password)
    created = []
    for email, full_name, role, acronym in USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        db.session.add(
            User(
                email=email,
                full_name=full_name,
                role=role,
                organisation=by_acronym[acronym],
                password_hash=password_hash,
                # The password is shared and printed: each account sets its own at once.
                must_change_password=True,
            )
        )
        created.append((email, role, acronym))
    db.session.commit()
    load_directory(by_acronym)

    from referral.cases.demo import load_case_demo

    # The case demo recognises itself by the demo caseworker's cases, so it runs before
    # the assistance demo opens a case of its own.
    case_lines = load_case_demo(by_acronym)
    load_demo_allegations()
    load_demo_assistance()
    if not created:
        return [
            "Demo data is already loaded; sign-ins were printed when it was first loaded.",
            *case_lines,
        ]
    lines = [
        SIGN_INS_TITLE,
        "password (this shared one then stops working for it) and enrols an authenticator",
        f"app (TOTP). Shared first password of every demo account: {password}",
    ]
    lines += [f"  {email:<38} {role.value:<20} {acronym}" for email, role, acronym in created]
    return lines + case_lines


# --- directory and pathways ------------------------------------------------------------

AREAS = [
    ("AR", "Republic of Ardenia", "country", None),
    ("AR-LOM", "Lomara", "province", "AR"),
    ("AR-LOM-KES", "Kesa", "district", "AR-LOM"),
    ("AR-LOM-KES-C1", "Kesa North IDP camp", "site", "AR-LOM-KES"),
    ("AR-LOM-DAL", "Dalo", "district", "AR-LOM"),
    ("AR-LOM-MAV", "Mavi", "district", "AR-LOM"),
]

_ALL_AGES = ("0-11", "12-17", "18-59", "60+")
_ALL_SEXES = ("female", "male", "other")

# (acronym, sector, name, area codes, ages, sexes, status, status note, address, hours,
#  languages, focal point, phone, e-mail)
SERVICES = [
    (
        "LWHA",
        "health",
        "Kesa Women's Clinic: clinical management of rape",
        ["AR-LOM-KES"],
        _ALL_AGES,
        _ALL_SEXES,
        "available",
        "",
        "Market road 4, Kesa town",
        "Every day, 24 hours (emergency desk)",
        "Ardenian, French",
        "Nurse Mireille Atanga",
        "+236 70 10 20 30",
        "clinic.kesa@lwha.example.org",
    ),
    (
        "LWHA",
        "health",
        "Dalo health post: post-rape care",
        ["AR-LOM-DAL"],
        _ALL_AGES,
        _ALL_SEXES,
        "limited",
        "One nurse on leave; call before referring",
        "Health post, Dalo centre",
        "Mon-Sat 7:30-17:00",
        "Ardenian",
        "Midwife Rose Kouame",
        "+236 70 10 20 31",
        "dalo@lwha.example.org",
    ),
    (
        "HBI",
        "gbv_case_management",
        "GBV case management, Kesa",
        ["AR-LOM-KES"],
        _ALL_AGES,
        _ALL_SEXES,
        "available",
        "",
        "Women's centre, Kesa North IDP camp, block C",
        "Mon-Fri 8:00-16:00",
        "Ardenian, French, Sango",
        "Case management focal point",
        "+236 70 20 30 40",
        "gbv.kesa@hbi.example.org",
    ),
    (
        "HBI",
        "gbv_case_management",
        "GBV case management, Dalo mobile team",
        ["AR-LOM-DAL"],
        ("12-17", "18-59", "60+"),
        _ALL_SEXES,
        "available",
        "",
        "Mobile team: Dalo, Tuesdays and Thursdays",
        "Tue, Thu 9:00-15:00",
        "Ardenian",
        "Mobile team leader",
        "+236 70 20 30 41",
        "gbv.dalo@hbi.example.org",
    ),
    (
        "KCSS",
        "psychosocial",
        "Women and girls safe space, Kesa North camp",
        ["AR-LOM-KES-C1"],
        ("12-17", "18-59", "60+"),
        ("female",),
        "available",
        "",
        "Kesa North IDP camp, block A",
        "Mon-Sat 9:00-17:00",
        "Ardenian, Sango",
        "Safe space coordinator",
        "+236 70 30 40 50",
        "safespace@kcss.example.org",
    ),
    (
        "KCSS",
        "psychosocial",
        "Community psychosocial support, Dalo",
        ["AR-LOM-DAL"],
        _ALL_AGES,
        _ALL_SEXES,
        "available",
        "",
        "Dalo youth centre",
        "Mon-Fri 10:00-16:00",
        "Ardenian",
        "Psychosocial worker",
        "+236 70 30 40 51",
        "pss.dalo@kcss.example.org",
    ),
    (
        "LLAN",
        "legal_aid",
        "Legal aid desk, Lomara",
        ["AR-LOM"],
        ("12-17", "18-59", "60+"),
        _ALL_SEXES,
        "available",
        "",
        "Courthouse annex, Lomara city",
        "Mon-Thu 9:00-15:00",
        "Ardenian, French",
        "Duty lawyer",
        "+236 70 40 50 60",
        "desk@llan.example.org",
    ),
    (
        "MOSA",
        "shelter",
        "Lomara safe house",
        ["AR-LOM"],
        _ALL_AGES,
        ("female",),
        "available",
        "",
        "Address given by phone only",
        "Admissions every day, 24 hours",
        "Ardenian, French",
        "Safe house manager",
        "+236 70 50 60 70",
        "safehouse@mosa.example.org",
    ),
    (
        "MOSA",
        "safety_security",
        "Family protection desk, Lomara police",
        ["AR-LOM"],
        _ALL_AGES,
        _ALL_SEXES,
        "available",
        "",
        "Central police station, Lomara city",
        "Every day, 24 hours",
        "Ardenian, French",
        "Officer on duty",
        "+236 70 50 60 71",
        "",
    ),
    (
        "HBI",
        "livelihoods",
        "Women's economic empowerment, Dalo",
        ["AR-LOM-DAL"],
        ("18-59", "60+"),
        ("female",),
        "suspended",
        "Funding paused; new intake expected in June",
        "HBI office, Dalo",
        "Mon-Fri 9:00-16:00",
        "Ardenian",
        "Livelihoods officer",
        "+236 70 20 30 42",
        "livelihoods@hbi.example.org",
    ),
]

SEA_PROCEDURE = """\
Anyone who learns of sexual exploitation or abuse by a humanitarian or mission worker
reports it the same day, with the survivor's consent for any identifying detail:

- **Lomara PSEA network coordinator**: +236 70 90 00 01, psea.lomara@unpoa.example.org
- **Hope Bridge International PSEA focal point**: +236 70 20 30 99
- **Community complaints hotline** (free, anonymous, every day 7:00-22:00): 1414

The network routes the complaint to the organisation concerned; it does not investigate.
Survivors are referred to the GBV services of this pathway whether or not they make a complaint.
"""

SOP = """\
## Guiding principles
Safety first, confidentiality, respect and non-discrimination. Ask for consent before
every referral and share only what the survivor agrees to.

## Time-critical care
If the incident happened less than **72 hours** ago, refer to health care first (HIV
post-exposure prophylaxis); emergency contraception is possible up to **120 hours**.

## Children
A child is accompanied by a trusted caregiver who is not the alleged perpetrator. Follow
the best interests of the child.
"""

# area code -> steps: (sector, guidance, service names)
PATHWAYS = {
    "AR-LOM-KES": (
        "Kesa district GBV referral pathway",
        [
            (
                "health",
                "First when the incident happened less than 72 hours ago.",
                ["Kesa Women's Clinic: clinical management of rape"],
            ),
            (
                "gbv_case_management",
                "Every survivor who consents is offered case management.",
                ["GBV case management, Kesa"],
            ),
            ("psychosocial", "", ["Women and girls safe space, Kesa North camp"]),
            (
                "safety_security",
                "Only if the survivor wishes to involve the police.",
                ["Family protection desk, Lomara police"],
            ),
            ("shelter", "When it is not safe to go home.", ["Lomara safe house"]),
            ("legal_aid", "", ["Legal aid desk, Lomara"]),
        ],
    ),
    "AR-LOM-DAL": (
        "Dalo district GBV referral pathway",
        [
            (
                "health",
                "First when the incident happened less than 72 hours ago.",
                ["Dalo health post: post-rape care"],
            ),
            ("gbv_case_management", "", ["GBV case management, Dalo mobile team"]),
            ("psychosocial", "", ["Community psychosocial support, Dalo"]),
            ("shelter", "Call the safe house before any transfer.", ["Lomara safe house"]),
            ("legal_aid", "", ["Legal aid desk, Lomara"]),
            ("livelihoods", "", ["Women's economic empowerment, Dalo"]),
        ],
    ),
}


def load_directory(by_acronym: dict[str, Organisation]) -> None:
    """Areas of Lomara, services of the demo organisations and a published pathway for
    Kesa and for Dalo. Creates only what is missing."""
    from referral.directory import services as directory
    from referral.directory.models import (
        AgeGroup,
        Area,
        AreaLevel,
        Sector,
        Service,
        ServiceStatus,
        Sex,
    )
    from referral.pathways import services as pathways
    from referral.pathways.models import PathwayStatus, PathwayVersion

    areas = {a.code: a for a in db.session.scalars(select(Area))}
    for code, name, level, parent in AREAS:
        if code not in areas:
            areas[code] = directory.create_area(
                directory.AreaData(code, name, AreaLevel(level), areas.get(parent or "")),
                actor=None,
            )
    existing = {s.name: s for s in db.session.scalars(select(Service))}
    for (
        acronym,
        sector,
        name,
        codes,
        ages,
        sexes,
        status,
        note,
        address,
        hours,
        languages,
        focal,
        phone,
        email,
    ) in SERVICES:
        if name in existing:
            continue
        existing[name] = directory.create_service(
            directory.ServiceData(
                organisation=by_acronym[acronym],
                sector=Sector(sector),
                name=name,
                areas=[areas[c] for c in codes],
                address=address,
                opening_hours=hours,
                languages=languages,
                age_groups=[AgeGroup(a) for a in ages],
                sexes=[Sex(x) for x in sexes],
                focal_point_name=focal,
                focal_point_phone=phone,
                focal_point_email=email,
                status=ServiceStatus(status),
                status_note=note,
            ),
            actor=None,
        )
    coordinator = db.session.scalar(
        select(User).where(User.email == "coordinator@demo.example.org")
    )
    colead = db.session.scalar(select(User).where(User.email == "colead@demo.example.org"))
    if coordinator is None or colead is None:
        db.session.commit()
        return
    for code, (title, steps) in PATHWAYS.items():
        area = areas[code]
        if db.session.scalar(select(PathwayVersion.id).where(PathwayVersion.area_id == area.id)):
            continue
        version = pathways.create_version(area, actor=coordinator, title=title)
        pathways.update_version(
            version,
            title=title,
            sop_markdown=SOP,
            sea_reporting_procedure=SEA_PROCEDURE,
            change_note="First version agreed at the Lomara GBV sub-cluster meeting.",
            actor=coordinator,
        )
        for sector, guidance, names in steps:
            pathways.save_step(
                version,
                step=None,
                sector=Sector(sector),
                guidance=guidance,
                services=[existing[n] for n in names],
                actor=coordinator,
            )
        pathways.transition(version, PathwayStatus.IN_REVIEW, actor=coordinator)
        pathways.transition(version, PathwayStatus.PUBLISHED, actor=colead, replaces="")
    db.session.commit()


def load_demo_allegations() -> None:
    """One allegation in every state of the workflow (R17-R20), once."""
    from datetime import timedelta

    from referral.clock import utcnow
    from referral.psea import services as psea
    from referral.psea.models import (
        Allegation,
        Category,
        Channel,
        EntityType,
        Outcome,
        PersonnelCategory,
        SurvivorAgeGroup,
        SurvivorSex,
    )

    if db.session.scalar(select(Allegation.id).limit(1)) is not None:
        return
    users = {u.email: u for u in db.session.scalars(select(User))}
    orgs = {o.acronym: o for o in db.session.scalars(select(Organisation))}
    hbi_focal = users["psea.focal@demo.example.org"]
    mission_focal = users["mission.psea@demo.example.org"]
    coordinator = users["psea.coordinator@demo.example.org"]
    area = _demo_area()
    now = utcnow()
    adult_woman = {(SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1}

    def log(
        actor: User,
        hours_ago: int,
        entity: Organisation | None,
        *,
        category: Category = Category.SEXUAL_EXPLOITATION,
        personnel: PersonnelCategory = PersonnelCategory.STAFF,
        survivors: dict[tuple[SurvivorAgeGroup, SurvivorSex], int] | None = None,
        consents: bool = False,
    ) -> Allegation:
        return psea.record_allegation(
            psea.AllegationData(
                received_at=now - timedelta(hours=hours_ago),
                channel=Channel.COMMUNITY_MECHANISM,
                incident_from=(now - timedelta(days=30)).date(),
                incident_to=(now - timedelta(days=20)).date(),
                area=area,
                category=category,
                entity_type=EntityType.UNKNOWN,
                entity_organisation=entity,
                personnel_category=personnel,
                survivors=survivors or adult_woman,
                consents_to_assistance=consents,
                narrative="Fictional demo summary: complaint received at a distribution point.",
            ),
            actor=actor,
        )

    # received, to route (one on time, one past the 24 h routing deadline)
    log(hbi_focal, 2, orgs["UNSMA"], personnel=PersonnelCategory.MILITARY, consents=True)
    log(hbi_focal, 30, orgs["LWHA"], category=Category.SEXUAL_ABUSE)
    # waiting for manual routing (entity unknown)
    manual = log(hbi_focal, 5, None, category=Category.UNKNOWN)
    psea.route(manual, None, actor=hbi_focal)
    # routed to the mission, awaiting acknowledgement; a survivor under 18 (R20)
    routed = log(
        hbi_focal,
        12,
        orgs["UNSMA"],
        personnel=PersonnelCategory.MILITARY,
        survivors={(SurvivorAgeGroup.UNDER_18, SurvivorSex.FEMALE): 1},
        consents=True,
    )
    psea.route(routed, orgs["UNSMA"], actor=coordinator)
    # acknowledged by the mission
    acknowledged = log(hbi_focal, 60, orgs["UNSMA"], personnel=PersonnelCategory.POLICE)
    psea.route(acknowledged, orgs["UNSMA"], actor=hbi_focal)
    psea.acknowledge(acknowledged, actor=mission_focal)
    # interim outcome, then a closed one, about HBI personnel logged by the mission
    in_progress = log(mission_focal, 200, orgs["HBI"], personnel=PersonnelCategory.CONTRACTOR)
    psea.route(in_progress, orgs["HBI"], actor=mission_focal)
    psea.acknowledge(in_progress, actor=hbi_focal)
    psea.report_outcome(in_progress, Outcome.UNDER_INVESTIGATION, actor=hbi_focal)
    closed = log(mission_focal, 600, orgs["HBI"], category=Category.SEXUAL_ABUSE)
    psea.route(closed, orgs["HBI"], actor=coordinator)
    psea.acknowledge(closed, actor=hbi_focal)
    psea.report_outcome(closed, Outcome.UNSUBSTANTIATED, actor=hbi_focal)
    db.session.commit()


def load_demo_assistance() -> None:
    """R21 in the demo: the survivor of a consenting allegation referred, through the
    ordinary engine, to the GBV case-management service of the Kesa pathway, which
    accepted. Once; nothing when the directory demo has no such service."""
    from referral.assistance import services as assistance
    from referral.assistance.models import AssistanceNeed, AssistanceRecord
    from referral.cases import services as cases
    from referral.cases.models import RiskLevel
    from referral.directory.models import AgeGroup, Sector, Sex
    from referral.pathways.services import Eligibility, lookup_pathway
    from referral.psea.models import Allegation
    from referral.referrals import services as engine
    from referral.referrals.models import Priority, ReferralState

    if db.session.scalar(select(AssistanceRecord.id).limit(1)) is not None:
        return
    area = _demo_area()
    va = db.session.scalar(select(User).where(User.email == "va.focal@demo.example.org"))
    if area is None or va is None:
        return
    options = [
        o
        for o in lookup_pathway(area, None, AgeGroup.ADULT, Sex.FEMALE, None)
        if o.sector is Sector.GBV_CASE_MANAGEMENT and o.eligibility is Eligibility.ELIGIBLE
    ]
    if not options:
        return
    service = options[0].service
    allegation = db.session.scalar(
        select(Allegation)
        .where(Allegation.consents_to_assistance.is_(True))
        .order_by(Allegation.received_at.desc())
        .limit(1)
    )
    record = assistance.open_record(
        assistance.AssistanceData(
            age_group=AgeGroup.ADULT,
            sex=Sex.FEMALE,
            area=area,
            needs=[AssistanceNeed.MEDICAL, AssistanceNeed.PSYCHOSOCIAL],
            consents_to_assistance=True,
            allegation_public_id=allegation.public_id if allegation else None,
        ),
        actor=va,
    )
    referral = assistance.refer(
        record,
        assistance.AssistanceReferral(
            service=service, priority=Priority.URGENT, survivor_consents=True
        ),
        actor=va,
    )
    receiver = db.session.scalar(
        select(User)
        .where(
            User.organisation_id == service.organisation_id,
            User.role == Role.SERVICE_FOCAL_POINT,
            User.active.is_(True),
        )
        .order_by(User.id)
        .limit(1)
    )
    if receiver is not None:
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver)
        caseworker = db.session.scalar(
            select(User)
            .where(
                User.organisation_id == service.organisation_id,
                User.role == Role.CASEWORKER,
                User.active.is_(True),
            )
            .order_by(User.id)
            .limit(1)
        )
        if caseworker is not None:  # the case opens with the SEA context (R21)
            cases.open_case(
                cases.Intake(
                    mandatory_reporting_explained=True,
                    sex=Sex.FEMALE,
                    risk_level=RiskLevel.MEDIUM,
                    area=area,
                    age_group=AgeGroup.ADULT,
                    referred_from="other_humanitarian",
                    from_referral=referral,
                ),
                actor=caseworker,
            )
    db.session.commit()


def _demo_area() -> Area | None:
    """Kesa district of the directory demo: an administrative area with a pathway."""
    return db.session.scalar(select(Area).where(Area.code == "AR-LOM-KES"))
