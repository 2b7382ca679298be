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


# --- directory and pathways (issue 4) ----------------------------------------------------


@dataclass
class DirectoryWorld:
    areas: object
    service: object
    published: object
    draft: object
    step_id: str


def _directory_world(world: World) -> DirectoryWorld:
    """Areas, a service, a published version and a draft, built once per world."""
    cached = getattr(world, "_directory", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from referral.directory.models import Sector
    from referral.pathways import services as pathways
    from referral.pathways.models import PathwayStatus
    from tests.directory_helpers import make_areas, make_pathway, make_service

    areas = make_areas()
    coordinator = world.people[Role.GBV_COORDINATOR].user
    service = make_service(world.own, Sector.HEALTH, "Matrix clinic", [areas.kesa])
    published = make_pathway(areas.kesa, coordinator, [(Sector.HEALTH, [service])])
    draft = make_pathway(
        areas.kesa, coordinator, [(Sector.HEALTH, [service])], status=PathwayStatus.DRAFT
    )
    assert pathways.version_by_public_id(draft.public_id) is not None
    built = DirectoryWorld(areas, service, published, draft, draft.steps[0].public_id)
    world._directory = built  # type: ignore[attr-defined]
    return built


@scenarios_for("directory.service", "directory.edit_service")
def _services(world: World, role: Role) -> list[Scenario]:
    d = _directory_world(world)
    return [
        Scenario("service", {"public_id": d.service.public_id}, 200),  # type: ignore[attr-defined]
        Scenario("unknown id", {"public_id": "NOSUCHSERVICE000"}, 404),
    ]


@scenarios_for("directory.edit_area", "pathways.area", "pathways.new_version")
def _areas(world: World, role: Role) -> list[Scenario]:
    d = _directory_world(world)
    return [
        Scenario("area", {"public_id": d.areas.camp.public_id}, 200),  # type: ignore[attr-defined]
        Scenario("unknown id", {"public_id": "NOSUCHAREA000000"}, 404),
    ]


def _manager(role: Role) -> bool:
    return role is Role.GBV_COORDINATOR


@scenarios_for("pathways.version", "pathways.edit_version", "pathways.publish")
def _versions(world: World, role: Role) -> list[Scenario]:
    d = _directory_world(world)
    return [
        Scenario("published version", {"public_id": d.published.public_id}, 200),  # type: ignore[attr-defined]
        # Drafts are for pathway managers only; other readers are told nothing exists.
        Scenario(
            "draft version",
            {"public_id": d.draft.public_id},  # type: ignore[attr-defined]
            200 if _manager(role) else 404,
        ),
        Scenario("unknown id", {"public_id": "NOSUCHVERSION000"}, 404),
    ]


@scenarios_for("pathways.compare")
def _compare(world: World, role: Role) -> list[Scenario]:
    d = _directory_world(world)
    published, draft = d.published.public_id, d.draft.public_id  # type: ignore[attr-defined]
    return [
        Scenario("two versions", {"public_id": published, "with": published}, 200),
        Scenario(
            "with a draft", {"public_id": published, "with": draft}, 200 if _manager(role) else 404
        ),
        Scenario("no second version", {"public_id": published}, 404),
    ]


@scenarios_for("pathways.edit_step", "pathways.step_action", "pathways.move")
def _steps(world: World, role: Role) -> list[Scenario]:
    d = _directory_world(world)
    draft = d.draft.public_id  # type: ignore[attr-defined]
    return [
        Scenario(
            "step of a draft",
            {"public_id": draft, "step_id": d.step_id, "action": "up"},
            200,
        ),
        Scenario(
            "unknown version",
            {"public_id": "NOSUCHVERSION000", "step_id": d.step_id, "action": "up"},
            404,
        ),
    ]
