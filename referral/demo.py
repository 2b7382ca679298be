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

    from referral.cases.demo import load_case_demo

    case_lines = load_case_demo(by_acronym)
    if not created:
        return [
            "Demo data is already loaded; sign-ins were printed when it was first loaded.",
            *case_lines,
        ]
    lines = [
        "Demo sign-ins (fictional data). Each account enrols an authenticator app",
        f"(TOTP) at its first sign-in. Password for every demo account: {password}",
    ]
    lines += [f"  {email:<38} {role.value:<20} {acronym}" for email, role, acronym in created]
    return lines + case_lines
