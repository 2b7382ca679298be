"""Fictional demo data: the province of Lomara in the Republic of Ardenia.

Every name here is invented. Loading twice changes nothing.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from referral.admin.services import OrganisationData, create_organisation
from referral.db import Organisation, OrganisationType, User
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
    from referral.directory.models import Area, AreaLevel
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
    area = db.session.scalar(
        select(Area).where(Area.level == AreaLevel.PROVINCE).order_by(Area.id).limit(1)
    )
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
