"""PSEA allegations: R17 minimal data, R18 outcome only, R19 deadlines, R20 child category,
visibility per role and organisation, audit of reveals and changes, R23 missions."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral import clock
from referral.db import Organisation
from referral.directory.models import Area, AreaLevel
from referral.extensions import db
from referral.psea import services
from referral.psea.forms import AllegationForm, OutcomeForm
from referral.psea.models import (
    ALLEGATION_WORKFLOW,
    Allegation,
    AllegationState,
    Category,
    Outcome,
    SurvivorAgeGroup,
    SurvivorSex,
)
from referral.security.policy import Role
from referral.workflow import ConflictError, IllegalTransitionError, RuleError
from tests.conftest import csrf_from, form_post, fresh, sign_in
from tests.factories import (
    Network,
    allegation_data,
    make_organisation,
    make_person,
    record_allegation,
)
from tests.psea.conftest import actions, audit_trail


def intake_form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "received_at": clock.utcnow().strftime("%Y-%m-%dT%H:%M"),
        "channel": "hotline",
        "incident_from": "",
        "incident_to": "",
        "area": "",
        "category": "sexual_exploitation",
        "entity": "",
        "entity_type": "unknown",
        "personnel_category": "staff",
        "survivors_adult_female": "1",
        "narrative": "",
    }
    data.update(changes)
    return data


def load(public_id: str) -> Allegation:
    db.session.expire_all()
    allegation = db.session.scalar(sa.select(Allegation).where(Allegation.public_id == public_id))
    assert allegation is not None
    return allegation


# --- R17 ---------------------------------------------------------------------------------


def test_r17_intake_form_offers_no_place_for_names(client: FlaskClient, network: Network) -> None:
    sign_in(client, network.ngo_focal)
    html = client.get("/allegations/new").get_data(as_text=True)
    names = set(re.findall(r'name="([^"]+)"', html))
    assert not [n for n in names if "name" in n.lower()]
    assert "Do not write the name of anyone" in html
    form_fields = {f.name for f in AllegationForm(meta={"csrf": False})}
    assert not [f for f in form_fields if "name" in f or "contact" in f or "phone" in f]
    allegation_columns = {c.name for c in Allegation.__table__.columns}
    assert not [c for c in allegation_columns if "name" in c]


def test_r17_focal_point_records_minimal_allegation_with_random_reference(
    client: FlaskClient, network: Network
) -> None:
    sign_in(client, network.ngo_focal)
    response = form_post(
        client,
        "/allegations/new",
        intake_form(
            entity=network.mission.public_id,
            personnel_category="military",
            survivors_adult_female="2",
            survivors_unknown_unknown="1",
            consents_to_assistance="y",
            narrative="Food distribution point, late evening.",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    allegation = db.session.scalar(sa.select(Allegation))
    assert allegation is not None
    assert re.fullmatch(r"SEA-26-[0-9A-HJKMNP-TV-Z]{5}", allegation.reference)
    assert allegation.state is AllegationState.RECEIVED
    assert allegation.survivor_count == 3
    assert allegation.entity_organisation_id == network.mission.id
    assert allegation.received_by_organisation_id == network.ngo.id
    assert allegation.consents_to_assistance is True
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert allegation.reference in page
    assert "Food distribution point" not in page  # the narrative is shown only on request


def test_r17_narrative_is_optional_and_encrypted_at_rest(network: Network) -> None:
    without = record_allegation(network.ngo_focal)
    assert without.narrative is None
    with_text = record_allegation(network.ngo_focal, narrative="Reported near the water point.")
    raw = db.session.execute(
        sa.text("SELECT narrative FROM allegations WHERE id = :id"), {"id": with_text.id}
    ).scalar_one()
    assert b"water point" not in bytes(raw)
    assert load(with_text.public_id).narrative == "Reported near the water point."


def test_r17_form_errors_keep_what_was_typed(client: FlaskClient, network: Network) -> None:
    sign_in(client, network.ngo_focal)
    response = form_post(
        client,
        "/allegations/new",
        intake_form(survivors_adult_female="0", narrative="Kept text"),
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Count at least one survivor" in html
    assert "Kept text" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Allegation)) == 0


def test_r17_area_is_administrative_never_a_site(client: FlaskClient, network: Network) -> None:
    province = Area(code="AR-LOM", name="Lomara", level=AreaLevel.PROVINCE)
    site = Area(code="AR-LOM-S1", name="Kesa camp", level=AreaLevel.SITE, parent=province)
    db.session.add_all([province, site])
    db.session.commit()
    sign_in(client, network.ngo_focal)
    html = client.get("/allegations/new").get_data(as_text=True)
    assert province.public_id in html and site.public_id not in html
    refused = form_post(client, "/allegations/new", intake_form(area=site.public_id))
    assert refused.status_code == 400
    with pytest.raises(RuleError) as error:
        services.record_allegation(allegation_data(area=site), actor=network.ngo_focal.user)
    assert error.value.field == "area"
    response = form_post(client, "/allegations/new", intake_form(area=province.public_id))
    assert response.status_code == 302
    allegation = db.session.scalar(sa.select(Allegation))
    assert allegation is not None and allegation.area_id == province.id


def test_r17_future_receipt_refused(network: Network) -> None:
    with pytest.raises(RuleError) as error:
        services.record_allegation(
            allegation_data(received_at=clock.utcnow() + timedelta(hours=2)),
            actor=network.ngo_focal.user,
        )
    assert error.value.field == "received_at"


# --- R20 ---------------------------------------------------------------------------------


def test_r20_survivor_under_18_makes_sexual_abuse_of_a_child(network: Network) -> None:
    allegation = record_allegation(
        network.ngo_focal,
        category=Category.SEXUAL_EXPLOITATION,
        survivors={
            (SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1,
            (SurvivorAgeGroup.UNDER_18, SurvivorSex.MALE): 1,
        },
    )
    assert allegation.category is Category.SEXUAL_ABUSE_OF_A_CHILD
    assert allegation.any_child_survivor


def test_r20_adults_keep_the_reported_category(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal, category=Category.SEXUAL_ABUSE)
    assert allegation.category is Category.SEXUAL_ABUSE


def test_r20_child_category_cannot_be_typed(client: FlaskClient, network: Network) -> None:
    sign_in(client, network.ngo_focal)
    html = client.get("/allegations/new").get_data(as_text=True)
    assert 'value="sexual_abuse_of_a_child"' not in html
    response = form_post(
        client, "/allegations/new", intake_form(category="sexual_abuse_of_a_child")
    )
    assert response.status_code == 400
    with pytest.raises(RuleError):
        services.record_allegation(
            allegation_data(category=Category.SEXUAL_ABUSE_OF_A_CHILD),
            actor=network.ngo_focal.user,
        )


def test_r20_applied_through_the_form(client: FlaskClient, network: Network) -> None:
    sign_in(client, network.ngo_focal)
    response = form_post(
        client,
        "/allegations/new",
        intake_form(survivors_adult_female="0", survivors_under_18_female="1"),
    )
    assert response.status_code == 302
    allegation = db.session.scalar(sa.select(Allegation))
    assert allegation is not None and allegation.category is Category.SEXUAL_ABUSE_OF_A_CHILD


# --- routing and R18 ----------------------------------------------------------------------


def test_focal_point_routes_to_member_entity(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal, entity_organisation=network.agency)
    state = services.route(allegation, network.agency, actor=network.ngo_focal.user)
    db.session.commit()
    assert state is AllegationState.ROUTED
    assert allegation.routed_to_organisation_id == network.agency.id
    assert "psea.allegation_routed" in actions()


def test_unknown_entity_goes_to_coordinator_for_manual_routing(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal)
    assert services.route(allegation, None, actor=network.ngo_focal.user) is (
        AllegationState.MANUAL_ROUTING
    )
    db.session.commit()
    assert not services.can_route(network.ngo_focal.user, allegation)
    assert services.can_route(network.coordinator.user, allegation)
    with pytest.raises(RuleError):
        services.route(allegation, None, actor=network.coordinator.user)
    services.route(allegation, network.agency, actor=network.coordinator.user)
    db.session.commit()
    assert allegation.state is AllegationState.ROUTED


def test_non_member_entity_goes_to_coordinator(network: Network) -> None:
    """An organisation without a PSEA focal point cannot receive: manual routing."""
    allegation = record_allegation(network.ngo_focal, entity_organisation=network.outsider)
    state = services.route(allegation, network.outsider, actor=network.ngo_focal.user)
    assert state is AllegationState.MANUAL_ROUTING
    assert allegation.routed_to_organisation_id is None


def test_r18_entity_acknowledges_and_reports_outcome_category_only(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal)
    services.route(allegation, network.agency, actor=network.ngo_focal.user)
    assert services.can_respond(network.agency_focal.user, allegation)
    assert not services.can_respond(network.ngo_focal.user, allegation)
    services.acknowledge(allegation, actor=network.agency_focal.user)
    services.report_outcome(
        allegation, Outcome.UNDER_INVESTIGATION, actor=network.agency_focal.user
    )
    assert allegation.state is AllegationState.IN_PROGRESS
    services.report_outcome(allegation, Outcome.SUBSTANTIATED, actor=network.agency_focal.user)
    db.session.commit()
    assert fresh(allegation).state is AllegationState.CLOSED
    assert allegation.outcome is Outcome.SUBSTANTIATED
    assert actions().count("psea.allegation_outcome_reported") == 2
    # No investigation content: the outcome form has one choice field (and the tick box that
    # confirms a final outcome), the table no text.
    assert {f.name for f in OutcomeForm(meta={"csrf": False})} == {"outcome", "confirm", "submit"}
    text_columns = {
        c.name for c in Allegation.__table__.columns if isinstance(c.type, (sa.String, sa.Text))
    }
    assert not [c for c in text_columns if "investigat" in c or "finding" in c or "note" in c]


def test_r18_illegal_transitions_refused(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal)
    with pytest.raises(IllegalTransitionError):
        services.acknowledge(allegation, actor=network.agency_focal.user)
    with pytest.raises(IllegalTransitionError):
        services.report_outcome(allegation, Outcome.CLOSED_OTHER, actor=network.agency_focal.user)
    services.route(allegation, network.agency, actor=network.ngo_focal.user)
    with pytest.raises(IllegalTransitionError):
        services.route(allegation, network.agency, actor=network.coordinator.user)
    assert not ALLEGATION_WORKFLOW.targets(AllegationState.CLOSED)
    for state in AllegationState:
        assert state in ALLEGATION_WORKFLOW.allowed


def test_r18_http_flow_and_second_acknowledgement_is_a_conflict(
    app: Flask, network: Network
) -> None:
    allegation = record_allegation(network.ngo_focal)
    focal = app.test_client()
    sign_in(focal, network.ngo_focal)
    page = f"/allegations/{allegation.public_id}"
    response = form_post(
        focal,
        f"{page}/route",
        {"organisation": network.agency.public_id, "confirm": "y"},
        page=page,
    )
    assert response.status_code == 302
    entity = app.test_client()
    sign_in(entity, network.agency_focal)
    token = csrf_from(entity.get(page).get_data(as_text=True))
    assert entity.post(f"{page}/acknowledge", data={"csrf_token": token}).status_code == 302
    second = entity.post(f"{page}/acknowledge", data={"csrf_token": token})
    assert second.status_code == 409
    response = form_post(
        entity, f"{page}/outcome", {"outcome": "unsubstantiated", "confirm": "y"}, page=page
    )
    assert response.status_code == 302
    assert load(allegation.public_id).state is AllegationState.CLOSED
    bad = form_post(
        entity, f"{page}/outcome", {"outcome": "substantiated", "confirm": "y"}, page=page
    )
    assert bad.status_code == 409


def test_stale_copy_cannot_overwrite_a_newer_state(app: Flask, network: Network) -> None:
    """Optimistic version guard: a session holding an old copy loses (both engines)."""
    allegation = record_allegation(network.ngo_focal)
    public_id = allegation.public_id
    stale = db.session.scalar(sa.select(Allegation).where(Allegation.public_id == public_id))
    assert stale is not None
    with app.app_context():  # another request routes it first
        fresh = services.load_for_update(public_id)
        assert fresh is not None
        agency = db.session.get(Organisation, network.agency.id)
        services.route(fresh, agency, actor=fresh.recorded_by)
        db.session.commit()
    with pytest.raises(ConflictError):
        services.route(stale, None, actor=network.ngo_focal.user)
    db.session.rollback()
    assert load(public_id).state is AllegationState.ROUTED


def test_focal_point_cannot_route_another_organisations_allegation(
    client: FlaskClient, network: Network
) -> None:
    allegation = record_allegation(network.ngo_focal)
    sign_in(client, network.agency_focal)
    page = f"/allegations/{allegation.public_id}"
    assert client.get(page).status_code == 404
    token = csrf_from(client.get("/allegations/").get_data(as_text=True) or "")
    response = client.post(
        f"{page}/route",
        data={"organisation": network.agency.public_id, "confirm": "y", "csrf_token": token},
    )
    assert response.status_code == 404
    assert load(allegation.public_id).state is AllegationState.RECEIVED


# --- R19 deadlines -----------------------------------------------------------------------


def test_r19_deadlines_computed_with_frozen_clock(app: Flask, network: Network) -> None:
    received = clock.utcnow() - timedelta(hours=3)
    allegation = record_allegation(network.ngo_focal, received_at=received)
    assert allegation.route_due_at == received + timedelta(hours=24)
    deadline = services.pending_deadline(allegation)
    assert deadline is not None and deadline.step == "route" and not deadline.overdue
    with app.test_request_context():
        assert services.describe_due(deadline.due_at) == "in 21 hours"
    clock.advance(timedelta(hours=22))
    deadline = services.pending_deadline(allegation)
    assert deadline is not None and deadline.overdue
    with app.test_request_context():
        assert services.describe_due(deadline.due_at) == "1 hour overdue"
    routed_at = clock.utcnow()
    services.route(allegation, network.agency, actor=network.ngo_focal.user)
    assert allegation.acknowledge_due_at == routed_at + timedelta(hours=48)
    deadline = services.pending_deadline(allegation)
    assert deadline is not None and deadline.step == "acknowledge" and not deadline.overdue
    clock.advance(timedelta(hours=48))
    assert db.session.scalar(sa.select(Allegation.id).where(services.overdue())) == allegation.id
    services.acknowledge(allegation, actor=network.agency_focal.user)
    assert services.pending_deadline(allegation) is None
    assert db.session.scalar(sa.select(Allegation.id).where(services.overdue())) is None


def test_r19_deadlines_are_configurable(app: Flask, network: Network) -> None:
    saved = app.config["PSEA_ROUTE_WITHIN_HOURS"], app.config["PSEA_ACKNOWLEDGE_WITHIN_HOURS"]
    app.config.update(PSEA_ROUTE_WITHIN_HOURS=6, PSEA_ACKNOWLEDGE_WITHIN_HOURS=12)
    try:
        allegation = record_allegation(network.ngo_focal)
        assert allegation.route_due_at == allegation.received_at + timedelta(hours=6)
        services.route(allegation, network.agency, actor=network.ngo_focal.user)
        assert allegation.acknowledge_due_at == clock.utcnow() + timedelta(hours=12)
    finally:
        app.config.update(PSEA_ROUTE_WITHIN_HOURS=saved[0], PSEA_ACKNOWLEDGE_WITHIN_HOURS=saved[1])


def test_r19_overdue_flagged_on_coordinator_dashboard_and_inbox(
    client: FlaskClient, network: Network
) -> None:
    late = record_allegation(network.ngo_focal, received_at=clock.utcnow() - timedelta(hours=30))
    on_time = record_allegation(network.ngo_focal)
    sign_in(client, network.coordinator)
    dashboard = client.get("/allegations/").get_data(as_text=True)
    assert "1 allegation past its routing or acknowledgement deadline" in dashboard
    overdue_list = client.get("/allegations/?overdue=1").get_data(as_text=True)
    assert late.reference in overdue_list and on_time.reference not in overdue_list
    inbox = client.get("/").get_data(as_text=True)
    assert late.reference in inbox
    assert "overdue" in inbox


def test_r19_dashboard_counts_every_state_and_both_kinds_of_overdue(
    app: Flask, network: Network
) -> None:
    late_unrouted = record_allegation(
        network.ngo_focal, received_at=clock.utcnow() - timedelta(hours=30)
    )
    routed = record_allegation(network.ngo_focal)
    acknowledged = record_allegation(network.ngo_focal)
    for allegation in (routed, acknowledged):
        services.route(allegation, network.agency, actor=network.ngo_focal.user)
    services.acknowledge(acknowledged, actor=network.agency_focal.user)
    clock.advance(timedelta(hours=49))
    on_time = record_allegation(network.ngo_focal)

    dashboard = services.dashboard()

    assert dashboard["counts"] == {
        AllegationState.RECEIVED: 2,
        AllegationState.ROUTED: 1,
        AllegationState.ACKNOWLEDGED: 1,
    }
    everyone = db.session.scalars(sa.select(Allegation)).all()
    late = {a.reference for a in everyone if (d := services.pending_deadline(a)) and d.overdue}
    assert late == {late_unrouted.reference, routed.reference}
    assert on_time.reference not in late
    assert dashboard["overdue"] == len(late) == 2


# --- visibility ------------------------------------------------------------------------


def test_visibility_per_role_and_organisation(app: Flask, network: Network) -> None:
    own = record_allegation(network.ngo_focal, consents_to_assistance=True)
    routed = record_allegation(network.ngo_focal)
    services.route(routed, network.mission, actor=network.ngo_focal.user)
    db.session.commit()
    gbv_org = make_organisation("GBVO")
    expectations = [
        (network.ngo_focal, {own.reference: 200, routed.reference: 200}),
        (network.mission_focal, {own.reference: 404, routed.reference: 200}),
        (network.agency_focal, {own.reference: 404, routed.reference: 404}),
        (network.coordinator, {own.reference: 200, routed.reference: 200}),
        (network.va, {own.reference: 200, routed.reference: 404}),
    ]
    by_reference = {own.reference: own.public_id, routed.reference: routed.public_id}
    for person, expected in expectations:
        client = app.test_client()
        sign_in(client, person)
        listing = client.get("/allegations/").get_data(as_text=True)
        for reference, status in expected.items():
            assert client.get(f"/allegations/{by_reference[reference]}").status_code == status, (
                person.user.role,
                reference,
            )
            assert (reference in listing) is (status == 200), (person.user.role, reference)
    for role in (
        Role.GBV_COORDINATOR,
        Role.CASEWORKER,
        Role.SUPERVISOR,
        Role.SERVICE_FOCAL_POINT,
        Role.ADMIN,
        Role.AUDITOR,
    ):
        client = app.test_client()
        sign_in(client, make_person(role, gbv_org))
        assert client.get("/allegations/").status_code == 403, role
        assert client.get(f"/allegations/{own.public_id}").status_code == 403, role


def test_narrative_reveal_is_audited_and_not_for_va(app: Flask, network: Network) -> None:
    allegation = record_allegation(
        network.ngo_focal, narrative="Seen at the clinic gate.", consents_to_assistance=True
    )
    client = app.test_client()
    sign_in(client, network.coordinator)
    html = client.get(f"/allegations/{allegation.public_id}/narrative").get_data(as_text=True)
    assert "Seen at the clinic gate." in html
    assert "recorded" in html
    reveal = audit_trail("psea.narrative_viewed")
    assert len(reveal) == 1
    assert reveal[0].obj_id == allegation.public_id
    assert reveal[0].fields_revealed == ["narrative"]
    assert reveal[0].actor_id == network.coordinator.user.id
    assert "Seen at the clinic" not in str(reveal[0].detail)
    va = app.test_client()
    sign_in(va, network.va)
    assert va.get(f"/allegations/{allegation.public_id}").status_code == 200
    assert va.get(f"/allegations/{allegation.public_id}/narrative").status_code == 403
    assert len(audit_trail("psea.narrative_viewed")) == 1
    denied = audit_trail("access.denied")
    assert denied and denied[-1].detail["endpoint"] == "psea.narrative"


def test_every_state_change_is_audited(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal)
    services.route(allegation, None, actor=network.ngo_focal.user)
    services.route(allegation, network.agency, actor=network.coordinator.user)
    services.acknowledge(allegation, actor=network.agency_focal.user)
    services.report_outcome(allegation, Outcome.CLOSED_OTHER, actor=network.agency_focal.user)
    db.session.commit()
    assert actions() == [
        "psea.allegation_recorded",
        "psea.allegation_routed",
        "psea.allegation_routed",
        "psea.allegation_acknowledged",
        "psea.allegation_outcome_reported",
    ]
    moves = [(e.detail.get("from"), e.detail.get("to")) for e in audit_trail()[1:]]
    assert moves == [
        ("received", "manual_routing"),
        ("manual_routing", "routed"),
        ("routed", "acknowledged"),
        ("acknowledged", "closed"),
    ]


def test_list_pages_by_keyset(app: Flask, client: FlaskClient, network: Network) -> None:
    references = []
    for hours in range(5):
        references.append(
            record_allegation(
                network.ngo_focal, received_at=clock.utcnow() - timedelta(hours=hours)
            ).reference
        )
    saved = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        sign_in(client, network.coordinator)
        seen: list[str] = []
        url = "/allegations/"
        while url:
            html = client.get(url).get_data(as_text=True)
            seen += re.findall(r">(SEA-26-\w{5})<", html)
            match = re.search(r'href="(/allegations/\?cursor=[^"]+)"', html)
            url = match.group(1).replace("&amp;", "&") if match else ""
        assert seen == references
    finally:
        app.config["PAGE_SIZE"] = saved


# --- R23 -------------------------------------------------------------------------------


def test_r23_mission_can_be_subject_and_have_psea_focal_point(
    client: FlaskClient, network: Network
) -> None:
    assert network.mission.is_mission
    assert network.mission_focal.user.role is Role.PSEA_FOCAL_POINT
    allegation = record_allegation(network.ngo_focal, entity_organisation=network.mission)
    assert allegation.entity_type.value == "peacekeeping_mission"
    assert network.mission in services.member_organisations()
    services.route(allegation, network.mission, actor=network.ngo_focal.user)
    db.session.commit()
    sign_in(client, network.mission_focal)
    page = f"/allegations/{allegation.public_id}"
    response = form_post(client, f"{page}/acknowledge", {}, page=page)
    assert response.status_code == 302
    assert load(allegation.public_id).state is AllegationState.ACKNOWLEDGED


def test_receipt_time_is_typed_and_shown_in_the_organisation_zone(
    client: FlaskClient, network: Network
) -> None:
    network.ngo.time_zone = "Asia/Kabul"  # UTC+04:30 all year
    db.session.commit()
    sign_in(client, network.ngo_focal)
    now_in_kabul = clock.utcnow() + timedelta(hours=4, minutes=30)
    form = client.get("/allegations/new").get_data(as_text=True)
    assert f'value="{now_in_kabul:%Y-%m-%dT%H:%M}"' in form
    typed = (now_in_kabul - timedelta(hours=2)).replace(second=0, microsecond=0)
    response = form_post(
        client, "/allegations/new", intake_form(received_at=f"{typed:%Y-%m-%dT%H:%M}")
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    allegation = db.session.scalar(sa.select(Allegation))
    assert allegation is not None
    stored = allegation.received_at.astimezone(UTC)
    assert stored == (typed - timedelta(hours=4, minutes=30)).astimezone(UTC)
