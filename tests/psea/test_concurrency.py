"""Two people acting at once on one allegation cannot produce an illegal state: the row is
locked (SELECT ... FOR UPDATE) and the transition table is checked after the lock.
Real concurrent connections, so PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from referral.db import Organisation, User
from referral.extensions import db
from referral.psea import services
from referral.psea.models import Allegation, AllegationState, Outcome
from referral.security.policy import Role
from referral.workflow import ConflictError, IllegalTransitionError
from tests.factories import Network, make_person, record_allegation
from tests.psea.conftest import audit_trail

ROUNDS = 5


@pytest.fixture(autouse=True)
def _postgresql_only(engine_name: str) -> None:
    if engine_name != "postgresql":
        pytest.skip("needs two real PostgreSQL connections (run with --db postgresql)")


def race(app: Flask, *actions: Callable[[], None]) -> list[str]:
    """Run each action in its own thread, connection and transaction, released together."""
    barrier = threading.Barrier(len(actions))
    results = [""] * len(actions)

    def run(index: int, action: Callable[[], None]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                action()
                db.session.commit()
                results[index] = "won"
            except (IllegalTransitionError, ConflictError):
                db.session.rollback()
                results[index] = "refused"
            except Exception as error:  # surfaced in the assertion below
                db.session.rollback()
                results[index] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def routing(public_id: str, actor_id: int, organisation_id: int) -> Callable[[], None]:
    def act() -> None:
        allegation = services.load_for_update(public_id)
        assert allegation is not None
        actor = db.session.get(User, actor_id)
        target = db.session.get(Organisation, organisation_id)
        assert actor is not None and target is not None
        if allegation.state not in services.AWAITING_ROUTING:
            raise IllegalTransitionError("allegation", allegation.state.value, "routed")
        services.route(allegation, target, actor=actor)

    return act


def acknowledging(public_id: str, actor_id: int) -> Callable[[], None]:
    def act() -> None:
        allegation = services.load_for_update(public_id)
        actor = db.session.get(User, actor_id)
        assert allegation is not None and actor is not None
        services.acknowledge(allegation, actor=actor)

    return act


def reporting(public_id: str, actor_id: int, outcome: Outcome) -> Callable[[], None]:
    def act() -> None:
        allegation = services.load_for_update(public_id)
        actor = db.session.get(User, actor_id)
        assert allegation is not None and actor is not None
        services.report_outcome(allegation, outcome, actor=actor)

    return act


def state_of(public_id: str) -> Allegation:
    db.session.expire_all()
    allegation = db.session.scalar(sa.select(Allegation).where(Allegation.public_id == public_id))
    assert allegation is not None
    return allegation


def test_concurrent_routing_has_one_winner(app: Flask, network: Network) -> None:
    for _ in range(ROUNDS):
        allegation = record_allegation(network.ngo_focal)
        public_id = allegation.public_id
        results = race(
            app,
            routing(public_id, network.coordinator.user.id, network.agency.id),
            routing(public_id, network.ngo_focal.user.id, network.mission.id),
        )
        assert sorted(results) == ["refused", "won"], results
        final = state_of(public_id)
        assert final.state is AllegationState.ROUTED
        winner = network.agency.id if results[0] == "won" else network.mission.id
        assert final.routed_to_organisation_id == winner
    routed = [e for e in audit_trail("psea.allegation_routed")]
    assert len(routed) == ROUNDS


def test_concurrent_acknowledgements_have_one_winner(app: Flask, network: Network) -> None:
    second_focal = make_person(
        Role.PSEA_FOCAL_POINT, network.agency, email="second.focal@example.org"
    )
    for _ in range(ROUNDS):
        allegation = record_allegation(network.ngo_focal)
        services.route(allegation, network.agency, actor=network.ngo_focal.user)
        db.session.commit()
        public_id = allegation.public_id
        results = race(
            app,
            acknowledging(public_id, network.agency_focal.user.id),
            acknowledging(public_id, second_focal.user.id),
        )
        assert sorted(results) == ["refused", "won"], results
        assert state_of(public_id).state is AllegationState.ACKNOWLEDGED
    assert len(audit_trail("psea.allegation_acknowledged")) == ROUNDS


def test_acknowledgement_racing_an_outcome_never_skips_a_step(app: Flask, network: Network) -> None:
    for _ in range(ROUNDS):
        allegation = record_allegation(network.ngo_focal)
        services.route(allegation, network.agency, actor=network.ngo_focal.user)
        db.session.commit()
        public_id = allegation.public_id
        results = race(
            app,
            acknowledging(public_id, network.agency_focal.user.id),
            reporting(public_id, network.agency_focal.user.id, Outcome.SUBSTANTIATED),
        )
        assert all(r in ("won", "refused") for r in results), results
        final = state_of(public_id)
        assert results[0] == "won"  # the acknowledgement always succeeds
        if results[1] == "won":  # the outcome only after the acknowledgement
            assert final.state is AllegationState.CLOSED
            assert final.acknowledged_at is not None
        else:
            assert final.state is AllegationState.ACKNOWLEDGED
