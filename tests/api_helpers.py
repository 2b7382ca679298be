"""A small world for the API tests: two organisations that refer to each other, a person
of every role in each, and a token per person carrying every scope its role can use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from referral.api import tokens
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import Sector, Service
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import Referral
from referral.security.policy import Role, scopes_for
from tests.casehelpers import (
    incident,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)
from tests.conftest import Person, make_organisation, make_person


def issue(user: User, *scopes: Any, days: int = 30, name: str = "test") -> str:
    """A token's secret for ``user`` (every scope its role can use unless named)."""
    chosen = list(scopes) or scopes_for(user)
    if user.service_account:
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
        assert admin is not None
        actor = admin
    else:
        actor = user
    issued = tokens.issue_token(user, name=name, scopes=chosen, days=days, actor=actor)
    db.session.commit()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def send_referral(
    caseworker: User,
    service: Service,
    *,
    shared: tuple[str, ...] = (),
    note: str = "",
) -> Referral:
    case = open_case(
        caseworker,
        name="Amina Testname",
        contact="+236 70 00 00 00",
        narrative="Attacked on the road to the market.",
    )
    incident(case, caseworker)
    consent = referral_consent(case, caseworker, service, shared)
    referral = engine.create_referral(
        case, request(service, shared=shared, note=note), consent=consent, actor=caseworker
    )
    db.session.commit()
    return referral


@dataclass
class ApiWorld:
    own: Organisation
    other: Organisation
    people: dict[Role, Person]
    others: dict[Role, Person]
    own_service: Service
    other_service: Service
    # referrals received by own (from other) and by other (from own)
    to_own: Referral
    to_other: Referral
    secrets: dict[Role, str] = field(default_factory=dict)
    other_secrets: dict[Role, str] = field(default_factory=dict)


def build_api_world() -> ApiWorld:
    own = make_organisation("OWN", OrganisationType.INTERNATIONAL_NGO, True)
    other = make_organisation("OTHER", OrganisationType.NATIONAL_NGO, True)
    people = {r: make_person(r, own, email=f"{r.value}@own.example.org") for r in Role}
    others = {r: make_person(r, other, email=f"{r.value}@other.example.org") for r in Role}
    own_service = make_service(own, Sector.HEALTH, name="OWN clinic")
    other_service = make_service(other, Sector.HEALTH, name="OTHER clinic")
    publish_pathway(people[Role.GBV_COORDINATOR].user, [own_service, other_service])
    to_own = send_referral(
        others[Role.CASEWORKER].user,
        own_service,
        shared=("name", "contact", "incident_type"),
        note="Survivor prefers a female doctor; call after 5 pm.",
    )
    to_other = send_referral(people[Role.CASEWORKER].user, other_service)
    world = ApiWorld(own, other, people, others, own_service, other_service, to_own, to_other)
    for role in Role:
        if scopes_for(people[role].user):
            world.secrets[role] = issue(people[role].user)
            world.other_secrets[role] = issue(others[role].user)
    return world
