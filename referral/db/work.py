"""The unit of work: one transaction per request, committed or rolled back in one place.

Views and services never commit or roll back. A request's changes form one transaction:

- when the view has answered, :func:`finish_request` commits it if the response
  succeeded (status below 400) and rolls it back otherwise (a refused form, a denial, an
  error page). The audit trail hooks the session, so a commit writes the request's
  events with its change, and a rollback keeps only the "denied" and "error" events,
  which the following commit writes on their own;
- a service refuses a change by raising :class:`~referral.workflow.RuleError` (bad
  input: 400) or :class:`~referral.workflow.ConflictError` (someone else acted first:
  409). :func:`attempt` runs a service call, and on a refusal rolls back at once (so
  the page shown next reads the stored state, not the half-made change) and puts the
  message next to the form field it concerns;
- work that must wait for the commit, such as an e-mail saying a referral waits, is
  given to :func:`after_commit` and runs only once the change is stored;
- a fact noticed while checking rights must be stored even when the request is then
  refused (a delegation found lapsed while refusing its holder): the change that records
  it is given to :func:`survive_rollback`, which makes it again after every rollback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Flask, flash, g, has_app_context
from sqlalchemy import text
from werkzeug.wrappers import Response

from referral.extensions import db
from referral.workflow import ConflictError, RuleError

T = TypeVar("T")
log = logging.getLogger(__name__)

AFTER_COMMIT = "referral_after_commit"
REDO_AFTER_ROLLBACK = "referral_redo_after_rollback"


def finish_request(status_code: int) -> None:
    """Commit the request's transaction if it succeeded, otherwise roll it back.

    After a rollback the commit still runs: it writes only what survives a rollback (the
    audit trail's "denied" and "error" events) and is a no-op when there is nothing.
    """
    session = db.session()
    if status_code >= 400:
        _rollback()
        g.pop(AFTER_COMMIT, None)
    session.commit()
    for callback in g.pop(AFTER_COMMIT, []):
        callback()


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` once the request's change is committed (never if it is undone)."""
    if not has_app_context():
        raise RuntimeError("after_commit needs a request")
    g.setdefault(AFTER_COMMIT, []).append(callback)


def survive_rollback(change: Callable[[], Any]) -> None:
    """Make ``change`` now and again after every rollback of this request's unit of work,
    so that it is committed even when the request fails. ``change`` must be idempotent
    (a conditional update that does nothing once made)."""
    change()
    if has_app_context():
        g.setdefault(REDO_AFTER_ROLLBACK, []).append(change)


def _rollback() -> None:
    db.session.rollback()
    for change in g.get(REDO_AFTER_ROLLBACK, []):
        change()


def init_unit_of_work(app: Flask) -> None:
    """Register after every other ``after_request`` hook, so that this one runs first.

    A commit that fails (the database went away, a constraint the services did not
    foresee) is answered through the application's error handlers like any failure in
    a view: the change is rolled back, the error page is shown, and the later hooks
    (security headers, compression) still apply to that page.
    """

    @app.after_request
    def _finish(response: Response) -> Response:
        try:
            finish_request(response.status_code)
        except Exception as error:
            failed = app.make_response(app.handle_user_exception(error))
            try:
                finish_request(failed.status_code)  # write what survives a rollback
            except Exception:
                log.exception("could not record the failed request")
                db.session.rollback()
            return failed
        return response


# --- one service call: apply it, or show why it was refused ------------------------------


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What :func:`attempt` did: the service's result, or the refusal and its status."""

    result: T | None = None
    refusal: RuleError | ConflictError | None = None

    def __bool__(self) -> bool:
        return self.refusal is None

    @property
    def value(self) -> T:
        """The service's result; only read it after checking that the attempt succeeded."""
        if self.refusal is not None:
            raise RuntimeError("the service call was refused") from self.refusal
        return self.result  # type: ignore[return-value]

    @property
    def status(self) -> int:
        """400 for a broken rule, 409 when someone else changed the record first."""
        if isinstance(self.refusal, ConflictError):
            return 409
        return 400 if self.refusal is not None else 200

    @property
    def message(self) -> str:
        return str(self.refusal) if isinstance(self.refusal, RuleError) else ""

    @property
    def field(self) -> str | None:
        return self.refusal.field if isinstance(self.refusal, RuleError) else None


def attempt(
    call: Callable[[], T],
    form: Any | None = None,
    *,
    fields: Mapping[str, str | None] | None = None,
    default: str | None = None,
) -> Attempt[T]:
    """Run one service call within the request's unit of work.

    On a :class:`RuleError` or :class:`ConflictError` nothing is changed: the transaction
    is rolled back at once, and a rule error's message is added to ``form``'s field named
    by the error. ``fields`` renames error fields to form fields (to None: the caller
    shows that message itself); a message for a field the form does not have goes to
    the ``default`` field (``""``: the form as a whole), or without one is flashed. The
    caller answers with ``attempt.status``; on success the change is committed when the
    request ends.
    """
    try:
        return Attempt(result=call())
    except (RuleError, ConflictError) as refusal:
        _rollback()
        fields = fields or {}
        if form is not None and isinstance(refusal, RuleError):
            if refusal.field in fields and fields[refusal.field] is None:
                return Attempt(refusal=refusal)  # the view shows this one itself
            name = fields.get(refusal.field) or refusal.field
            target = getattr(form, name, None) if name else None
            if target is None and default:
                target = getattr(form, default)
            if target is not None:
                target.errors = [*target.errors, refusal.message]
            elif default == "":
                form.form_errors.append(refusal.message)
            else:  # never lose the reason
                flash(str(refusal), "error")
        return Attempt(refusal=refusal)


def database_answers() -> bool:
    """A trivial round-trip, for the health check: False on any database failure."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        return False
    return True
