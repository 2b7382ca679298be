"""R22: a GBV coordinator holds PSEA duties only as a time-limited interim delegation
granted by an administrator; it lapses by itself; grant, use and lapse are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral import clock
from referral.extensions import db
from referral.psea import delegation as delegations
from referral.psea.models import PseaDelegation
from referral.security.policy import Permission, Role, has_permission
from referral.workflow import RuleError
from tests.conftest import form_post, sign_in
from tests.factories import Network, Person, make_person, record_allegation
from tests.psea.conftest import actions

BANNER = "as an interim delegation until"


@pytest.fixture
def gbv_coordinator(network: Network) -> Person:
    return make_person(Role.GBV_COORDINATOR, network.un)


@pytest.fixture
def admin_person(network: Network) -> Person:
    return make_person(Role.ADMIN, network.un)


def grant_by_form(client: FlaskClient, holder: Person, days: int, reason: str = "Cover") -> int:
    ends_on = (clock.utcnow().date() + timedelta(days=days)).isoformat()
    response = form_post(
        client,
        "/admin/psea-delegations",
        {"holder": holder.user.public_id, "ends_on": ends_on, "reason": reason},
    )
    return int(response.status_code)


def test_r22_admin_grants_gbv_coordinator_time_limited_psea_rights(
    app: Flask, network: Network, gbv_coordinator: Person, admin_person: Person
) -> None:
    allegation = record_allegation(network.ngo_focal)
    holder_client = app.test_client()
    sign_in(holder_client, gbv_coordinator)
    assert holder_client.get("/allegations/").status_code == 403
    assert BANNER not in holder_client.get("/").get_data(as_text=True)

    admin = app.test_client()
    sign_in(admin, admin_person)
    assert grant_by_form(admin, gbv_coordinator, 30) == 302
    assert actions() == ["psea.allegation_recorded", "psea.delegation_granted"]

    listing = holder_client.get("/allegations/")
    assert listing.status_code == 200
    assert allegation.reference in listing.get_data(as_text=True)
    assert BANNER in holder_client.get("/").get_data(as_text=True)  # banner on every page
    assert "psea.delegation_used" in actions()
    assert has_permission(gbv_coordinator.user, Permission.COORDINATE_PSEA)


def test_r22_end_date_at_most_the_configured_days(
    app: Flask, network: Network, gbv_coordinator: Person, admin_person: Person
) -> None:
    client = app.test_client()
    sign_in(client, admin_person)
    assert grant_by_form(client, gbv_coordinator, 91) == 400
    assert grant_by_form(client, gbv_coordinator, -1) == 400
    saved = app.config["PSEA_DELEGATION_MAX_DAYS"]
    app.config["PSEA_DELEGATION_MAX_DAYS"] = 10
    try:
        assert grant_by_form(client, gbv_coordinator, 11) == 400
        assert grant_by_form(client, gbv_coordinator, 9) == 302
    finally:
        app.config["PSEA_DELEGATION_MAX_DAYS"] = saved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PseaDelegation)) == 1


def test_r22_only_a_gbv_coordinator_can_hold_it(network: Network, admin_person: Person) -> None:
    caseworker = make_person(Role.CASEWORKER, network.ngo)
    with pytest.raises(RuleError):
        delegations.grant(
            caseworker.user,
            clock.utcnow().date() + timedelta(days=5),
            "Cover",
            actor=admin_person.user,
        )
    assert caseworker.user not in delegations.gbv_coordinators()


def test_r22_only_an_administrator_grants(
    app: Flask, network: Network, gbv_coordinator: Person
) -> None:
    for person in (network.coordinator, gbv_coordinator):
        client = app.test_client()
        sign_in(client, person)
        assert client.get("/admin/psea-delegations").status_code == 403


def test_r22_delegation_lapses_by_itself_and_the_lapse_is_audited_once(
    app: Flask, network: Network, gbv_coordinator: Person, admin_person: Person
) -> None:
    delegation = delegations.grant(
        gbv_coordinator.user, clock.utcnow().date(), "Cover for today", actor=admin_person.user
    )
    db.session.commit()
    assert delegation.ends_at == clock.utcnow().replace(hour=0, minute=0, second=0) + timedelta(
        days=1
    )
    client = app.test_client()
    sign_in(client, gbv_coordinator)
    assert client.get("/allegations/").status_code == 200
    clock.advance(timedelta(days=1))
    assert not has_permission(gbv_coordinator.user, Permission.COORDINATE_PSEA)
    client = app.test_client()
    sign_in(client, gbv_coordinator)
    assert client.get("/allegations/").status_code == 403
    home = client.get("/").get_data(as_text=True)
    assert BANNER not in home
    assert actions("psea.delegation_lapsed") == ["psea.delegation_lapsed"]
    client.get("/")
    assert actions("psea.delegation_lapsed") == ["psea.delegation_lapsed"]


def test_r22_administrator_can_end_it_early(
    app: Flask, network: Network, gbv_coordinator: Person, admin_person: Person
) -> None:
    delegation = delegations.grant(
        gbv_coordinator.user,
        clock.utcnow().date() + timedelta(days=20),
        "Cover",
        actor=admin_person.user,
    )
    db.session.commit()
    admin = app.test_client()
    sign_in(admin, admin_person)
    response = form_post(
        admin,
        f"/admin/psea-delegations/{delegation.public_id}/end",
        {},
        page="/admin/psea-delegations",
    )
    assert response.status_code == 302
    assert not has_permission(gbv_coordinator.user, Permission.COORDINATE_PSEA)
    assert "psea.delegation_revoked" in actions()
    assert delegations.record_lapses() == 0  # ended early is not a lapse
