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
    ("supervisor@demo.example.org", "Dalia Haddad", Role.SUPERVISOR, "HBI"),
    ("caseworker@demo.example.org", "Esther Nkemelu", Role.CASEWORKER, "HBI"),
    ("clinic@demo.example.org", "Fatou Diallo", Role.SERVICE_FOCAL_POINT, "LWHA"),
    ("legal@demo.example.org", "Gaspard Ndayishimiye", Role.SERVICE_FOCAL_POINT, "LLAN"),
    ("psea.focal@demo.example.org", "Hawa Kamara", Role.PSEA_FOCAL_POINT, "HBI"),
    ("mission.psea@demo.example.org", "Ivan Petrov", Role.PSEA_FOCAL_POINT, "UNSMA"),
    ("psea.coordinator@demo.example.org", "Jamila Yusuf", Role.PSEA_COORDINATOR, "UNPOA"),
    ("va.focal@demo.example.org", "Kofi Mensah", Role.VA_FOCAL_POINT, "UNPOA"),
]


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
                must_change_password=False,
            )
        )
        created.append((email, role, acronym))
    db.session.commit()
    load_demo_allegations()
    load_demo_assistance()

    if not created:
        return ["Demo data is already loaded; sign-ins were printed when it was first loaded."]
    lines = [
        "Demo sign-ins (fictional data). Each account enrols an authenticator app",
        f"(TOTP) at its first sign-in. Password for every demo account: {password}",
    ]
    lines += [f"  {email:<38} {role.value:<20} {acronym}" for email, role, acronym in created]
    return lines


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
    ordinary engine, to a GBV case-management service that accepted. Adds the area,
    service and published pathway it needs when the directory has none. Once."""
    from referral.assistance import services as assistance
    from referral.assistance.models import AssistanceNeed, AssistanceRecord
    from referral.directory import services as directory
    from referral.directory.models import AgeGroup, Sector, Service, Sex
    from referral.pathways import services as pathways
    from referral.pathways.models import PathwayStatus
    from referral.psea.models import Allegation
    from referral.referrals import services as engine
    from referral.referrals.models import Priority, ReferralState

    if db.session.scalar(select(AssistanceRecord.id).limit(1)) is not None:
        return
    users = {u.email: u for u in db.session.scalars(select(User))}
    orgs = {o.acronym: o for o in db.session.scalars(select(Organisation))}
    coordinator = users["coordinator@demo.example.org"]
    va = users["va.focal@demo.example.org"]
    receiver = users["clinic@demo.example.org"]

    area = _demo_area()
    options = [
        o
        for o in pathways.lookup_pathway(area, None, AgeGroup.ADULT, Sex.FEMALE, None)
        if o.sector is Sector.GBV_CASE_MANAGEMENT
        and o.service.organisation_id == receiver.organisation_id
    ]
    if options:
        service = options[0].service
    else:
        service = db.session.scalar(
            select(Service).where(
                Service.organisation_id == orgs["LWHA"].id,
                Service.sector == Sector.GBV_CASE_MANAGEMENT,
            )
        ) or directory.create_service(
            directory.ServiceData(
                organisation=orgs["LWHA"],
                sector=Sector.GBV_CASE_MANAGEMENT,
                name="LWHA women's centre: GBV case management",
                areas=[area],
                opening_hours="Mon-Fri 08:00-16:00",
                languages="Sango, French",
            ),
            actor=None,
        )
        current = pathways.published_version(area)
        version = pathways.create_version(area, actor=coordinator, title="Lomara referral pathway")
        if not version.sea_reporting_procedure:
            version.sea_reporting_procedure = (
                "Report any concern of sexual exploitation or abuse to a PSEA focal point: "
                "the network hotline +000 555 0100 or psea@demo.example.org (fictional)."
            )
        pathways.save_step(
            version,
            step=None,
            sector=Sector.GBV_CASE_MANAGEMENT,
            guidance="Case management for survivors, including survivors of SEA.",
            services=[service],
            actor=coordinator,
        )
        pathways.transition(version, PathwayStatus.IN_REVIEW, actor=coordinator)
        pathways.transition(
            version,
            PathwayStatus.PUBLISHED,
            actor=coordinator,
            replaces=current.public_id if current else "",
        )

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
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver)
    db.session.commit()


def _demo_area() -> Area:
    """The demo province (with its country), created when the directory has none."""
    from referral.directory import services as directory
    from referral.directory.models import Area, AreaLevel

    area = db.session.scalar(select(Area).where(Area.code == "AR-LOM"))
    if area is not None:
        return area
    country = db.session.scalar(select(Area).where(Area.code == "AR"))
    if country is None:
        country = directory.create_area(
            directory.AreaData("AR", "Ardenia", AreaLevel.COUNTRY, None), actor=None
        )
    return directory.create_area(
        directory.AreaData("AR-LOM", "Lomara", AreaLevel.PROVINCE, country), actor=None
    )
