"""One record loader (referral.security.records.load_or_404): load -> authorise in one
query, with the same SQL condition the record's list uses; views run no queries of
their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.exceptions import NotFound

from referral.audit.models import AuditEvent
from referral.cases import services as cases
from referral.cases.models import Case
from referral.db import Organisation, OrganisationType, User
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import sign_in
from tests.factories import make_organisation, make_person, open_case

PACKAGE = Path(__file__).resolve().parent.parent / "referral"


def _view_modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.name == "views.py" or path.name.endswith("_views.py")
    )


def test_one_record_loader_views_run_no_select_of_their_own() -> None:
    """Queries live in services: no ``select(...)`` or ``db.select(...)`` in a view module."""
    assert len(_view_modules()) >= 10
    offenders = []
    for path in _view_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else node.func.attr
                if isinstance(node.func, ast.Attribute)
                else ""
            )
            if name in ("select", "query", "execute", "scalars", "scalar"):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}()")
    assert offenders == []


@pytest.fixture
def people_and_cases() -> tuple[list[User], list[Case]]:
    """Every role in organisation A and a supervisor and caseworker in B; cases owned,
    assigned and of the other organisation."""
    org_a = make_organisation("HBI")
    org_b = make_organisation("LWHA", OrganisationType.NATIONAL_NGO)
    people = [make_person(role, org_a).user for role in Role]
    owner = next(u for u in people if u.role is Role.CASEWORKER)
    helper = make_person(Role.CASEWORKER, org_a, email="helper@example.org").user
    bystander = make_person(Role.CASEWORKER, org_a, email="bystander@example.org").user
    supervisor_a = next(u for u in people if u.role is Role.SUPERVISOR)
    other_worker = make_person(Role.CASEWORKER, org_b, email="b.worker@example.org").user
    other_supervisor = make_person(Role.SUPERVISOR, org_b, email="b.super@example.org").user
    own = open_case(owner)
    shared = open_case(owner)
    cases.assign(shared, helper, actor=supervisor_a)
    db.session.commit()
    elsewhere = open_case(other_worker)
    users = [*people, helper, bystander, other_worker, other_supervisor]
    return users, [own, shared, elsewhere]


def test_one_record_loader_case_list_and_case_pages_agree_for_every_role_and_case(
    app: Flask, people_and_cases: tuple[list[User], list[Case]]
) -> None:
    users, all_cases = people_and_cases
    opened: dict[tuple[str, str], bool] = {}
    for user in users:
        listed = {c.id for c in db.session.scalars(cases.visible_cases(user))}
        for case in all_cases:
            by_rule = cases.can_open(user, case)
            with app.test_request_context():
                try:
                    cases.load_case(case.public_id, user)
                    loaded = True
                except NotFound:
                    loaded = False
            assert by_rule == (case.id in listed) == loaded, (user.email, case.survivor_code)
            opened[(user.email, case.survivor_code)] = by_rule
    own, shared, elsewhere = (c.survivor_code for c in all_cases)
    assert {k for k, v in opened.items() if v} == {
        ("caseworker.hbi@example.org", own),
        ("caseworker.hbi@example.org", shared),
        ("helper@example.org", shared),
        ("supervisor.hbi@example.org", own),
        ("supervisor.hbi@example.org", shared),
        ("b.worker@example.org", elsewhere),
        ("b.super@example.org", elsewhere),
    }


def _denials() -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(AuditEvent.obj_id).where(AuditEvent.action == "access.denied"))
    )


def test_one_record_loader_hidden_and_missing_records_are_the_same_audited_404(
    app: Flask, org: Organisation, other_org: Organisation
) -> None:
    """Both answer 404 (a record's existence does not leak), both are audited denials
    (probing ids leaves a trace)."""
    owner = make_person(Role.CASEWORKER, org)
    case = open_case(owner.user)
    stranger = make_person(Role.CASEWORKER, other_org)
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(f"/cases/{case.public_id}").status_code == 404
    assert _denials() == [case.public_id]
    assert client.get("/cases/NOSUCHCASE").status_code == 404
    assert _denials() == [case.public_id, "NOSUCHCASE"]
    client = app.test_client()
    sign_in(client, owner)
    assert client.get(f"/cases/{case.public_id}").status_code == 200
