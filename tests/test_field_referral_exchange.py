"""Field readiness, receiver and sender talk: feedback on the outcome, and each side's
rights over the referral's history (R2, R11, R13)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from referral.cases import services as cases
from referral.directory.models import Service
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import Referral, ReferralState
from referral.workflow import RuleError
from tests import test_field_clinical_alarms as shared
from tests.conftest import form_post, sign_in
from tests.factories import Person, captured_events, open_case, referral_consent, request

# the same people and health service as the clinical-alarm tests
_request_context = shared._request_context
people = shared.people
health = shared.health


def _sent(people: dict[str, Person], service: Service) -> Referral:
    worker = people["caseworker"].user
    case = open_case(worker)
    consent = referral_consent(case, worker, service)
    referral = cases.refer(case, request(service), consent=consent, actor=worker)
    db.session.commit()
    return referral


def test_r13_feedback_goes_only_with_the_outcome_and_is_encrypted(
    people: dict[str, Person], health: Service
) -> None:
    referral = _sent(people, health)
    receiver = people["receiver"].user
    with pytest.raises(RuleError) as error:
        engine.transition(
            referral.public_id, ReferralState.ACCEPTED, actor=receiver, feedback="too early"
        )
    assert error.value.field == "feedback"
    db.session.rollback()
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver)
    with captured_events() as events:
        engine.transition(
            referral.public_id,
            ReferralState.CLOSED,
            actor=receiver,
            reason="She did not come",
            feedback="Two calls unanswered; the clinic stays open to her.",
        )
    db.session.commit()
    assert referral.feedback_note == "Two calls unanswered; the clinic stays open to her."
    raw = db.session.execute(
        db.text("SELECT feedback_note FROM referrals WHERE id = :id"), {"id": referral.id}
    ).scalar_one()
    assert b"Two calls" not in bytes(raw)
    assert "Two calls" not in repr(events)


def test_r11_each_side_reads_the_history_within_its_rights(
    people: dict[str, Person], health: Service
) -> None:
    worker, receiver = people["caseworker"].user, people["receiver"].user
    declined = _sent(people, health)
    engine.transition(
        declined.public_id, ReferralState.DECLINED, actor=receiver, reason="No female doctor"
    )
    withdrawn = _sent(people, health)
    engine.transition(
        withdrawn.public_id,
        ReferralState.WITHDRAWN,
        actor=worker,
        reason="She moved to her aunt's village",
        as_sender=True,
    )
    db.session.commit()

    with captured_events() as events:
        sender_view = engine.exchange(declined, worker, as_sender=True)
    assert [(e.state, e.reason) for e in sender_view.history][-1] == (
        ReferralState.DECLINED,
        "No female doctor",
    )
    assert events[0]["fields_revealed"] == ["transition_reasons"]
    receiver_view = engine.exchange(withdrawn, receiver, as_sender=False)
    assert [e.state for e in receiver_view.history][-1] is ReferralState.WITHDRAWN
    assert all(e.reason is None for e in receiver_view.history)  # the sender's reason
    own = engine.exchange(declined, receiver, as_sender=False)
    assert own.history[-1].reason == "No female doctor"
    assert own.history[-1].organisation.acronym == "CLINIC"


def test_receiver_page_feedback_too_long_is_a_400_keeping_the_text(
    client: FlaskClient, people: dict[str, Person], health: Service
) -> None:
    referral = _sent(people, health)
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=people["receiver"].user)
    db.session.commit()
    sign_in(client, people["receiver"])
    url = f"/referrals/{referral.public_id}"
    answer = form_post(
        client, f"{url}/act", {"action": "complete", "feedback": "x" * 1001}, page=url
    )
    assert answer.status_code == 400
    assert "x" * 1001 in answer.get_data(as_text=True)
    db.session.expire_all()
    assert referral.state is ReferralState.ACCEPTED
