"""One unit of work per request: views never commit or roll back (referral.db.work).

A request's changes are one transaction, committed when the response succeeded and
rolled back otherwise; a service refuses with the one RuleError (400, the message next
to its field) or ConflictError (409), and the refused change is undone at once.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from referral.audit import record
from referral.audit.models import AuditEvent
from referral.db import Organisation, OrganisationType
from referral.db.work import after_commit, attempt, finish_request
from referral.extensions import db
from referral.workflow import ConflictError, IllegalTransitionError, RuleError

PACKAGE = Path(__file__).resolve().parent.parent / "referral"


class NameForm(FlaskForm):
    name = StringField()


def _organisation(acronym: str) -> Organisation:
    return Organisation(
        name=f"{acronym} organisation",
        acronym=acronym,
        org_type=OrganisationType.NATIONAL_NGO,
        provides_services=True,
    )


def _refuse(error: Exception) -> None:
    raise error


def _stored(acronym: str) -> bool:
    db.session.expire_all()
    found = db.session.scalar(select(Organisation).where(Organisation.acronym == acronym))
    return found is not None


def _actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_refused_change_is_undone_at_once_with_the_message_next_to_its_field(
    app: Flask,
) -> None:
    with app.test_request_context("/x", method="POST"):
        form = NameForm(meta={"csrf": False})

        def half_done() -> None:
            db.session.add(_organisation("HALF"))
            db.session.flush()
            record("organisation.created", obj_type="organisation", obj_id="HALF")
            raise RuleError("name", "This name is taken.")

        done = attempt(half_done, form)
        assert not done and done.status == 400
        assert form.name.errors == ["This name is taken."]
        finish_request(400)
    assert not _stored("HALF")
    assert "organisation.created" not in _actions()


def test_message_for_a_field_the_form_lacks_goes_to_the_default_or_the_form(app: Flask) -> None:
    with app.test_request_context("/x", method="POST"):
        form = NameForm(meta={"csrf": False})
        attempt(
            lambda: (_ for _ in ()).throw(RuleError("elsewhere", "Wrong.")), form, default="name"
        )
        assert form.name.errors == ["Wrong."]
        attempt(lambda: (_ for _ in ()).throw(RuleError("", "All wrong.")), form, default="")
        assert form.form_errors == ["All wrong."]


@pytest.mark.parametrize("error", [ConflictError("taken"), IllegalTransitionError("x", "a", "b")])
def test_conflict_is_409_and_undone(app: Flask, error: ConflictError) -> None:
    with app.test_request_context("/x", method="POST"):
        form = NameForm(meta={"csrf": False})

        def lost_race() -> None:
            db.session.add(_organisation("RACE"))
            db.session.flush()
            raise error

        done = attempt(lost_race, form)
        assert done.status == 409 and not form.name.errors
        finish_request(409)
    assert not _stored("RACE")


def test_successful_request_commits_change_and_events_together(app: Flask) -> None:
    with app.test_request_context("/x", method="POST"):
        done = attempt(lambda: db.session.add(_organisation("DONE")))
        assert done and done.status == 200
        record("organisation.created", obj_type="organisation", obj_id="DONE")
        finish_request(302)
    assert _stored("DONE")
    assert _actions() == ["organisation.created"]


def test_failed_response_rolls_back_but_keeps_denials(app: Flask) -> None:
    with app.test_request_context("/x", method="POST"):
        db.session.add(_organisation("GONE"))
        record("organisation.created", obj_type="organisation", obj_id="GONE")
        record("access.denied", outcome="denied", obj_type="organisation", obj_id="GONE")
        finish_request(404)
    assert not _stored("GONE")
    assert _actions() == ["access.denied"]


def test_after_commit_work_runs_only_once_the_change_is_stored(app: Flask) -> None:
    ran: list[str] = []
    with app.test_request_context("/x", method="POST"):
        after_commit(lambda: ran.append("kept"))
        finish_request(302)
    with app.test_request_context("/x", method="POST"):
        after_commit(lambda: ran.append("undone"))
        finish_request(400)
    assert ran == ["kept"]


def test_refusal_no_form_shows_is_a_clear_4xx_never_a_500(app: Flask) -> None:
    with app.test_request_context("/x", method="POST"):
        response = app.make_response(app.handle_user_exception(RuleError("", "Not allowed now.")))
        assert response.status_code == 400
        assert "Not allowed now." in response.get_data(as_text=True)
        response = app.make_response(app.handle_user_exception(ConflictError("late")))
        assert response.status_code == 409


def _transaction_calls(function: ast.FunctionDef) -> list[str]:
    return [
        node.func.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
    ]


def _is_request_hook(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(decorator, ast.Attribute) and decorator.attr.startswith("before_")
        for decorator in function.decorator_list
    )


def test_views_never_commit_roll_back_or_define_their_own_error_type() -> None:
    """The one unit of work and the one RuleError/ConflictError: no copies in features."""
    owning = [
        f"{path.relative_to(PACKAGE)}:{function.name}"
        for path in PACKAGE.rglob("views.py")
        for function in ast.walk(ast.parse(path.read_text()))
        if isinstance(function, ast.FunctionDef)
        and not _is_request_hook(function)
        and _transaction_calls(function)
    ]
    assert owning == []
    field_errors = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if re.search(r"def __init__\(self, field: str, message", path.read_text())
    ]
    assert field_errors == ["workflow.py"]
    conflicts = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in re.findall(r"^class (\w*Conflict\w*)\(", path.read_text(), re.M)
    ]
    assert conflicts == ["workflow.py: ConflictError"]
