"""Field readiness, editing a case after intake: the rules behind the edit page (R2, R7)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from referral.cases import services as cases
from referral.cases.models import Case, ClosureReason, RiskLevel
from referral.directory.models import AgeGroup, Sex
from referral.extensions import db
from referral.workflow import RuleError
from tests.conftest import form_post, sign_in
from tests.factories import Person, captured_events, incident, open_case, the_area


def _details(case: Case, **changes: object) -> cases.CaseDetails:
    values: dict[str, object] = {
        "sex": case.sex,
        "risk_level": case.risk_level,
        "area": case.area,
        "age": case.age,
        "age_group": None if case.age is not None else case.age_group,
        "has_disability": case.has_disability,
        "displacement_status": case.displacement_status,
        "unaccompanied_or_separated": case.unaccompanied_or_separated,
        **{f: getattr(case, f) or "" for f in cases.INTAKE_SENSITIVE_FIELDS},
    }
    values.update(changes)
    return cases.CaseDetails(**values)  # type: ignore[arg-type]


def test_r7_editing_the_age_of_a_case_rederives_the_child_flags(caseworker: Person) -> None:
    case = open_case(caseworker.user, age=19)
    incident(case, caseworker.user, penetration=True)
    recorded = case.latest_incident
    assert recorded is not None and not recorded.child_sexual_abuse
    with captured_events() as events:
        changed = cases.edit_case(case, _details(case, age=15), actor=caseworker.user)
    assert changed == ["age", "age_group"]
    assert case.age_group is AgeGroup.ADOLESCENT and recorded.child_sexual_abuse
    assert [e["detail"] for e in events if e["action"] == "case.edited"] == [
        {"fields": ["age", "age_group"]}
    ]


def test_r2_case_edit_audits_the_names_of_changed_sensitive_fields_never_values(
    caseworker: Person,
) -> None:
    case = open_case(caseworker.user, narrative="first account")
    with captured_events() as events:
        cases.edit_case(
            case, _details(case, narrative="second account", name="Amina"), actor=caseworker.user
        )
    assert case.narrative == "second account" and case.name == "Amina"
    assert [e["detail"] for e in events] == [{"fields": ["name", "narrative"]}]
    assert "account" not in repr(events) and "Amina" not in repr(events)
    with captured_events() as events:
        assert cases.edit_case(case, _details(case), actor=caseworker.user) == []
    assert events == []  # nothing changed, nothing to record


def test_case_edit_refuses_an_age_group_against_the_age_and_a_closed_case(
    caseworker: Person,
) -> None:
    case = open_case(caseworker.user, age=30)
    with pytest.raises(RuleError) as error:
        cases.edit_case(case, _details(case, age_group=AgeGroup.CHILD), actor=caseworker.user)
    assert error.value.field == "age_group"
    cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=caseworker.user)
    with pytest.raises(RuleError):
        cases.edit_case(case, _details(case, risk_level=RiskLevel.HIGH), actor=caseworker.user)


def test_case_edit_page_answers_bad_input_with_400_and_keeps_what_was_typed(
    client: FlaskClient, caseworker: Person
) -> None:
    case = open_case(caseworker.user, age=30)
    sign_in(client, caseworker)
    url = f"/cases/{case.public_id}/edit"
    answer = form_post(
        client,
        url,
        {
            "age": "300",
            "sex": Sex.FEMALE.value,
            "area": the_area().public_id,
            "risk_level": "low",
            "displacement_status": "unknown",
            "contact": "kept number",
        },
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Age must be 0 to 120." in page and "kept number" in page
    db.session.expire_all()
    assert case.age == 30
