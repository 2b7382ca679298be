"""Shared set-up for the PSEA tests: organisations, people, allegations, announced events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from referral import clock
from referral.audit.models import AuditEvent
from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector, Service
from referral.extensions import db
from referral.psea import services
from referral.psea.models import (
    Allegation,
    Category,
    Channel,
    EntityType,
    PersonnelCategory,
    SurvivorAgeGroup,
    SurvivorSex,
)
from referral.security.policy import Role
from tests.casehelpers import make_service, publish_pathway
from tests.conftest import Person, make_organisation, make_person


@dataclass
class Network:
    ngo: Organisation  # receives complaints, has a PSEA focal point
    agency: Organisation  # another member with a PSEA focal point
    mission: Organisation  # peacekeeping mission with a PSEA focal point (R23)
    outsider: Organisation  # no PSEA focal point: not a member for routing
    un: Organisation  # hosts the coordinator
    ngo_focal: Person
    agency_focal: Person
    mission_focal: Person
    coordinator: Person
    va: Person


@pytest.fixture
def network() -> Network:
    ngo = make_organisation("HBI")
    agency = make_organisation("LWHA", OrganisationType.NATIONAL_NGO)
    mission = make_organisation("UNSMA", OrganisationType.PEACEKEEPING_MISSION, False)
    outsider = make_organisation("OUTS", OrganisationType.GOVERNMENT, False)
    un = make_organisation("UNPOA", OrganisationType.UN_AGENCY, False)
    return Network(
        ngo=ngo,
        agency=agency,
        mission=mission,
        outsider=outsider,
        un=un,
        ngo_focal=make_person(Role.PSEA_FOCAL_POINT, ngo),
        agency_focal=make_person(Role.PSEA_FOCAL_POINT, agency),
        mission_focal=make_person(Role.PSEA_FOCAL_POINT, mission),
        coordinator=make_person(Role.PSEA_COORDINATOR, un),
        va=make_person(Role.VA_FOCAL_POINT, un),
    )


def allegation_data(**changes: Any) -> services.AllegationData:
    values: dict[str, Any] = {
        "received_at": clock.utcnow(),
        "channel": Channel.HOTLINE,
        "incident_from": None,
        "incident_to": None,
        "area": None,
        "category": Category.SEXUAL_EXPLOITATION,
        "entity_type": EntityType.UNKNOWN,
        "entity_organisation": None,
        "personnel_category": PersonnelCategory.STAFF,
        "survivors": {(SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1},
        "consents_to_assistance": False,
        "narrative": None,
    }
    values.update(changes)
    return services.AllegationData(**values)


def record(person: Person, **changes: Any) -> Allegation:
    allegation = services.record_allegation(allegation_data(**changes), actor=person.user)
    db.session.commit()
    return allegation


def audit_trail(prefix: str = "psea.") -> list[AuditEvent]:
    """The audit events recorded so far (committed), oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
    )


def actions(prefix: str = "psea.") -> list[str]:
    return [event.action for event in audit_trail(prefix)]


@dataclass
class Services:
    provider: Organisation
    receiver: Person
    case_management: Service
    health: Service


@pytest.fixture
def gbv_services(network: Network) -> Services:
    provider = make_organisation("KCSS", OrganisationType.COMMUNITY_BASED)
    receiver = make_person(Role.SERVICE_FOCAL_POINT, provider)
    coordinator = make_person(Role.GBV_COORDINATOR, network.un)
    case_management = make_service(provider, Sector.GBV_CASE_MANAGEMENT)
    health = make_service(provider, Sector.HEALTH)
    publish_pathway(coordinator.user, [health, case_management])
    return Services(provider, receiver, case_management, health)
