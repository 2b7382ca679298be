"""Who may open which record: the expectations the access matrix checks over HTTP.

Every endpoint whose URL names a record registers here a function that builds the
records it needs and returns scenarios: a label, the URL values, and the answer a user
whose role holds the endpoint's permission must get (200 for records they may see, 404
for another organisation's records or unknown ids). Users whose role lacks the
permission always get 403. An endpoint with URL values and no entry here fails the
matrix test, so a new endpoint cannot ship without its expectations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from referral.db import Organisation, OrganisationType
from referral.security.policy import Role
from tests.conftest import Person, make_organisation, make_person


@dataclass
class World:
    """Two organisations with one user of every role in the first (own) organisation and
    one of every role allowed there in the second (other) organisation."""

    own: Organisation
    other: Organisation
    people: dict[Role, Person] = field(default_factory=dict)
    others: dict[Role, Person] = field(default_factory=dict)


def build_world() -> World:
    own = make_organisation("OWN", OrganisationType.INTERNATIONAL_NGO, True)
    other = make_organisation("OTHER", OrganisationType.NATIONAL_NGO, True)
    world = World(own, other)
    for role in Role:
        world.people[role] = make_person(role, own, email=f"{role.value}@own.example.org")
        world.others[role] = make_person(role, other, email=f"{role.value}@other.example.org")
    return world


@dataclass(frozen=True)
class Scenario:
    label: str
    values: dict[str, str]
    expected: int  # for a user whose role holds the permission


ScenarioMaker = Callable[[World, Role], list[Scenario]]

SCENARIOS: dict[str, ScenarioMaker] = {}


def scenarios_for(*endpoints: str) -> Callable[[ScenarioMaker], ScenarioMaker]:
    def register(maker: ScenarioMaker) -> ScenarioMaker:
        for endpoint in endpoints:
            SCENARIOS[endpoint] = maker
        return maker

    return register


@scenarios_for("admin.edit_user", "admin.reset_password", "admin.reset_two_factor")
def _users(world: World, role: Role) -> list[Scenario]:
    return [
        Scenario(
            "user of own org", {"public_id": world.people[Role.CASEWORKER].user.public_id}, 200
        ),
        Scenario(
            "user of other org", {"public_id": world.others[Role.CASEWORKER].user.public_id}, 200
        ),
        Scenario("unknown id", {"public_id": "NOSUCHUSER000000"}, 404),
    ]


@scenarios_for("admin.edit_organisation")
def _organisations(world: World, role: Role) -> list[Scenario]:
    return [
        Scenario("own org", {"public_id": world.own.public_id}, 200),
        Scenario("other org", {"public_id": world.other.public_id}, 200),
        Scenario("unknown id", {"public_id": "NOSUCHORG0000000"}, 404),
    ]
