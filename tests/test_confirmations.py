"""Confirmation before irreversible actions: each one has a tick box whose label
says what cannot be undone, checked on the server (pages work without JavaScript).
Without the tick the form comes back with a 4xx, the message tied to the box, what was
typed kept, and nothing changed; with it the action is done."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from referral.assistance import services as assistance
from referral.assistance.models import AssistanceNeed, AssistanceRecord
from referral.auth import services as auth_services
from referral.cases import services as cases
from referral.cases.models import Case, ClosureReason
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import AgeGroup, Sector, Sex
from referral.extensions import db
from referral.lifecycle import retention
from referral.pathways.models import PathwayStatus, PathwayVersion
from referral.psea import services as psea
from referral.psea.models import Allegation, AllegationState
from referral.referrals import services as engine
from referral.referrals.models import Consent, Referral, ReferralState
from referral.security.policy import Role
from tests.conftest import form_post, reauth, sign_in
from tests.factories import (
    Person,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    record_allegation,
    referral_consent,
    request,
    the_area,
)

MESSAGE = "Tick this box to confirm. Nothing was changed."
SEA_PROCEDURE = (
    "Report sexual exploitation and abuse to the PSEA focal points of the network: "
    "call +236 70 00 00 00 or write to psea@example.org, every day."
)


@dataclass
class Gated:
    """One irreversible action: who does it, where, with what, and what it changes."""

    actor: Person
    page: str
    url: str
    data: dict[str, str]
    box: str  # the name of the tick box
    state: Callable[[], Any]  # read again after each post: must not move without the tick
    kept: list[str] = field(default_factory=list)  # typed values shown again on refusal
    reauth: str | None = None  # prefix of the password and code asked again, if any
    done: int = 302  # the status of the confirmed action (200: a page shows the result)


def _reload(model: Any, row_id: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, row_id)


# --- the world each action needs ------------------------------------------------------------


@dataclass
class CaseWorld:
    caseworker: Person
    supervisor: Person
    receiver: Person
    case: Case
    consent: Consent
    referral: Referral


def _case_world(app: Flask) -> CaseWorld:
    org = make_organisation("HBI")
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    caseworker = make_person(Role.CASEWORKER, org)
    supervisor = make_person(Role.SUPERVISOR, org)
    receiver = make_person(Role.SERVICE_FOCAL_POINT, clinic)
    health = make_service(clinic, Sector.HEALTH)
    publish_pathway(caseworker.user, [health])
    case = open_case(caseworker.user)
    consent = referral_consent(case, caseworker.user, health)
    with app.test_request_context():
        referral = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
    db.session.commit()
    return CaseWorld(caseworker, supervisor, receiver, case, consent, referral)


def _referral_state(world: CaseWorld) -> Callable[[], Any]:
    return lambda: _reload(Referral, world.referral.id).state


def _decline(app: Flask) -> Gated:
    world = _case_world(app)
    page = f"/referrals/{world.referral.public_id}"
    reason = "No capacity this week"
    return Gated(
        world.receiver,
        page,
        f"{page}/act",
        {"action": "decline", "reason": reason},
        "confirm",
        _referral_state(world),
        [reason],
    )


def _close_referral(app: Flask) -> Gated:
    world = _case_world(app)
    engine.transition(world.referral.public_id, ReferralState.ACCEPTED, actor=world.receiver.user)
    db.session.commit()
    page = f"/referrals/{world.referral.public_id}"
    reason = "Survivor moved away"
    return Gated(
        world.receiver,
        page,
        f"{page}/act",
        {"action": "close", "reason": reason},
        "confirm",
        _referral_state(world),
        [reason],
    )


def _withdraw_consent(app: Flask) -> Gated:
    world = _case_world(app)
    page = f"/cases/{world.case.public_id}/consents/{world.consent.public_id}/withdraw"
    reason = "The survivor asked to stop sharing"
    return Gated(
        world.caseworker,
        page,
        page,
        {"reason": reason},
        "confirm",
        lambda: _reload(Consent, world.consent.id).withdrawn_at,
        [reason],
    )


def _withdraw_referral(app: Flask) -> Gated:
    world = _case_world(app)
    page = f"/cases/{world.case.public_id}/referrals/{world.referral.public_id}/withdraw"
    reason = "Referred by mistake"
    return Gated(
        world.caseworker,
        page,
        page,
        {"reason": reason},
        "confirm",
        _referral_state(world),
        [reason],
    )


def _request_closure(app: Flask) -> Gated:
    world = _case_world(app)
    page = f"/cases/{world.case.public_id}/closure"
    note = "Needs met after three sessions"
    return Gated(
        world.caseworker,
        page,
        page,
        {"closure-reason": "needs_met", "closure-note": note},
        "closure-confirm",
        lambda: _reload(Case, world.case.id).stage,
        [note],
    )


def _approve_closure(app: Flask) -> Gated:
    world = _case_world(app)
    cases.request_closure(world.case, ClosureReason.NEEDS_MET, "", actor=world.caseworker.user)
    db.session.commit()
    page = f"/cases/{world.case.public_id}"
    return Gated(
        world.supervisor,
        page,
        f"{page}/closure/decision",
        {"decision": "approve"},
        "confirm",
        lambda: _reload(Case, world.case.id).stage,
    )


def _release_case_hold(app: Flask) -> Gated:
    world = _case_world(app)
    retention.place_hold(db.session(), world.case, "Court order 12", world.supervisor.user)
    db.session.commit()
    page = f"/cases/{world.case.public_id}/legal-hold"
    reason = "Court case over"
    return Gated(
        world.supervisor,
        page,
        page,
        {"hold-action": "release", "hold-reason": reason},
        "hold-confirm",
        lambda: retention.active_hold(db.session(), "case", world.case.public_id) is not None,
        [reason],
    )


@dataclass
class PseaWorld:
    focal: Person
    entity_focal: Person
    coordinator: Person
    entity: Organisation
    allegation: Allegation


def _psea_world() -> PseaWorld:
    ngo = make_organisation("HBI")
    entity = make_organisation("LWHA", OrganisationType.NATIONAL_NGO)
    un = make_organisation("UNPOA", OrganisationType.UN_AGENCY, False)
    focal = make_person(Role.PSEA_FOCAL_POINT, ngo)
    entity_focal = make_person(Role.PSEA_FOCAL_POINT, entity)
    coordinator = make_person(Role.PSEA_COORDINATOR, un)
    return PseaWorld(focal, entity_focal, coordinator, entity, record_allegation(focal))


def _allegation_state(world: PseaWorld) -> Callable[[], Any]:
    return lambda: _reload(Allegation, world.allegation.id).state


def _route(app: Flask) -> Gated:
    world = _psea_world()
    page = f"/allegations/{world.allegation.public_id}"
    return Gated(
        world.focal,
        page,
        f"{page}/route",
        {"organisation": world.entity.public_id},
        "confirm",
        _allegation_state(world),
    )


def _acknowledged(world: PseaWorld) -> None:
    psea.route(world.allegation, world.entity, actor=world.focal.user)
    psea.acknowledge(world.allegation, actor=world.entity_focal.user)
    db.session.commit()


def _final_outcome(app: Flask) -> Gated:
    world = _psea_world()
    _acknowledged(world)
    page = f"/allegations/{world.allegation.public_id}"
    return Gated(
        world.entity_focal,
        page,
        f"{page}/outcome",
        {"outcome": "unsubstantiated"},
        "confirm",
        _allegation_state(world),
    )


def _release_allegation_hold(app: Flask) -> Gated:
    world = _psea_world()
    retention.place_hold(db.session(), world.allegation, "Tribunal", world.coordinator.user)
    db.session.commit()
    page = f"/allegations/{world.allegation.public_id}"
    public_id = world.allegation.public_id
    return Gated(
        world.coordinator,
        page,
        f"{page}/legal-hold",
        {"hold-action": "release", "hold-reason": "Tribunal closed"},
        "hold-confirm",
        lambda: retention.active_hold(db.session(), "allegation", public_id) is not None,
        ["Tribunal closed"],
    )


def _close_assistance(app: Flask) -> Gated:
    un = make_organisation("UNPOA", OrganisationType.UN_AGENCY, False)
    va = make_person(Role.VA_FOCAL_POINT, un)
    found = assistance.open_record(
        assistance.AssistanceData(
            age_group=AgeGroup.ADULT,
            sex=Sex.FEMALE,
            area=the_area(),
            needs=[AssistanceNeed.MEDICAL],
            consents_to_assistance=True,
        ),
        actor=va.user,
    )
    db.session.commit()
    page = f"/assistance/{found.public_id}"
    return Gated(
        va,
        page,
        f"{page}/close",
        {},
        "close-confirm",
        lambda: _reload(AssistanceRecord, found.id).state,
    )


@dataclass
class AdminWorld:
    admin: Person
    worker: Person
    other: Organisation


def _admin_world() -> AdminWorld:
    org = make_organisation("HBI")
    other = make_organisation("LWHA", OrganisationType.NATIONAL_NGO)
    worker = make_person(Role.CASEWORKER, other)
    auth_services.replace_recovery_codes(worker.user)
    db.session.commit()
    return AdminWorld(make_person(Role.ADMIN, org), worker, other)


def _user_fields(world: AdminWorld) -> dict[str, str]:
    user = world.worker.user
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.value,
        "organisation": world.other.public_id,
    }


def _deactivate_user(app: Flask) -> Gated:
    world = _admin_world()
    page = f"/admin/users/{world.worker.user.public_id}"
    return Gated(
        world.admin,
        page,
        page,
        _user_fields(world),  # "active" left unticked
        "confirm",
        lambda: _reload(User, world.worker.user.id).active,
    )


def _deactivate_organisation(app: Flask) -> Gated:
    world = _admin_world()
    page = f"/admin/organisations/{world.other.public_id}"
    return Gated(
        world.admin,
        page,
        page,
        {"name": "Renamed NGO", "acronym": "LWHA", "org_type": "national_ngo", "time_zone": "UTC"},
        "confirm",
        lambda: _reload(Organisation, world.other.id).active,
        ["Renamed NGO"],
    )


def _reset_password(app: Flask) -> Gated:
    world = _admin_world()
    page = f"/admin/users/{world.worker.user.public_id}"
    return Gated(
        world.admin,
        page,
        f"{page}/reset-password",
        {},
        "reset-password-confirm",
        lambda: _reload(User, world.worker.user.id).password_hash,
        reauth="reset-password",
        done=200,  # the page shows the new one-time password
    )


def _reset_two_factor(app: Flask) -> Gated:
    world = _admin_world()
    page = f"/admin/users/{world.worker.user.public_id}"
    return Gated(
        world.admin,
        page,
        f"{page}/reset-2fa",
        {},
        "reset-2fa-confirm",
        lambda: _reload(User, world.worker.user.id).totp_enrolled_at,
        reauth="reset-2fa",
    )


def _new_recovery_codes(app: Flask) -> Gated:
    world = _admin_world()
    user_id = world.worker.user.id
    return Gated(
        world.worker,
        "/auth/account",
        "/auth/account/recovery-codes",
        {},
        "codes-confirm",
        lambda: sorted(c.code_hash for c in _reload(User, user_id).recovery_codes),
        reauth="codes",
        done=200,  # the page shows the new codes
    )


def _sign_out_everywhere(app: Flask) -> Gated:
    world = _admin_world()
    return Gated(
        world.worker,
        "/auth/account",
        "/auth/sign-out-everywhere",
        {},
        "everywhere-confirm",
        lambda: _reload(User, world.worker.user.id).session_version,
        reauth="everywhere",
    )


def _pathway(status: PathwayStatus) -> tuple[Person, PathwayVersion]:
    org = make_organisation("UNPOA", OrganisationType.UN_AGENCY)
    coordinator = make_person(Role.GBV_COORDINATOR, org)
    version = publish_pathway(coordinator.user, [make_service(org, Sector.HEALTH)])
    if status is not PathwayStatus.PUBLISHED:
        version.status, version.published_at, version.published_by_id = status, None, None
    version.sea_reporting_procedure = SEA_PROCEDURE
    db.session.commit()
    return coordinator, version


def _archive_pathway(app: Flask) -> Gated:
    coordinator, version = _pathway(PathwayStatus.PUBLISHED)
    page = f"/pathways/versions/{version.public_id}"
    return Gated(
        coordinator,
        page,
        f"{page}/archive",
        {},
        "confirm",
        lambda: _reload(PathwayVersion, version.id).status,
    )


def _publish_pathway(app: Flask) -> Gated:
    coordinator, version = _pathway(PathwayStatus.IN_REVIEW)
    page = f"/pathways/versions/{version.public_id}/publish"
    return Gated(
        coordinator,
        page,
        page,
        {"replaces": ""},
        "confirm",
        lambda: _reload(PathwayVersion, version.id).status,
    )


GATED: dict[str, Callable[[Flask], Gated]] = {
    "decline a referral": _decline,
    "close a referral without completing": _close_referral,
    "withdraw consent": _withdraw_consent,
    "withdraw a referral": _withdraw_referral,
    "request case closure": _request_closure,
    "approve case closure": _approve_closure,
    "release a legal hold on a case": _release_case_hold,
    "route an allegation": _route,
    "report a final allegation outcome": _final_outcome,
    "release a legal hold on an allegation": _release_allegation_hold,
    "close an assistance record": _close_assistance,
    "deactivate a user": _deactivate_user,
    "deactivate an organisation": _deactivate_organisation,
    "reset a user's password": _reset_password,
    "reset a user's second factor": _reset_two_factor,
    "replace my recovery codes": _new_recovery_codes,
    "sign out everywhere": _sign_out_everywhere,
    "archive a pathway version": _archive_pathway,
    "publish a pathway version": _publish_pathway,
}


# --- the checks -------------------------------------------------------------------------------


def _tick_boxes(html: str, name: str) -> list[str]:
    return [
        tag
        for tag in re.findall(r"<input\b[^>]*>", html)
        if f'name="{name}"' in tag and 'type="checkbox"' in tag
    ]


def _box_label(html: str, name: str) -> str:
    """The words of the (first) tick box's label: the text after the box, in its label."""
    found = re.search(
        rf'<label class="check"[^>]*>\s*<input\b[^>]*name="{re.escape(name)}"[^>]*>([^<]*)</label>',
        html,
    )
    assert found, name
    return " ".join(found.group(1).split())


def _message_tied_to_box(html: str, name: str) -> str:
    """The refusal message of the invalid tick box, found through its aria-describedby."""
    invalid = [tag for tag in _tick_boxes(html, name) if 'aria-invalid="true"' in tag]
    assert len(invalid) == 1, invalid
    described = re.search(r'aria-describedby="([^"]+)"', invalid[0])
    assert described, invalid[0]
    message = re.search(rf'id="{re.escape(described.group(1))}">([^<]*)<', html)
    assert message, described.group(1)
    return message.group(1)


@pytest.mark.parametrize("action", list(GATED))
def test_irreversible_action_needs_its_tick_box(app: Flask, action: str) -> None:
    gated = GATED[action](app)
    client = app.test_client()
    sign_in(client, gated.actor)
    page = client.get(gated.page).get_data(as_text=True)
    boxes = _tick_boxes(page, gated.box)
    assert boxes, f"{action}: no tick box {gated.box!r} on {gated.page}"
    assert len(_box_label(page, gated.box)) > 40, action  # it says what follows
    before = gated.state()
    data = {**gated.data, **(reauth(gated.actor, gated.reauth) if gated.reauth else {})}

    refused = form_post(client, gated.url, data, page=gated.page)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400, (action, refused.status_code)
    assert _message_tied_to_box(html, gated.box) == MESSAGE
    for typed in gated.kept:
        assert typed in html, (action, typed)
    assert gated.state() == before, action

    done = form_post(client, gated.url, {**data, gated.box: "y"}, page=gated.page)
    assert done.status_code == gated.done, (action, done.status_code)
    assert gated.state() != before, action


def test_reversible_siblings_of_allegation_actions_need_no_tick(app: Flask) -> None:
    """Manual routing (the coordinator routes next) and an interim outcome go through."""
    world = _psea_world()
    focal = app.test_client()
    sign_in(focal, world.focal)
    page = f"/allegations/{world.allegation.public_id}"
    response = form_post(focal, f"{page}/route", {"organisation": "coordinator"}, page=page)
    assert response.status_code == 302
    assert _allegation_state(world)() is AllegationState.MANUAL_ROUTING

    world.allegation = record_allegation(world.focal)
    _acknowledged(world)
    entity = app.test_client()
    sign_in(entity, world.entity_focal)
    page = f"/allegations/{world.allegation.public_id}"
    html = entity.get(page).get_data(as_text=True)
    (outcome_box,) = _tick_boxes(html, "confirm")
    assert " required" not in outcome_box  # the browser cannot know which outcome is final
    interim = {"outcome": "under_investigation"}
    assert form_post(entity, f"{page}/outcome", interim, page=page).status_code == 302
    assert _allegation_state(world)() is AllegationState.IN_PROGRESS


def test_reversible_siblings_of_case_actions_need_no_tick(app: Flask) -> None:
    """Refusing a closure and placing a hold can be undone: no tick box. The tick boxes that
    always apply are required in the HTML too, so a browser stops an unticked submit."""
    world = _case_world(app)
    worker = app.test_client()
    sign_in(worker, world.caseworker)
    case_page = f"/cases/{world.case.public_id}"
    for withdrawal in (
        f"{case_page}/consents/{world.consent.public_id}/withdraw",
        f"{case_page}/referrals/{world.referral.public_id}/withdraw",
    ):
        html = worker.get(withdrawal).get_data(as_text=True)
        (box,) = _tick_boxes(html, "confirm")
        assert " required" in box and "novalidate" not in html, withdrawal

    cases.request_closure(world.case, ClosureReason.NEEDS_MET, "", actor=world.caseworker.user)
    db.session.commit()
    boss = app.test_client()
    sign_in(boss, world.supervisor)
    page = f"/cases/{world.case.public_id}"
    refuse = {"decision": "refuse", "reason": "Check the safety plan first."}
    assert form_post(boss, f"{page}/closure/decision", refuse, page=page).status_code == 302
    assert _reload(Case, world.case.id).stage.value == "follow_up"
    hold = {"hold-action": "place", "hold-reason": "Court order"}
    assert form_post(boss, f"{page}/legal-hold", hold, page=page).status_code == 302
    assert retention.active_hold(db.session(), "case", world.case.public_id) is not None


def test_saving_a_user_without_deactivating_needs_no_tick(app: Flask) -> None:
    world = _admin_world()
    admin = app.test_client()
    sign_in(admin, world.admin)
    page = f"/admin/users/{world.worker.user.public_id}"
    saved = form_post(admin, page, {**_user_fields(world), "full_name": "New Name", "active": "y"})
    assert saved.status_code == 302
    stored = _reload(User, world.worker.user.id)
    assert stored.active and stored.full_name == "New Name"
