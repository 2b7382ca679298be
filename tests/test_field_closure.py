"""Field readiness, closure (R9): refusal needs a reason shown back to the caseworker, a
closed case refuses every change its transition table forbids, and a supervisor reopens a
closed case with a reason (audited, the reason never in the audit)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from referral.audit.models import AuditEvent
from referral.cases import services as cases
from referral.cases.models import ActionStatus, Case, CaseStage, ClosureReason
from referral.extensions import db
from referral.referrals.models import ConsentKind, Need
from referral.security.policy import Role
from referral.workflow import ConflictError, IllegalTransitionError, RuleError
from tests.conftest import form_post, sign_in
from tests.factories import (
    Person,
    captured_events,
    incident,
    make_organisation,
    make_person,
    open_case,
)


def _requested(caseworker: Person, note: str = "Goals met.") -> Case:
    case = open_case(caseworker.user)
    incident(case, caseworker.user)
    cases.add_action_item(case, Need.HEALTH, "Clinic", None, actor=caseworker.user)
    cases.request_closure(case, ClosureReason.NEEDS_MET, note, actor=caseworker.user)
    db.session.commit()
    return case


def _closed(caseworker: Person, supervisor: Person) -> Case:
    case = _requested(caseworker)
    cases.decide_closure(case, approve=True, actor=supervisor.user)
    db.session.commit()
    return case


def test_r9_closure_refusal_needs_a_reason_kept_for_the_caseworker(
    caseworker: Person, supervisor: Person
) -> None:
    case = _requested(caseworker)
    with pytest.raises(RuleError) as error:
        cases.decide_closure(case, approve=False, actor=supervisor.user, reason="  ")
    assert error.value.field == "reason"
    with captured_events() as events:
        cases.decide_closure(case, approve=False, actor=supervisor.user, reason="Not yet safe.")
    db.session.commit()
    assert case.stage is CaseStage.FOLLOW_UP
    assert case.closure_refusal_reason == "Not yet safe." and case.closure_refused_at
    assert "Not yet safe." not in repr(events)
    # a new request clears the old refusal
    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=caseworker.user)
    assert case.closure_refusal_reason is None and case.closure_refused_at is None


def test_r9_closure_note_shown_to_the_supervisor_and_refusal_reason_to_the_caseworker(
    client: FlaskClient, caseworker: Person, supervisor: Person
) -> None:
    case = _requested(caseworker, note="Moved to her sister's.")
    url = f"/cases/{case.public_id}"
    sign_in(client, supervisor)
    assert "Moved to her sister&#39;s." in client.get(url).get_data(as_text=True)
    seen = db.session.scalars(
        db.select(AuditEvent).where(
            AuditEvent.action == "case.viewed", AuditEvent.obj_id == case.public_id
        )
    ).all()
    assert any("closure_note" in e.fields_revealed for e in seen)
    refused = form_post(
        client, f"{url}/closure/decision", {"decision": "refuse", "reason": ""}, page=url
    )
    assert refused.status_code == 400
    assert "Say why the closure is refused" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert case.stage is CaseStage.CLOSURE_REQUESTED
    done = form_post(
        client,
        f"{url}/closure/decision",
        {"decision": "refuse", "reason": "Call her first."},
        page=url,
    )
    assert done.status_code == 302

    other = client.application.test_client()
    sign_in(other, caseworker)
    page = other.get(url).get_data(as_text=True)
    assert 'id="closure-refused"' in page and "Call her first." in page


def test_r9_closed_case_refuses_every_change_but_consent_withdrawal(
    caseworker: Person, supervisor: Person
) -> None:
    case = _closed(caseworker, supervisor)
    worker = caseworker.user
    refusals: list[Any] = [
        lambda: cases.move_stage(case, CaseStage.FOLLOW_UP, actor=worker),
        lambda: cases.add_follow_up(case, "note", actor=worker),
        lambda: cases.update_notes(case, "notes", actor=worker),
        lambda: cases.set_action_status(case.action_items[0], ActionStatus.DONE, actor=worker),
        lambda: cases.add_action_item(case, Need.HEALTH, "more", None, actor=worker),
        lambda: cases.record_consent(
            case, ConsentKind.STATISTICS, actor=worker, survivor_is_child=False
        ),
    ]
    for attempt in refusals:
        with pytest.raises(RuleError):
            attempt()
    assert case.stage is CaseStage.CLOSED


def test_r9_closed_case_page_shows_no_forbidden_action(
    client: FlaskClient, caseworker: Person, supervisor: Person
) -> None:
    case = _closed(caseworker, supervisor)
    sign_in(client, caseworker)
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    for forbidden in (
        f"/cases/{case.public_id}/consent",
        f"/cases/{case.public_id}/incident",
        f"/cases/{case.public_id}/refer",
        f"/cases/{case.public_id}/stage",
        f"/cases/{case.public_id}/actions",
        f"/cases/{case.public_id}/follow-ups",
        f"/cases/{case.public_id}/closure",
        f"/cases/{case.public_id}/reopen",  # supervisors only
    ):
        assert f'"{forbidden}"' not in page, forbidden
    details = client.get(f"/cases/{case.public_id}/details").get_data(as_text=True)
    assert "Save notes" not in details


def test_supervisor_reopens_a_closed_case_with_a_reason(
    client: FlaskClient, caseworker: Person, supervisor: Person
) -> None:
    case = _closed(caseworker, supervisor)
    with pytest.raises(RuleError):
        cases.reopen(case, "Back", actor=caseworker.user)  # not a supervisor
    with pytest.raises(RuleError):
        other = make_person(Role.SUPERVISOR, make_organisation("OTH")).user
        cases.reopen(case, "Back", actor=other)
    with pytest.raises(RuleError):
        cases.reopen(case, " ", actor=supervisor.user)

    url = f"/cases/{case.public_id}"
    sign_in(client, supervisor)
    answer = form_post(client, f"{url}/reopen", {"reopen-reason": "New threats."}, page=url)
    assert answer.status_code == 302
    db.session.expire_all()
    assert case.stage is CaseStage.FOLLOW_UP and case.closed_at is None
    assert case.reopen_reason == "New threats."
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "case.reopened")
    ).one()
    assert event.obj_id == case.public_id and "New threats." not in repr(event.detail)
    # only a closed case is reopened; the work goes on from follow-up
    with pytest.raises((ConflictError, IllegalTransitionError)):
        cases.reopen(case, "Again", actor=supervisor.user)
    cases.add_follow_up(case, "Called her.", actor=caseworker.user)
