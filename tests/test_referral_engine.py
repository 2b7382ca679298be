"""The referral engine: R3, R4, R8, R10-R13 at the service level."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from referral import clock
from referral.cases import services as cases
from referral.db import Organisation, User
from referral.directory.models import Sector, Service, ServiceStatus
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import (
    REFERRAL_WORKFLOW,
    ConsentKind,
    Priority,
    Referral,
    ReferralState,
)
from referral.security.policy import Role
from referral.workflow import ConflictError, IllegalTransitionError, RuleError
from tests.factories import (
    ADULTS,
    Person,
    captured_events,
    incident,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)


@pytest.fixture(autouse=True)
def _request_context(app: Flask) -> Any:
    with app.test_request_context():
        yield


@pytest.fixture
def health(clinic: Organisation, caseworker: Person) -> Service:
    service = make_service(clinic, Sector.HEALTH)
    legal = make_service(clinic, Sector.LEGAL_AID)
    publish_pathway(caseworker.user, [service, legal])
    return service


@pytest.fixture
def legal(health: Service) -> Service:
    found = db.session.scalar(select(Service).where(Service.sector == Sector.LEGAL_AID))
    assert found is not None
    return found


def _sent(caseworker: Person, service: Service, **kwargs: Any) -> Referral:
    case = open_case(caseworker.user, name="Canary Name", contact="+000 CANARY")
    shared = kwargs.pop("shared", ())
    consent = referral_consent(case, caseworker.user, service, shared=shared)
    referral = cases.refer(
        case,
        request(service, shared=shared, **kwargs),
        consent=consent,
        actor=caseworker.user,
    )
    db.session.commit()
    return referral


def test_r4_no_referral_without_consent(caseworker: Person, health: Service) -> None:
    case = open_case(caseworker.user)
    with pytest.raises(RuleError) as error:
        cases.refer(case, request(health), consent=None, actor=caseworker.user)
    assert error.value.field == "consent"
    with pytest.raises(RuleError) as error:
        cases.refer(
            case, request(health), consent=None, actor=caseworker.user, override_reason="urgent"
        )
    assert error.value.field == "consent"
    assert db.session.scalar(db.select(db.func.count()).select_from(Referral)) == 0


def test_r4_override_needs_permission_and_reason_and_is_audited(
    supervisor: Person, health: Service
) -> None:
    case = open_case(supervisor.user)
    with pytest.raises(RuleError) as error:
        cases.refer(case, request(health), consent=None, actor=supervisor.user, override_reason=" ")
    assert error.value.field == "override_reason"
    with captured_events() as seen:
        referral = cases.refer(
            case,
            request(health),
            consent=None,
            actor=supervisor.user,
            override_reason="Survivor unconscious; life-saving care.",
        )
    db.session.commit()
    assert referral.state is ReferralState.SENT
    assert referral.override_by_id == supervisor.user.id
    assert referral.override_reason == "Survivor unconscious; life-saving care."
    assert "referral.consent_override" in [e["action"] for e in seen]


def test_r4_consent_must_match_receiver_sector_and_fields(
    caseworker: Person, health: Service, legal: Service
) -> None:
    case = open_case(caseworker.user)
    elsewhere = make_service(make_organisation("LEGAL"), Sector.HEALTH)
    publish_pathway(caseworker.user, [health, legal, elsewhere]).number  # noqa: B018
    consent = referral_consent(case, caseworker.user, health, shared=("name",))
    with pytest.raises(RuleError):
        cases.refer(case, request(legal), consent=consent, actor=caseworker.user)
    with pytest.raises(RuleError) as error:
        cases.refer(
            case, request(health, shared=("contact",)), consent=consent, actor=caseworker.user
        )
    assert error.value.field == "shared_fields"
    another = open_case(caseworker.user)
    with pytest.raises(RuleError):
        cases.refer(another, request(health), consent=consent, actor=caseworker.user)


def test_r14_only_services_of_published_pathway_for_the_area(
    caseworker: Person, health: Service, clinic: Organisation
) -> None:
    case = open_case(caseworker.user)
    outside = make_service(clinic, Sector.PSYCHOSOCIAL, name="Not in pathway")
    consent = referral_consent(case, caseworker.user, outside)
    with pytest.raises(RuleError) as error:
        cases.refer(case, request(outside), consent=consent, actor=caseworker.user)
    assert error.value.field == "service"
    options = engine.pathway_options(case)
    assert options[0].service.id == health.id


def test_r14_suspended_or_not_accepting_service_needs_reason(
    caseworker: Person, clinic: Organisation
) -> None:
    suspended = make_service(clinic, Sector.HEALTH, status=ServiceStatus.SUSPENDED)
    adults = make_service(clinic, Sector.SHELTER, age_groups=ADULTS)
    publish_pathway(caseworker.user, [suspended, adults])
    child = open_case(caseworker.user, age=12)
    for service in (suspended, adults):
        consent = referral_consent(child, caseworker.user, service)
        with pytest.raises(RuleError) as error:
            cases.refer(child, request(service), consent=consent, actor=caseworker.user)
        assert error.value.field == "off_pathway_reason"
        referral = cases.refer(
            child,
            request(service, off_pathway_reason="Only option within reach"),
            consent=consent,
            actor=caseworker.user,
        )
        assert referral.off_pathway_reason == "Only option within reach"
        assert referral.pathway_eligibility != "eligible"


def test_r3_consent_withdrawal_withdraws_pending_referrals_and_stops_sharing(
    caseworker: Person, health: Service, receiver: Person
) -> None:
    case = open_case(caseworker.user)
    consent = referral_consent(case, caseworker.user, health)
    first = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
    second = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
    db.session.commit()
    engine.transition(second.public_id, ReferralState.ACCEPTED, actor=receiver.user)
    engine.transition(second.public_id, ReferralState.COMPLETED, actor=receiver.user)
    db.session.commit()
    withdrawn = engine.withdraw_consent(consent, actor=caseworker.user, reason="Survivor asked")
    db.session.commit()
    assert [r.public_id for r in withdrawn] == [first.public_id]
    assert first.state is ReferralState.WITHDRAWN
    assert second.state is ReferralState.COMPLETED
    with pytest.raises(RuleError):
        cases.refer(case, request(health), consent=consent, actor=caseworker.user)


def test_item9_r3_withdrawal_reason_is_stored_encrypted_even_with_nothing_pending(
    caseworker: Person, health: Service
) -> None:
    """R3: the reason stays with the consent itself (sealed, R2), whether or not a
    referral was pending for the withdrawal to stop."""
    case = open_case(caseworker.user)
    consent = referral_consent(case, caseworker.user, health)
    assert engine.withdraw_consent(consent, actor=caseworker.user, reason="Canary moved away") == []
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(type(consent), consent.id)
    assert stored is not None and stored.withdrawal_reason == "Canary moved away"
    raw = db.session.execute(
        db.text("SELECT withdrawal_reason FROM consents WHERE id = :id"), {"id": consent.id}
    ).scalar_one()
    assert raw is not None and b"Canary" not in bytes(raw)


def test_r3_withdrawing_service_consent_withdraws_all_pending(
    caseworker: Person, health: Service
) -> None:
    case = open_case(caseworker.user)
    services_consent = engine.record_consent(
        case, ConsentKind.SERVICES, actor=caseworker.user, survivor_is_child=False
    )
    referral = cases.refer(
        case,
        request(health),
        consent=referral_consent(case, caseworker.user, health),
        actor=caseworker.user,
    )
    db.session.commit()
    engine.withdraw_consent(services_consent, actor=caseworker.user, reason="Moved away")
    db.session.commit()
    assert referral.state is ReferralState.WITHDRAWN


@pytest.mark.parametrize(
    ("priority", "hours"),
    [(Priority.EMERGENCY, 24), (Priority.URGENT, 72), (Priority.ROUTINE, 336)],
)
def test_r12_priority_sets_deadline(
    caseworker: Person, legal: Service, priority: Priority, hours: int
) -> None:
    referral = _sent(caseworker, legal, priority=priority)
    assert referral.sent_at == clock.utcnow()
    assert referral.deadline_at == clock.utcnow() + timedelta(hours=hours)


def test_r12_overdue_flagged_to_sender_and_receiver(
    caseworker: Person, clinic: Organisation, health: Service
) -> None:
    referral = _sent(caseworker, health, priority=Priority.EMERGENCY)
    assert not referral.is_overdue(clock.utcnow())
    assert engine.overdue_for_organisation(clinic.id) == []
    clock.advance(timedelta(hours=25))
    assert referral.is_overdue(clock.utcnow())
    for side in (clinic.id, caseworker.user.organisation_id):
        [line] = engine.overdue_for_organisation(side)
        assert (line.public_id, line.reference, line.deadline_at) == (
            referral.public_id,
            referral.reference,
            referral.deadline_at,
        )


def test_r8_health_referral_marked_urgent_while_window_open(
    caseworker: Person, health: Service
) -> None:
    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=30, penetration=True)
    consent = referral_consent(case, caseworker.user, health)
    referral = cases.refer(
        case, request(health, priority=Priority.EMERGENCY), consent=consent, actor=caseworker.user
    )
    assert referral.time_critical and referral.priority is Priority.EMERGENCY
    clock.advance(timedelta(hours=100))
    later = cases.refer(
        case, request(health, priority=Priority.ROUTINE), consent=consent, actor=caseworker.user
    )
    assert not later.time_critical and later.priority is Priority.ROUTINE


def test_r8_lower_priority_while_window_open_needs_a_reason(
    caseworker: Person, health: Service
) -> None:
    """Field readiness, no consequential defaults: the engine no longer raises a lower
    priority silently; it refuses one without a reason and keeps one given with a reason
    (sealed in the referral's first transition, the lowering audited)."""
    worker = caseworker.user
    case = open_case(worker)
    incident(case, worker, hours_ago=30, penetration=True)
    consent = referral_consent(case, worker, health)
    with pytest.raises(RuleError) as refused:
        cases.refer(case, request(health, priority=Priority.URGENT), consent=consent, actor=worker)
    assert refused.value.field == "priority_reason"
    with captured_events() as events:
        referral = cases.refer(
            case,
            replace(
                request(health, priority=Priority.URGENT),
                priority_reason="Seen by the clinic this morning; follow-up care only.",
            ),
            consent=consent,
            actor=worker,
        )
    assert referral.time_critical and referral.priority is Priority.URGENT
    assert referral.transitions[0].reason == (
        "Seen by the clinic this morning; follow-up care only."
    )
    lowered = [e for e in events if e["action"] == "referral.priority_lowered"]
    assert lowered and lowered[0]["detail"] == {"priority": "urgent"}


def test_r10_queue_of_receiving_organisation_any_receiver_may_take_it(
    caseworker: Person, clinic: Organisation, receiver: Person, health: Service
) -> None:
    referral = _sent(caseworker, health)
    colleague = make_person(Role.SERVICE_FOCAL_POINT, clinic, email="c2@example.org").user
    assert [r.id for r in engine.queue(clinic.id).rows] == [referral.id]
    assert engine.queue(caseworker.user.organisation_id).rows == []
    outsider = make_person(Role.SERVICE_FOCAL_POINT, make_organisation("ELSE")).user
    with pytest.raises(RuleError):
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=outsider)
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=colleague)
    db.session.commit()
    assert referral.state is ReferralState.ACCEPTED
    assert receiver.user.organisation_id == colleague.organisation_id


def test_r10_queue_keyset_pages_by_deadline(
    caseworker: Person, clinic: Organisation, legal: Service
) -> None:
    made = [_sent(caseworker, legal) for _ in range(5)]
    first = engine.queue(clinic.id, limit=2)
    second = engine.queue(clinic.id, limit=2, cursor=first.next_cursor)
    third = engine.queue(clinic.id, limit=2, cursor=second.next_cursor)
    ids = [r.id for r in first.rows + second.rows + third.rows]
    assert ids == [r.id for r in made] and third.next_cursor is None


def test_r11_receiver_sees_only_consented_fields(
    caseworker: Person, receiver: Person, health: Service
) -> None:
    referral = _sent(caseworker, health, shared=("name",), note="Needs PEP today")
    with captured_events() as seen:
        view = engine.reveal_for_receiver(referral, receiver.user)
    assert view.details == {"name": "Canary Name"}
    assert view.note == "Needs PEP today"
    assert "contact" not in view.details
    assert seen[0]["fields_revealed"] == ["name", "note"]
    minimal = _sent(caseworker, health)
    assert engine.reveal_for_receiver(minimal, receiver.user).details == {}
    assert minimal.shared_details is None


def test_r13_transition_table_and_reasons(
    caseworker: Person, receiver: Person, health: Service
) -> None:
    assert REFERRAL_WORKFLOW.targets(ReferralState.SENT) == {
        ReferralState.ACCEPTED,
        ReferralState.DECLINED,
        ReferralState.WITHDRAWN,
    }
    assert REFERRAL_WORKFLOW.targets(ReferralState.COMPLETED) == frozenset()
    referral = _sent(caseworker, health)
    with pytest.raises(IllegalTransitionError):
        engine.transition(referral.public_id, ReferralState.COMPLETED, actor=receiver.user)
    db.session.rollback()
    with pytest.raises(RuleError) as error:
        engine.transition(
            referral.public_id, ReferralState.DECLINED, actor=receiver.user, reason=""
        )
    assert error.value.field == "reason"
    db.session.rollback()
    engine.transition(
        referral.public_id, ReferralState.DECLINED, actor=receiver.user, reason="No capacity"
    )
    db.session.commit()
    assert referral.transitions[-1].reason == "No capacity"
    with pytest.raises(IllegalTransitionError):
        engine.transition(
            referral.public_id,
            ReferralState.WITHDRAWN,
            actor=caseworker.user,
            as_sender=True,
            reason="x",
        )


def test_r13_sender_withdraws_before_completion_only(
    caseworker: Person, clinic: Organisation, receiver: Person, health: Service
) -> None:
    referral = _sent(caseworker, health)
    with pytest.raises(RuleError):
        engine.transition(
            referral.public_id, ReferralState.WITHDRAWN, actor=caseworker.user, reason="x"
        )
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
    engine.transition(
        referral.public_id,
        ReferralState.WITHDRAWN,
        actor=caseworker.user,
        as_sender=True,
        reason="x",
    )
    db.session.commit()
    done = _sent(caseworker, health)
    engine.transition(done.public_id, ReferralState.ACCEPTED, actor=receiver.user)
    engine.transition(done.public_id, ReferralState.COMPLETED, actor=receiver.user)
    db.session.commit()
    with pytest.raises(IllegalTransitionError):
        engine.transition(
            done.public_id,
            ReferralState.WITHDRAWN,
            actor=caseworker.user,
            as_sender=True,
            reason="x",
        )


def test_r13_closed_not_completed_needs_reason(
    caseworker: Person, clinic: Organisation, receiver: Person, health: Service
) -> None:
    referral = _sent(caseworker, health)
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
    with pytest.raises(RuleError):
        engine.transition(referral.public_id, ReferralState.CLOSED, actor=receiver.user)
    engine.transition(
        referral.public_id,
        ReferralState.CLOSED,
        actor=receiver.user,
        reason="Survivor did not come",
    )
    db.session.commit()
    assert referral.state is ReferralState.CLOSED and referral.finished_at is not None


def test_r13_stale_write_loses_on_version_column(
    app: Flask, caseworker: Person, receiver: Person, health: Service
) -> None:
    """Two sessions hold the same referral; the second write finds the version moved."""
    referral = _sent(caseworker, health)
    with app.app_context():  # another request, another session
        other = db.session.get(User, receiver.user.id)
        assert other is not None
        engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=other)
        db.session.commit()
    stale = db.session.get(Referral, referral.id)
    assert stale is not None and stale.state is ReferralState.SENT  # identity map: stale
    stale.state = ReferralState.DECLINED
    with pytest.raises(Exception, match="expected to update"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IllegalTransitionError):
        engine.transition(
            referral.public_id, ReferralState.DECLINED, actor=receiver.user, reason="x"
        )


def _race(
    app: Flask, public_id: str, contenders: list[tuple[int, ReferralState]]
) -> dict[str, str]:
    """Each contender acts in its own thread, app context, session and connection."""
    barrier = threading.Barrier(len(contenders))
    outcomes: dict[str, str] = {}

    def act(user_id: int, target: ReferralState) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            assert user is not None
            barrier.wait()
            try:
                engine.transition(public_id, target, actor=user, reason="busy")
                db.session.commit()
                outcomes[target.value] = "won"
            except (IllegalTransitionError, ConflictError):
                db.session.rollback()
                outcomes[target.value] = "lost"

    threads = [threading.Thread(target=act, args=contender) for contender in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.postgres_only
def test_r13_two_receivers_race_exactly_one_wins(
    app: Flask,
    engine_name: str,
    caseworker: Person,
    clinic: Organisation,
    receiver: Person,
    health: Service,
) -> None:
    """Two real PostgreSQL connections accept and decline at the same instant."""
    if engine_name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    colleague = make_person(Role.SERVICE_FOCAL_POINT, clinic, email="c2@example.org").user
    for _round in range(5):
        referral = _sent(caseworker, health)
        outcomes = _race(
            app,
            referral.public_id,
            [(receiver.user.id, ReferralState.ACCEPTED), (colleague.id, ReferralState.DECLINED)],
        )
        assert sorted(outcomes.values()) == ["lost", "won"]
        db.session.expire_all()
        final = db.session.get(Referral, referral.id)
        assert final is not None
        winner = next(k for k, v in outcomes.items() if v == "won")
        assert final.state.value == winner
        steps = [t.to_state for t in final.transitions]
        assert steps.count(ReferralState.ACCEPTED) + steps.count(ReferralState.DECLINED) == 1
