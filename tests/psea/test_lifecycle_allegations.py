"""R26 for allegations: own data key, purge after closure, legal hold by the coordinator."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral.clock import utcnow
from referral.extensions import db
from referral.lifecycle import retention
from referral.psea.models import Allegation, AllegationState, Outcome
from referral.security.crypto import KIND_DATA_KEY, Sealed
from tests.conftest import csrf_from, form_post, sign_in
from tests.factories import Network, record_allegation

DAYS = 1825


def closed(network: Network, *, days_ago: int, narrative: str) -> Allegation:
    allegation = record_allegation(network.ngo_focal, narrative=narrative)
    allegation.state = AllegationState.CLOSED
    allegation.outcome = Outcome.UNSUBSTANTIATED
    allegation.outcome_reported_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return allegation


def test_r26_allegation_narrative_under_its_own_data_key(network: Network) -> None:
    allegation = record_allegation(network.ngo_focal, narrative="Seen at the distribution point.")
    value = db.session.execute(
        sa.text("SELECT narrative FROM allegations WHERE id = :id"), {"id": allegation.id}
    ).scalar_one()
    assert Sealed(bytes(value)).kind == KIND_DATA_KEY


def test_r26_closed_allegation_purged_unless_held(app: Flask, network: Network) -> None:
    old = closed(network, days_ago=DAYS + 2, narrative="old narrative")
    held = closed(network, days_ago=DAYS + 2, narrative="held narrative")
    in_progress = record_allegation(network.ngo_focal, narrative="still open")
    in_progress.state = AllegationState.IN_PROGRESS
    in_progress.outcome_reported_at = utcnow() - timedelta(days=DAYS + 2)
    db.session.commit()
    coordinator = network.coordinator.user
    assert retention.may_hold(coordinator, held)
    assert not retention.may_hold(network.ngo_focal.user, held)
    retention.place_hold(db.session(), held, "Tribunal request", coordinator)
    db.session.commit()
    report = retention.purge(db.session(), app.config)
    assert [e.public_id for e in report.purged] == [old.public_id]
    db.session.expire_all()
    assert db.session.get(Allegation, old.id).narrative is None  # type: ignore[union-attr]
    assert db.session.get(Allegation, held.id).narrative == "held narrative"  # type: ignore[union-attr]
    assert db.session.get(Allegation, in_progress.id).narrative == "still open"  # type: ignore[union-attr]


def test_r26_only_the_psea_coordinator_holds_an_allegation(
    client: FlaskClient, network: Network
) -> None:
    allegation = closed(network, days_ago=5, narrative="n")
    url = f"/allegations/{allegation.public_id}"
    sign_in(client, network.ngo_focal)
    html = client.get(url).get_data(as_text=True)
    assert "Place a legal hold" not in html
    refused = client.post(
        f"{url}/legal-hold",
        data={"hold-action": "place", "hold-reason": "x", "csrf_token": csrf_from(html)},
    )
    assert refused.status_code == 403
    client.post("/auth/sign-out", data={"csrf_token": csrf_from(html)})

    other = client.application.test_client()
    sign_in(other, network.coordinator)
    assert "Place a legal hold" in other.get(url).get_data(as_text=True)
    response = form_post(
        other, f"{url}/legal-hold", {"hold-action": "place", "hold-reason": "Audit"}, page=url
    )
    assert response.status_code == 302
    assert retention.active_hold(db.session(), "allegation", allegation.public_id) is not None
