"""Case rules R1, R2, R5-R9 at the service level (no HTTP)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from referral import clock
from referral.cases import services as cases
from referral.cases.models import (
    CASE_WORKFLOW,
    Case,
    CaseStage,
    ClosureReason,
    IncidentType,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    ReportingDelay,
    RiskLevel,
    TimeOfDay,
)
from referral.clinical import Care
from referral.db import User
from referral.db.paging import CursorError
from referral.directory.models import AgeGroup, Sex
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import CaregiverRelationship, Consent, ConsentKind
from referral.security.policy import Role
from referral.workflow import IllegalTransitionError, RuleError
from tests.conftest import START, fresh
from tests.factories import (
    Person,
    captured_events,
    incident,
    make_organisation,
    make_person,
    open_case,
    the_area,
)


def test_r1_case_opens_without_name_under_random_survivor_code(caseworker: Person) -> None:
    first = open_case(caseworker.user)
    second = open_case(caseworker.user, name="Canary Person")
    assert first.name is None
    assert re.fullmatch(r"GBV-26-[0-9A-HJKMNP-TV-Z]{5}", first.survivor_code)
    assert first.survivor_code != second.survivor_code
    assert "CANARY" not in second.survivor_code.upper()


def test_r6_intake_refused_without_mandatory_reporting_confirmation(caseworker: Person) -> None:
    intake = cases.Intake(
        mandatory_reporting_explained=False,
        sex=Sex.FEMALE,
        risk_level=RiskLevel.LOW,
        age=30,
        area=the_area(),
    )
    with pytest.raises(RuleError) as error:
        cases.open_case(intake, actor=caseworker.user)
    assert error.value.field == "mandatory_reporting_explained"
    case = open_case(caseworker.user)
    assert case.mandatory_reporting_explained_at == clock.utcnow()
    assert case.mandatory_reporting_explained_by_id == caseworker.user.id


@pytest.mark.parametrize("age", [-1, 121, 500])
def test_age_out_of_range_refused(caseworker: Person, age: int) -> None:
    intake = cases.Intake(
        mandatory_reporting_explained=True,
        sex=Sex.FEMALE,
        risk_level=RiskLevel.LOW,
        age=age,
        area=the_area(),
    )
    with pytest.raises(RuleError) as error:
        cases.open_case(intake, actor=caseworker.user)
    assert error.value.field == "age"


def test_age_group_used_when_age_unknown_and_must_match_age(caseworker: Person) -> None:
    case = open_case(caseworker.user, age=None, age_group=AgeGroup.ADOLESCENT)
    assert case.is_child
    with pytest.raises(RuleError):
        cases.open_case(
            cases.Intake(
                mandatory_reporting_explained=True,
                sex=Sex.FEMALE,
                risk_level=RiskLevel.LOW,
                area=the_area(),
                age=40,
                age_group=AgeGroup.ADOLESCENT,
            ),
            actor=caseworker.user,
        )


def test_r2_sensitive_fields_encrypted_and_reveal_names_fields(caseworker: Person) -> None:
    case = open_case(caseworker.user, name="Zawadi Canary", narrative="NARRATIVE-CANARY")
    raw = db.session.execute(
        db.text("SELECT name, narrative FROM cases WHERE id = :id"), {"id": case.id}
    ).one()
    assert b"Canary" not in bytes(raw[0]) and b"CANARY" not in bytes(raw[1])
    with captured_events() as seen:
        values = cases.reveal(case, caseworker.user, ["name", "narrative", "contact"])
    assert values == {"name": "Zawadi Canary", "narrative": "NARRATIVE-CANARY"}
    assert seen[0]["action"] == "case.viewed"
    assert seen[0]["fields_revealed"] == ["name", "narrative"]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"penetration": True, "physical_assault": True}, IncidentType.RAPE),
        ({"unwanted_sexual_contact": True, "forced_marriage": True}, IncidentType.SEXUAL_ASSAULT),
        ({"physical_assault": True, "psychological_abuse": True}, IncidentType.PHYSICAL_ASSAULT),
        ({"forced_marriage": True, "denial_of_resources": True}, IncidentType.FORCED_MARRIAGE),
        (
            {"denial_of_resources": True, "psychological_abuse": True},
            IncidentType.DENIAL_OF_RESOURCES,
        ),
        ({"psychological_abuse": True}, IncidentType.PSYCHOLOGICAL_ABUSE),
        ({}, IncidentType.NON_GBV),
    ],
)
def test_r7_ordered_decision_questions_choose_exactly_one_type(
    answers: dict[str, bool], expected: IncidentType
) -> None:
    assert cases.classify(answers) is expected


def test_r7_context_flags_are_derived(caseworker: Person) -> None:
    child = open_case(caseworker.user, age=15)
    incident(child, caseworker.user, penetration=True)
    assert child.latest_incident is not None
    assert child.latest_incident.child_sexual_abuse
    assert not child.latest_incident.possible_sexual_exploitation

    adult = open_case(caseworker.user, age=25)
    data = cases.IncidentData(
        answers={"unwanted_sexual_contact": True},
        incident_at=clock.utcnow() - timedelta(days=20),
        reported_on=clock.utcnow().date(),
        time_of_day=TimeOfDay.MORNING,
        location_type=LocationType.HOME,
        perpetrator_count=1,
        perpetrator_sex=Sex.MALE,
        perpetrator_age_group=PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=PerpetratorRelationship.INTIMATE_PARTNER,
        goods_or_money_exchanged=True,
    )
    found = cases.record_incident(adult, data, actor=caseworker.user)
    assert found.possible_sexual_exploitation and found.intimate_partner_violence
    assert not found.child_sexual_abuse
    assert found.reporting_delay is ReportingDelay.WEEKS_2_TO_MONTH

    married = open_case(caseworker.user, age=16)
    incident(married, caseworker.user, forced_marriage=True)
    assert married.latest_incident is not None and married.latest_incident.early_marriage


def test_incident_in_future_or_report_before_incident_refused(caseworker: Person) -> None:
    case = open_case(caseworker.user)
    base = dict(
        answers={"physical_assault": True},
        time_of_day=TimeOfDay.MORNING,
        location_type=LocationType.HOME,
        perpetrator_count=1,
        perpetrator_sex=Sex.MALE,
        perpetrator_age_group=PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=PerpetratorRelationship.STRANGER,
    )
    with pytest.raises(RuleError) as error:
        cases.record_incident(
            case,
            cases.IncidentData(
                incident_at=clock.utcnow() + timedelta(hours=2),
                reported_on=clock.utcnow().date(),
                **base,  # type: ignore[arg-type]
            ),
            actor=caseworker.user,
        )
    assert error.value.field == "incident_date"
    with pytest.raises(RuleError) as error:
        cases.record_incident(
            case,
            cases.IncidentData(
                incident_at=clock.utcnow() - timedelta(days=2),
                reported_on=(clock.utcnow() - timedelta(days=5)).date(),
                **base,  # type: ignore[arg-type]
            ),
            actor=caseworker.user,
        )
    assert error.value.field == "reported_on"
    assert case.latest_incident is None


def test_r8_clinical_windows_from_incident_time_and_configurable(
    caseworker: Person, app: Flask
) -> None:
    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=10, penetration=True)
    assert case.latest_incident is not None
    windows = {w.care: w for w in case.latest_incident.clinical_windows()}
    now = clock.utcnow()
    assert windows[Care.PEP].time_left(now) == timedelta(hours=62)
    assert windows[Care.EC].time_left(now) == timedelta(hours=110)
    assert all(w.is_open(now) for w in windows.values())
    later = now + timedelta(hours=111)
    assert not any(w.is_open(later) for w in windows.values())
    app.config["CLINICAL_WINDOW_PEP_HOURS"] = 12
    try:
        pep = case.latest_incident.clinical_windows()[0]
        assert pep.time_left(now) == timedelta(hours=2)
    finally:
        app.config["CLINICAL_WINDOW_PEP_HOURS"] = 72
    physical = open_case(caseworker.user)
    incident(physical, caseworker.user, physical_assault=True)
    recorded = physical.latest_incident
    assert recorded is not None and recorded.clinical_windows() == []


def test_r9_six_steps_as_transition_table_and_closure_needs_reason_and_approval(
    caseworker: Person,
    supervisor: Person,
) -> None:
    case = open_case(caseworker.user)
    for stage in (
        CaseStage.ASSESSMENT,
        CaseStage.ACTION_PLAN,
        CaseStage.IMPLEMENTATION,
        CaseStage.FOLLOW_UP,
    ):
        cases.move_stage(case, stage, actor=caseworker.user)
    with pytest.raises(IllegalTransitionError):
        CASE_WORKFLOW.check(CaseStage.ENGAGEMENT, CaseStage.FOLLOW_UP)
    with pytest.raises(RuleError):
        cases.move_stage(case, CaseStage.CLOSED, actor=caseworker.user)
    with pytest.raises(RuleError) as error:
        cases.request_closure(case, None, "", actor=caseworker.user)
    assert error.value.field == "reason"
    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=caseworker.user)
    assert case.stage is CaseStage.CLOSURE_REQUESTED
    with pytest.raises(RuleError):
        cases.decide_closure(case, approve=True, actor=caseworker.user)
    cases.decide_closure(case, approve=True, actor=supervisor.user)
    db.session.commit()
    assert (
        fresh(case).stage is CaseStage.CLOSED and case.closure_approved_by_id == supervisor.user.id
    )
    assert case.closed_at == clock.utcnow()


def test_supervisor_of_other_org_cannot_approve_closure(caseworker: Person) -> None:
    other = make_person(Role.SUPERVISOR, make_organisation("OTH")).user
    case = open_case(caseworker.user)
    cases.request_closure(case, ClosureReason.LOST_CONTACT, "", actor=caseworker.user)
    with pytest.raises(RuleError):
        cases.decide_closure(case, approve=True, actor=other)


def _child_consent(case: Case, actor: User, child: engine.ChildConsent | None) -> Consent:
    return engine.record_consent(
        case, ConsentKind.SERVICES, actor=actor, survivor_is_child=True, child=child
    )


def test_r5_child_consent_names_caregiver_and_assent(caseworker: Person) -> None:
    case = open_case(caseworker.user, age=13)
    consent = _child_consent(
        case,
        caseworker.user,
        engine.ChildConsent(
            caregiver_consented=True,
            caregiver_relationship=CaregiverRelationship.MOTHER,
            caregiver_name="Mama Canary",
            caregiver_is_alleged_perpetrator=False,
            child_assented=True,
        ),
    )
    assert consent.caregiver_relationship is CaregiverRelationship.MOTHER
    assert consent.child_assented is True
    with pytest.raises(RuleError) as error:
        _child_consent(case, caseworker.user, None)
    assert error.value.field == "caregiver_consented"
    with pytest.raises(RuleError) as error:
        _child_consent(
            case,
            caseworker.user,
            engine.ChildConsent(
                caregiver_consented=True,
                caregiver_relationship=CaregiverRelationship.FATHER,
                caregiver_is_alleged_perpetrator=False,
                child_assented=None,
            ),
        )
    assert error.value.field == "child_assented"


def test_r5_alleged_perpetrator_never_the_consenting_caregiver(caseworker: Person) -> None:
    case = open_case(caseworker.user, age=9)
    with pytest.raises(RuleError) as error:
        _child_consent(
            case,
            caseworker.user,
            engine.ChildConsent(
                caregiver_consented=True,
                caregiver_relationship=CaregiverRelationship.FATHER,
                caregiver_is_alleged_perpetrator=True,
                child_assented=True,
            ),
        )
    assert error.value.field == "caregiver_is_alleged_perpetrator"


def test_r5_best_interest_note_required_without_caregiver_consent(caseworker: Person) -> None:
    case = open_case(caseworker.user, age=16)
    with pytest.raises(RuleError) as error:
        _child_consent(
            case,
            caseworker.user,
            engine.ChildConsent(caregiver_consented=False, child_assented=True),
        )
    assert error.value.field == "best_interest_note"
    consent = _child_consent(
        case,
        caseworker.user,
        engine.ChildConsent(
            caregiver_consented=False,
            child_assented=True,
            best_interest_note="Caregiver unreachable; child at risk.",
        ),
    )
    assert consent.best_interest_note == "Caregiver unreachable; child at risk."


def test_case_list_caseworker_sees_own_and_assigned_supervisor_sees_org(
    caseworker: Person,
    supervisor: Person,
) -> None:
    org = caseworker.user.organisation
    colleague = make_person(Role.CASEWORKER, org, email="colleague@example.org").user
    mine = open_case(caseworker.user)
    theirs = open_case(colleague)
    shared = open_case(colleague)
    cases.assign(shared, caseworker.user, actor=supervisor.user)
    db.session.commit()
    seen = {c.public_id for c in cases.list_cases(caseworker.user, cases.CaseFilter()).rows}
    assert seen == {mine.public_id, shared.public_id}
    assert theirs.public_id not in seen
    everything = {c.public_id for c in cases.list_cases(supervisor.user, cases.CaseFilter()).rows}
    assert everything == {mine.public_id, theirs.public_id, shared.public_id}


def test_case_list_keyset_pages_and_filters(caseworker: Person) -> None:
    made = []
    for i in range(7):
        clock.advance(timedelta(minutes=1))
        made.append(
            open_case(caseworker.user, risk_level=RiskLevel.HIGH if i % 2 else RiskLevel.LOW)
        )
    first = cases.list_cases(caseworker.user, cases.CaseFilter(), limit=3)
    assert [c.public_id for c in first.rows] == [c.public_id for c in reversed(made)][:3]
    second = cases.list_cases(
        caseworker.user, cases.CaseFilter(), cursor=first.next_cursor, limit=3
    )
    assert [c.public_id for c in second.rows] == [c.public_id for c in reversed(made)][3:6]
    high = cases.list_cases(caseworker.user, cases.CaseFilter(risk_level=RiskLevel.HIGH))
    assert len(high.rows) == 3
    with pytest.raises(CursorError):
        cases.list_cases(caseworker.user, cases.CaseFilter(), cursor="garbage")


def test_demo_cases_cover_every_stage_and_referral_state_and_load_once(app: Flask) -> None:
    from referral.cases.models import Case
    from referral.demo import load_demo
    from referral.referrals.models import Referral, ReferralState

    lines = load_demo()
    assert any(line.startswith("Demo cases: 32") for line in lines)
    stages = set(db.session.scalars(db.select(Case.stage)).all())
    states = set(db.session.scalars(db.select(Referral.state)).all())
    assert states == set(ReferralState)
    assert {CaseStage.ENGAGEMENT, CaseStage.FOLLOW_UP, CaseStage.CLOSED} <= stages
    count = db.session.scalar(db.select(db.func.count()).select_from(Case))
    load_demo()
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == count
    assert clock.utcnow() == START  # the demo put the frozen clock back


def test_r1_survivor_code_collision_picks_another(
    caseworker: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codes are short and random: a collision with an existing code picks again."""
    from referral.referrals import services as engine_services

    first = open_case(caseworker.user)
    codes = iter([first.survivor_code, first.survivor_code, "GBV-26-NEW00"])
    monkeypatch.setattr(engine_services, "random_code", lambda prefix, length=5: next(codes))
    second = open_case(caseworker.user)
    assert second.survivor_code == "GBV-26-NEW00"
