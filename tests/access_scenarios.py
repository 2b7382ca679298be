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
from dataclasses import dataclass
from typing import Any

from referral.security.policy import ROLE_PERMISSIONS, Permission, Role
from tests.factories import Person, World


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


@scenarios_for("admin.country_list")
def _country_lists(world: World, role: Role) -> list[Scenario]:
    return [
        Scenario("a country list", {"name": "ethnicity"}, 200),
        Scenario("a core GBVIMS list", {"name": "gbv_type"}, 404),
    ]


@scenarios_for("admin.list_item")
def _country_list_items(world: World, role: Role) -> list[Scenario]:
    return [
        Scenario("a default item", {"name": "location_type", "code": "home"}, 200),
        Scenario("unknown item", {"name": "location_type", "code": "nowhere"}, 404),
    ]


UNKNOWN = "NOSUCHRECORD0000"


# --- directory and pathways: shared by every organisation, so no per-organisation cases ---


def _directory(world: World) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        from referral.directory.models import Sector
        from referral.pathways.models import PathwayStatus
        from tests.factories import make_areas, make_pathway, make_service

        areas = make_areas()
        coordinator = world.people[Role.GBV_COORDINATOR].user
        service = make_service(world.own, Sector.HEALTH, "Clinic", [areas.province])
        published = make_pathway(areas.kesa, coordinator, [(Sector.HEALTH, [service])])
        draft = make_pathway(
            areas.kesa, coordinator, [(Sector.HEALTH, [service])], status=PathwayStatus.DRAFT
        )
        review = make_pathway(
            areas.dalo, coordinator, [(Sector.HEALTH, [service])], status=PathwayStatus.IN_REVIEW
        )
        return {
            "areas": areas,
            "service": service,
            "published": published,
            "draft": draft,
            "review": review,
        }

    return dict(world.once("directory", build))


@scenarios_for("directory.edit_area", "pathways.area")
def _areas(world: World, role: Role) -> list[Scenario]:
    area = _directory(world)["areas"].kesa
    return [
        Scenario("area", {"public_id": area.public_id}, 200),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("directory.service", "directory.edit_service")
def _services(world: World, role: Role) -> list[Scenario]:
    service = _directory(world)["service"]
    return [
        Scenario("service", {"public_id": service.public_id}, 200),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


def _draft_answer(role: Role) -> int:
    """Drafts and versions in review exist only for pathway managers."""
    return 200 if Permission.MANAGE_PATHWAYS in ROLE_PERMISSIONS[role] else 404


@scenarios_for("pathways.version", "pathways.edit_version")
def _versions(world: World, role: Role) -> list[Scenario]:
    records = _directory(world)
    return [
        Scenario("published version", {"public_id": records["published"].public_id}, 200),
        Scenario("draft version", {"public_id": records["draft"].public_id}, _draft_answer(role)),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("pathways.compare")
def _compare(world: World, role: Role) -> list[Scenario]:
    records = _directory(world)
    draft, published = records["draft"].public_id, records["published"].public_id
    return [
        Scenario(
            "two versions of one area", {"public_id": draft, "with": published}, _draft_answer(role)
        ),
        Scenario(
            "versions of two areas", {"public_id": draft, "with": records["review"].public_id}, 404
        ),
        Scenario("unknown", {"public_id": UNKNOWN, "with": published}, 404),
    ]


@scenarios_for("pathways.edit_step")
def _steps(world: World, role: Role) -> list[Scenario]:
    draft = _directory(world)["draft"]
    return [
        Scenario("new step", {"public_id": draft.public_id}, 200),
        Scenario(
            "existing step",
            {"public_id": draft.public_id, "step_id": draft.steps[0].public_id},
            200,
        ),
        Scenario("unknown step", {"public_id": draft.public_id, "step_id": UNKNOWN}, 404),
        Scenario("unknown version", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("pathways.step_action")
def _step_actions(world: World, role: Role) -> list[Scenario]:
    draft = _directory(world)["draft"]
    step = draft.steps[0].public_id
    return [
        Scenario(
            "move a step", {"public_id": draft.public_id, "step_id": step, "action": "down"}, 302
        ),
        Scenario(
            "unknown step", {"public_id": draft.public_id, "step_id": UNKNOWN, "action": "up"}, 404
        ),
    ]


@scenarios_for("pathways.move")
def _moves(world: World, role: Role) -> list[Scenario]:
    review = _directory(world)["review"]
    return [
        Scenario("return to draft", {"public_id": review.public_id, "action": "return"}, 302),
        Scenario("unknown", {"public_id": UNKNOWN, "action": "submit"}, 404),
    ]


@scenarios_for("pathways.new_version")
def _new_versions(world: World, role: Role) -> list[Scenario]:
    area = _directory(world)["areas"].dalo
    return [
        Scenario("new draft", {"public_id": area.public_id}, 302),
        Scenario("unknown area", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("pathways.publish")
def _publish(world: World, role: Role) -> list[Scenario]:
    review = _directory(world)["review"]
    return [
        Scenario("version in review", {"public_id": review.public_id}, 200),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


# --- cases and referrals: per organisation, owner and assignment ------------------------


def _cases(world: World) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        from flask import current_app

        from referral.cases import services as cases
        from referral.cases.models import ActionItem
        from referral.directory.models import Sector
        from referral.referrals.models import Need
        from tests.factories import (
            incident,
            make_service,
            open_case,
            publish_pathway,
            referral_consent,
            request,
        )

        _directory(world)  # its areas first: the case helpers reuse the province
        with current_app.test_request_context():
            own_worker = world.people[Role.CASEWORKER].user
            other_worker = world.others[Role.CASEWORKER].user
            own_service = make_service(world.own, Sector.HEALTH, name="Own clinic")
            other_service = make_service(world.other, Sector.HEALTH, name="Other clinic")
            publish_pathway(own_worker, [own_service, other_service])
            own_case = open_case(own_worker)
            other_case = open_case(other_worker)
            own_incident = incident(own_case, own_worker, hours_ago=24 * 10)
            other_incident = incident(other_case, other_worker, hours_ago=24 * 10)
            consent = referral_consent(own_case, own_worker, other_service)
            outgoing = cases.refer(
                own_case, request(other_service), consent=consent, actor=own_worker
            )
            incoming = cases.refer(
                other_case,
                request(own_service),
                consent=referral_consent(other_case, other_worker, own_service),
                actor=other_worker,
            )
            item = cases.add_action_item(
                own_case, Need.SAFETY_SECURITY, "Safety plan", None, actor=own_worker
            )
            from referral.cases import transfers

            # a transfer proposed each way: own case to the other organisation, and the
            # other organisation's case to the own one
            outgoing_transfer = transfers.propose_transfer(
                own_case, world.other, consented=True, note="Moving", actor=own_worker
            )
            incoming_transfer = transfers.propose_transfer(
                other_case, world.own, consented=True, note="Moving", actor=other_worker
            )
            from referral.extensions import db

            db.session.commit()
            assert isinstance(item, ActionItem)
            return {
                "own_case": own_case,
                "other_case": other_case,
                "consent": consent,
                "outgoing": outgoing,
                "incoming": incoming,
                "item": item,
                "own_incident": own_incident,
                "outgoing_transfer": outgoing_transfer,
                "incoming_transfer": incoming_transfer,
                "other_incident": other_incident,
            }

    return dict(world.once("cases", build))


@scenarios_for(
    "cases.show",
    "cases.details",
    "cases.edit",
    "cases.consent",
    "cases.incident",
    "cases.refer",
    "cases.stage",
    "cases.add_action",
    "cases.add_follow_up",
    "cases.request_closure",
    "cases.decide_closure",
    "cases.reopen",
    "cases.assign",
    "cases.reassign",
    "cases.transfer",
    "cases.legal_hold",
)
def _case_pages(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    return [
        Scenario(
            "own org case (own/assigned or supervised)",
            {"public_id": records["own_case"].public_id},
            200,
        ),
        Scenario("other org case", {"public_id": records["other_case"].public_id}, 404),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


# --- PSEA allegations, interim delegation, victim assistance ----------------------------


def _psea(world: World) -> dict[str, Any]:
    """Allegation "own" (received by own org, consents to assistance), "other" (received by
    the other org) and "routed" (received by the other org, routed to own org); an active
    delegation; assistance records of each organisation."""

    def build() -> dict[str, Any]:
        from referral.assistance import services as assistance
        from referral.assistance.models import AssistanceNeed
        from referral.clock import utcnow
        from referral.directory.models import AgeGroup, Sex
        from referral.extensions import db
        from referral.psea import delegation, services
        from referral.psea.models import (
            Category,
            Channel,
            EntityType,
            PersonnelCategory,
            SurvivorAgeGroup,
            SurvivorSex,
        )

        def allegation(by: Person, consents: bool) -> Any:
            return services.record_allegation(
                services.AllegationData(
                    received_at=utcnow(),
                    channel=Channel.HOTLINE,
                    incident_from=None,
                    incident_to=None,
                    area=None,
                    category=Category.SEXUAL_EXPLOITATION,
                    entity_type=EntityType.UNKNOWN,
                    entity_organisation=None,
                    personnel_category=PersonnelCategory.STAFF,
                    survivors={(SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1},
                    consents_to_assistance=consents,
                ),
                actor=by.user,
            )

        own = allegation(world.people[Role.PSEA_FOCAL_POINT], True)
        other = allegation(world.others[Role.PSEA_FOCAL_POINT], False)
        routed = allegation(world.others[Role.PSEA_FOCAL_POINT], False)
        services.route(routed, world.own, actor=world.others[Role.PSEA_FOCAL_POINT].user)
        granted = delegation.grant(
            world.people[Role.GBV_COORDINATOR].user,
            utcnow().date(),
            "Cover",
            actor=world.people[Role.ADMIN].user,
        )
        areas = _directory(world)["areas"]

        def record(by: Person) -> Any:
            return assistance.open_record(
                assistance.AssistanceData(
                    age_group=AgeGroup.ADULT,
                    sex=Sex.FEMALE,
                    area=areas.kesa,
                    needs=[AssistanceNeed.MEDICAL],
                    consents_to_assistance=True,
                ),
                actor=by.user,
            )

        own_record = record(world.people[Role.VA_FOCAL_POINT])
        other_record = record(world.others[Role.VA_FOCAL_POINT])
        db.session.commit()
        return {
            "own": own.public_id,
            "other": other.public_id,
            "routed": routed.public_id,
            "delegation": granted.public_id,
            "own_record": own_record.public_id,
            "other_record": other_record.public_id,
        }

    return dict(world.once("psea", build))


def _sees(role: Role, which: str) -> int:
    """Coordinator: all; focal point: received by or routed to own org; VA: consenting.
    The world's GBV coordinator holds an interim delegation (R22): coordinator rights."""
    if role in (Role.PSEA_COORDINATOR, Role.GBV_COORDINATOR):
        return 200
    if role is Role.PSEA_FOCAL_POINT:
        return 200 if which in ("own", "routed") else 404
    if role is Role.VA_FOCAL_POINT:
        return 200 if which == "own" else 404
    return 404


@scenarios_for(
    "psea.show",
    "psea.narrative",
    "psea.route",
    "psea.acknowledge",
    "psea.outcome",
    "psea.legal_hold",
)
def _allegations(world: World, role: Role) -> list[Scenario]:
    records = _psea(world)
    return [
        *(
            Scenario(f"allegation {which}", {"public_id": records[which]}, _sees(role, which))
            for which in ("own", "other", "routed")
        ),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("cases.withdraw_consent")
def _case_consents(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    own = records["own_case"].public_id
    return [
        Scenario(
            "consent of the case",
            {"public_id": own, "consent_id": records["consent"].public_id},
            200,
        ),
        Scenario("unknown consent", {"public_id": own, "consent_id": UNKNOWN}, 404),
        Scenario(
            "other org case",
            {
                "public_id": records["other_case"].public_id,
                "consent_id": records["consent"].public_id,
            },
            404,
        ),
    ]


@scenarios_for("cases.action_status")
def _case_actions(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    own = records["own_case"].public_id
    return [
        Scenario("item of the case", {"public_id": own, "item_id": records["item"].public_id}, 200),
        Scenario("unknown item", {"public_id": own, "item_id": UNKNOWN}, 404),
    ]


@scenarios_for("cases.edit_incident")
def _case_incidents(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    own = records["own_case"].public_id
    return [
        Scenario(
            "incident of the case",
            {"public_id": own, "incident_id": records["own_incident"].public_id},
            200,
        ),
        Scenario("unknown incident", {"public_id": own, "incident_id": UNKNOWN}, 404),
        Scenario(
            "incident of another organisation's case",
            {"public_id": own, "incident_id": records["other_incident"].public_id},
            404,
        ),
        Scenario(
            "other org case",
            {
                "public_id": records["other_case"].public_id,
                "incident_id": records["other_incident"].public_id,
            },
            404,
        ),
    ]


@scenarios_for("cases.withdraw_transfer")
def _case_transfers(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    own = records["own_case"].public_id
    return [
        Scenario(
            "transfer of the case",
            {"public_id": own, "transfer_id": records["outgoing_transfer"].public_id},
            200,
        ),
        Scenario(
            "transfer of another organisation's case",
            {"public_id": own, "transfer_id": records["incoming_transfer"].public_id},
            404,
        ),
        Scenario("unknown transfer", {"public_id": own, "transfer_id": UNKNOWN}, 404),
    ]


@scenarios_for("cases.transfer_request", "cases.accept_transfer", "cases.decline_transfer")
def _transfer_requests(world: World, role: Role) -> list[Scenario]:
    """Only the receiving organisation's supervisor sees a transfer request."""
    records = _cases(world)
    return [
        Scenario(
            "transfer proposed to own org",
            {"transfer_id": records["incoming_transfer"].public_id},
            200,
        ),
        Scenario(
            "transfer proposed by own org to another",
            {"transfer_id": records["outgoing_transfer"].public_id},
            404,
        ),
        Scenario("unknown", {"transfer_id": UNKNOWN}, 404),
    ]


@scenarios_for("cases.withdraw_referral", "cases.referral_slip")
def _case_referrals(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    own = records["own_case"].public_id
    return [
        Scenario(
            "referral of the case",
            {"public_id": own, "referral_id": records["outgoing"].public_id},
            200,
        ),
        Scenario(
            "referral of another case",
            {"public_id": own, "referral_id": records["incoming"].public_id},
            404,
        ),
    ]


@scenarios_for("referrals.show", "referrals.act")
def _received_referrals(world: World, role: Role) -> list[Scenario]:
    records = _cases(world)
    return [
        Scenario("referral to own org", {"public_id": records["incoming"].public_id}, 200),
        Scenario("referral to other org", {"public_id": records["outgoing"].public_id}, 404),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("psea.end_delegation")
def _delegations(world: World, role: Role) -> list[Scenario]:
    records = _psea(world)
    return [
        Scenario("active delegation", {"public_id": records["delegation"]}, 302),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("assistance.show", "assistance.refer", "assistance.close")
def _assistance(world: World, role: Role) -> list[Scenario]:
    records = _psea(world)
    return [
        Scenario("record of own org", {"public_id": records["own_record"]}, 200),
        Scenario("record of other org", {"public_id": records["other_record"]}, 404),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


def _token_of(world: World, person: Person, name: str) -> str:
    """A stored token of ``person`` (made directly: any role, scopes unchecked)."""
    from datetime import timedelta

    from referral.api.models import ApiToken
    from referral.clock import utcnow
    from referral.extensions import db

    def build() -> str:
        token = ApiToken(
            user_id=person.user.id,
            name=name,
            prefix="rfl_test",
            token_hash=f"{name}-{person.user.public_id}".ljust(64, "0")[:64],
            scopes="directory:read",
            role=person.user.role,
            organisation_id=person.user.organisation_id,
            created_by_id=person.user.id,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=30),
        )
        db.session.add(token)
        db.session.commit()
        return token.public_id

    return str(world.once(f"token:{name}:{person.user.public_id}", build))


@scenarios_for("tokens.revoke")
def _tokens(world: World, role: Role) -> list[Scenario]:
    own = _token_of(world, world.people[role], "own")
    theirs = _token_of(world, world.others[Role.CASEWORKER], "theirs")
    return [
        Scenario("own token", {"public_id": own}, 302),
        # an administrator revokes anyone's token; nobody else sees it
        Scenario("another user's token", {"public_id": theirs}, 302 if role is Role.ADMIN else 404),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]


@scenarios_for("tokens.service_account")
def _service_accounts(world: World, role: Role) -> list[Scenario]:
    def build() -> str:
        from referral.api import tokens
        from referral.extensions import db

        account = tokens.create_service_account(
            world.other,
            name="OTHER case system",
            role=Role.SERVICE_FOCAL_POINT,
            actor=world.people[Role.ADMIN].user,
        )
        db.session.commit()
        return account.public_id

    account = str(world.once("service_account", build))
    return [
        Scenario("service account", {"public_id": account}, 200),
        Scenario("a person", {"public_id": world.people[Role.CASEWORKER].user.public_id}, 404),
        Scenario("unknown", {"public_id": UNKNOWN}, 404),
    ]
