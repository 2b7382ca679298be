"""Case transfer to another organisation (with the survivor's consent; the receiving
supervisor accepts or declines; the sender loses access on acceptance) and reassignment
within an organisation by a supervisor; every step audited."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from referral.audit.models import AuditEvent
from referral.cases import services as cases
from referral.cases import transfers
from referral.cases.models import (
    TRANSFER_WORKFLOW,
    Case,
    CaseTransfer,
    ClosureReason,
    TransferState,
)
from referral.db import Organisation, OrganisationType, User
from referral.extensions import db
from referral.home.inbox import inbox_for
from referral.lifecycle import retention
from referral.referrals import services as engine
from referral.referrals.models import CaregiverRelationship, Consent, ConsentKind, Priority
from referral.security.policy import Role
from referral.workflow import ConflictError, IllegalTransitionError, RuleError
from tests.conftest import form_post, sign_in
from tests.factories import (
    Person,
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
def _request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def receiver_org() -> Organisation:
    return make_organisation("RCV", OrganisationType.NATIONAL_NGO)


@pytest.fixture
def people(org: Organisation, receiver_org: Organisation) -> dict[str, Person]:
    return {
        "worker": make_person(Role.CASEWORKER, org),
        "colleague": make_person(Role.CASEWORKER, org, email="colleague@hbi.example.org"),
        "supervisor": make_person(Role.SUPERVISOR, org),
        "their_supervisor": make_person(Role.SUPERVISOR, receiver_org),
        "their_worker": make_person(Role.CASEWORKER, receiver_org),
    }


def _case(people: dict[str, Person]) -> Case:
    case = open_case(people["worker"].user, narrative="She left home after the assault.")
    incident(case, people["worker"].user)
    return case


def _propose(case: Case, people: dict[str, Person], receiver: Organisation) -> CaseTransfer:
    transfer = transfers.propose_transfer(
        case, receiver, consented=True, note="Moved to Kesa", actor=people["worker"].user
    )
    db.session.commit()
    return transfer


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# --- the workflow table -----------------------------------------------------------------------


def test_item7_transfer_workflow_is_an_explicit_transition_table() -> None:
    assert TRANSFER_WORKFLOW.targets(TransferState.PROPOSED) == {
        TransferState.ACCEPTED,
        TransferState.DECLINED,
        TransferState.WITHDRAWN,
    }
    for final in (TransferState.ACCEPTED, TransferState.DECLINED, TransferState.WITHDRAWN):
        assert TRANSFER_WORKFLOW.targets(final) == frozenset()
    with pytest.raises(IllegalTransitionError):
        TRANSFER_WORKFLOW.check(TransferState.DECLINED, TransferState.ACCEPTED)


# --- consent ----------------------------------------------------------------------------------


def test_item7_r3_transfer_needs_the_survivors_consent_recorded_as_its_own_record(
    people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    with pytest.raises(RuleError) as refused:
        transfers.propose_transfer(
            case, receiver_org, consented=False, note="", actor=people["worker"].user
        )
    assert refused.value.field == "consented"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseTransfer)) == 0
    transfer = _propose(case, people, receiver_org)
    consent = db.session.get_one(Consent, transfer.consent_id)
    assert consent.kind is ConsentKind.TRANSFER and consent.active
    assert consent.receiving_organisation_id == receiver_org.id
    assert consent.source_public_id == case.public_id


def test_item7_r5_a_child_survivors_transfer_consent_follows_the_child_rules(
    people: dict[str, Person], receiver_org: Organisation
) -> None:
    child = open_case(people["worker"].user, age=14)
    with pytest.raises(RuleError):
        transfers.propose_transfer(
            child, receiver_org, consented=True, note="", actor=people["worker"].user
        )
    with pytest.raises(RuleError):
        transfers.propose_transfer(
            child,
            receiver_org,
            consented=True,
            note="",
            actor=people["worker"].user,
            child=engine.ChildConsent(
                caregiver_consented=True,
                caregiver_relationship=CaregiverRelationship.FATHER,
                caregiver_is_alleged_perpetrator=True,
                child_assented=True,
            ),
        )
    transfer = transfers.propose_transfer(
        child,
        receiver_org,
        consented=True,
        note="",
        actor=people["worker"].user,
        child=engine.ChildConsent(
            caregiver_consented=True,
            caregiver_relationship=CaregiverRelationship.MOTHER,
            caregiver_is_alleged_perpetrator=False,
            child_assented=True,
        ),
    )
    assert db.session.get_one(Consent, transfer.consent_id).caregiver_consented


def test_item7_r3_withdrawing_the_consent_withdraws_the_proposal(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    transfer = _propose(case, people, receiver_org)
    consent = db.session.get_one(Consent, transfer.consent_id)
    client = app.test_client()
    sign_in(client, people["worker"])
    response = form_post(
        client,
        f"/cases/{case.public_id}/consents/{consent.public_id}/withdraw",
        {"reason": "She changed her mind", "confirm": "y"},
        page=f"/cases/{case.public_id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(CaseTransfer, transfer.id).state is TransferState.WITHDRAWN
    with pytest.raises(ConflictError):
        transfers.accept_transfer(
            db.session.get_one(CaseTransfer, transfer.id),
            None,
            actor=people["their_supervisor"].user,
        )


def test_item7_transfer_refused_to_own_or_mission_organisation_or_twice(
    people: dict[str, Person], org: Organisation, receiver_org: Organisation
) -> None:
    mission = make_organisation("MSN", OrganisationType.PEACEKEEPING_MISSION)
    make_person(Role.PSEA_FOCAL_POINT, mission)
    case = _case(people)
    for target in (org, mission, None):
        with pytest.raises(RuleError):
            transfers.propose_transfer(
                case, target, consented=True, note="", actor=people["worker"].user
            )
    assert receiver_org in transfers.receiving_organisations(case)
    assert mission not in transfers.receiving_organisations(case)
    _propose(case, people, receiver_org)
    with pytest.raises(RuleError):
        _propose(case, people, receiver_org)


# --- access before and after acceptance -----------------------------------------------------


def test_item7_receiver_sees_only_the_request_then_the_case_after_accepting_sender_loses_it(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    """On SQLite and PostgreSQL alike: before acceptance the receiving supervisor opens
    the request (no case details) but not the case; after it, the receiver opens the case
    and nobody of the sending organisation does."""
    case = _case(people)
    transfer = _propose(case, people, receiver_org)
    case_url = f"/cases/{case.public_id}"
    request_url = f"/cases/transfers/{transfer.public_id}"

    theirs = app.test_client()
    sign_in(theirs, people["their_supervisor"])
    assert theirs.get(case_url).status_code == 404
    assert theirs.get(f"{case_url}/details").status_code == 404
    page = theirs.get(request_url).get_data(as_text=True)
    assert case.survivor_code in page and "Moved to Kesa" in page
    assert "She left home" not in page  # the narrative stays sealed
    assert "Incident" not in page
    listing = theirs.get("/cases/").get_data(as_text=True)
    assert case.survivor_code not in listing
    items = {str(s.title): s.items for s in inbox_for(people["their_supervisor"].user)}
    assert [i.title for i in items["Case transfers awaiting your answer"]] == [case.survivor_code]
    # the receiving organisation's caseworker sees nothing at all
    their_worker = app.test_client()
    sign_in(their_worker, people["their_worker"])
    assert their_worker.get(request_url).status_code == 403
    assert their_worker.get(case_url).status_code == 404

    ours = app.test_client()
    sign_in(ours, people["supervisor"])
    assert ours.get(request_url).status_code == 404  # the sender answers nothing
    assert ours.get(case_url).status_code == 200

    response = form_post(
        theirs,
        f"{request_url}/accept",
        {"accept-owner": people["their_worker"].user.public_id, "accept-confirm": "y"},
        page=request_url,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get_one(Case, case.id)
    assert moved.organisation_id == receiver_org.id
    assert moved.owner_id == people["their_worker"].user.id
    assert moved.assigned_user_ids() == {people["their_worker"].user.id}

    assert theirs.get(case_url).status_code == 200
    assert their_worker.get(case_url).status_code == 200
    assert case.survivor_code in their_worker.get("/cases/").get_data(as_text=True)
    for who in ("worker", "supervisor"):
        client = app.test_client()
        sign_in(client, people[who])
        assert client.get(case_url).status_code == 404, who
        assert client.get(f"{case_url}/details").status_code == 404, who
        assert case.survivor_code not in client.get("/cases/").get_data(as_text=True)
    assert not cases.can_open(people["supervisor"].user, moved)
    actions = _actions()
    assert "case.transfer_proposed" in actions
    assert "case.transfer_accepted" in actions and "case.transferred" in actions


def test_item7_decline_needs_a_reason_and_keeps_the_case_with_the_sender(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    transfer = _propose(case, people, receiver_org)
    theirs = app.test_client()
    sign_in(theirs, people["their_supervisor"])
    url = f"/cases/transfers/{transfer.public_id}"
    assert form_post(theirs, f"{url}/decline", {"decline-reason": ""}, page=url).status_code == 400
    response = form_post(theirs, f"{url}/decline", {"decline-reason": "No capacity"}, page=url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(CaseTransfer, transfer.id).state is TransferState.DECLINED
    assert (
        db.session.get_one(Case, case.id).organisation_id == people["worker"].user.organisation_id
    )
    assert theirs.get(f"/cases/{case.public_id}").status_code == 404
    # answered: a second answer is a conflict, and nothing changes
    response = form_post(
        theirs,
        f"{url}/accept",
        {"accept-owner": people["their_supervisor"].user.public_id, "accept-confirm": "y"},
        page=url,
    )
    assert response.status_code == 409
    assert "case.transfer_declined" in _actions()


def test_item7_only_the_receiving_supervisor_answers_and_the_sender_withdraws(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    transfer = _propose(case, people, receiver_org)
    with pytest.raises(RuleError):
        transfers.accept_transfer(transfer, None, actor=people["supervisor"].user)
    with pytest.raises(RuleError):
        transfers.accept_transfer(transfer, None, actor=people["their_worker"].user)
    with pytest.raises(RuleError):  # the new owner must belong to the receiving organisation
        transfers.accept_transfer(
            transfer, people["colleague"].user, actor=people["their_supervisor"].user
        )
    with pytest.raises(RuleError):
        transfers.withdraw_transfer(transfer, "no", actor=people["their_supervisor"].user)
    client = app.test_client()
    sign_in(client, people["worker"])
    url = f"/cases/{case.public_id}/transfers/{transfer.public_id}/withdraw"
    response = form_post(
        client, url, {"transfer-reason": "She stays"}, page=f"/cases/{case.public_id}"
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(CaseTransfer, transfer.id).state is TransferState.WITHDRAWN
    assert "case.transfer_withdrawn" in _actions()


def test_item7_a_case_closed_meanwhile_is_not_transferred(
    people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    transfer = _propose(case, people, receiver_org)
    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=people["worker"].user)
    db.session.commit()
    with pytest.raises(ConflictError):
        transfers.accept_transfer(transfer, None, actor=people["their_supervisor"].user)


def test_item7_transfer_pages_propose_through_the_form(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    client = app.test_client()
    sign_in(client, people["worker"])
    url = f"/cases/{case.public_id}/transfer"
    page = client.get(url).get_data(as_text=True)
    assert receiver_org.acronym in page
    data = {"organisation": receiver_org.public_id, "note": "Closer to her family"}
    response = form_post(client, url, {**data, "consented": "no"}, page=url)
    assert response.status_code == 400
    assert "only with the survivor" in response.get_data(as_text=True)
    response = form_post(client, url, {**data, "consented": "yes"}, page=url)
    assert response.status_code == 302
    stored = db.session.scalar(sa.select(CaseTransfer))
    assert stored is not None and stored.to_organisation_id == receiver_org.id
    assert stored.note == "Closer to her family"
    show = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert "Proposed, waiting for an answer" in show


def test_item7_case_page_reads_transfers_and_legal_hold_with_the_case(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    """The proposed transfer and a legal hold in force are shown on the case page, and
    read in the case's own statement: no statement more than without them."""
    from tests.test_query_counts import counting

    case = _case(people)
    client = app.test_client()
    sign_in(client, people["supervisor"])
    url = f"/cases/{case.public_id}"
    assert client.get(url).status_code == 200
    with counting() as without:
        bare = client.get(url).get_data(as_text=True)
    assert "Legal hold" not in bare and "Withdraw the proposal" not in bare
    _propose(case, people, receiver_org)
    retention.place_hold(db.session(), case, "Court order 3/2026", people["supervisor"].user)
    db.session.commit()
    with counting() as with_both:
        page = client.get(url).get_data(as_text=True)
    assert f"{receiver_org.acronym} · Proposed, waiting for an answer" in page
    assert "Withdraw the proposal" in page and "Release the legal hold" in page
    assert "Court order" not in page and "Moved to Kesa" not in page  # not decrypted there
    assert len(with_both) == len(without), "\n".join(s.split("\n")[0][:90] for s in with_both)
    assert not [s for s in with_both if "FROM case_transfers" in s or "FROM legal_holds" in s]


# --- reassignment -----------------------------------------------------------------------------


def test_item7_supervisor_reassigns_within_the_organisation_audited(
    app: Flask, people: dict[str, Person], receiver_org: Organisation
) -> None:
    case = _case(people)
    with pytest.raises(RuleError):  # a caseworker does not reassign
        transfers.reassign(case, people["colleague"].user, actor=people["worker"].user)
    with pytest.raises(RuleError):  # nor to another organisation's caseworker
        transfers.reassign(case, people["their_worker"].user, actor=people["supervisor"].user)
    client = app.test_client()
    sign_in(client, people["supervisor"])
    response = form_post(
        client,
        f"/cases/{case.public_id}/reassign",
        {"reassign-user": people["colleague"].user.public_id, "reassign-confirm": "y"},
        page=f"/cases/{case.public_id}",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get_one(Case, case.id)
    assert moved.owner_id == people["colleague"].user.id
    assert moved.assigned_user_ids() == {people["colleague"].user.id}
    assert not cases.can_open(people["worker"].user, moved)
    assert cases.can_open(people["colleague"].user, moved)
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "case.reassigned")
    ).one()
    assert event.detail == {
        "from": people["worker"].user.public_id,
        "to": people["colleague"].user.public_id,
    }


def test_item7_r3_pending_referrals_follow_the_case_and_the_receiver_can_withdraw_them(
    people: dict[str, Person], receiver_org: Organisation
) -> None:
    """After the transfer the receiving organisation follows the case's pending referrals:
    withdrawing the survivor's consent there withdraws them (R3)."""
    clinic = make_organisation("CLN", OrganisationType.NATIONAL_NGO)
    health = make_service(clinic)
    publish_pathway(people["worker"].user, [health])
    case = _case(people)
    consent = referral_consent(case, people["worker"].user, health)
    referral = cases.refer(
        case,
        request(health, priority=Priority.EMERGENCY),  # R8: the case's window is open
        consent=consent,
        actor=people["worker"].user,
    )
    db.session.commit()
    transfer = _propose(case, people, receiver_org)
    transfers.accept_transfer(transfer, None, actor=people["their_supervisor"].user)
    db.session.commit()
    assert referral.sending_organisation_id == receiver_org.id
    withdrawn = engine.withdraw_consent(
        consent, actor=people["their_supervisor"].user, reason="She asked to stop"
    )
    db.session.commit()
    assert [r.public_id for r in withdrawn] == [referral.public_id]
    assert "referral.handed_over" in _actions()


@pytest.mark.postgres_only
def test_item7_two_supervisors_answer_at_once_exactly_one_wins(
    app: Flask,
    engine_name: str,
    people: dict[str, Person],
    receiver_org: Organisation,
) -> None:
    """Two real PostgreSQL connections accept and decline the same transfer at the same
    instant: the row lock and the table let exactly one answer stand."""
    if engine_name != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    second = make_person(Role.SUPERVISOR, receiver_org, email="s2@rcv.example.org").user.id
    first = people["their_supervisor"].user.id
    receiver_id = receiver_org.id
    case = _case(people)
    transfer_id = _propose(case, people, receiver_org).public_id
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def answer(user_id: int, accept: bool) -> None:
        with app.app_context():
            actor = db.session.get_one(User, user_id)
            barrier.wait()
            try:
                record = transfers.load_transfer(transfer_id, for_update=True)
                assert record is not None
                if accept:
                    transfers.accept_transfer(record, None, actor=actor)
                else:
                    transfers.decline_transfer(record, "No capacity", actor=actor)
                db.session.commit()
                outcomes["accept" if accept else "decline"] = "won"
            except ConflictError:
                db.session.rollback()
                outcomes["accept" if accept else "decline"] = "lost"

    threads = [
        threading.Thread(target=answer, args=(first, True)),
        threading.Thread(target=answer, args=(second, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["lost", "won"]
    final = db.session.scalars(
        sa.select(CaseTransfer).where(CaseTransfer.public_id == transfer_id)
    ).one()
    moved = db.session.get_one(Case, final.case_id)
    if outcomes["accept"] == "won":
        assert final.state is TransferState.ACCEPTED and moved.organisation_id == receiver_id
    else:
        assert final.state is TransferState.DECLINED and moved.organisation_id != receiver_id
