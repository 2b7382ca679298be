"""Error pages: a clear message and the right status, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from referral.workflow import ConflictError, RuleError

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood. Please check the form and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("This action is not available here."),
    409: _l("Someone else changed this record at the same time. Reload it and try again."),
    413: _l("What you sent is too large."),
    415: _l("This kind of request is not accepted here. Please use the form on the page."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Nothing was saved. Please try again."),
}


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    text = message or str(MESSAGES.get(status, MESSAGES[500]))
    return render_template("errors/error.html", status=status, message=text), status


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, str(_l("Your form expired or was sent from elsewhere. Please reload the page."))
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        status = error.code or 500
        if status in (301, 302, 303, 307, 308):
            return error
        return render_error(status)

    @app.errorhandler(RuleError)
    def rule_error(error: RuleError) -> tuple[str, int]:
        """A refusal no form of the page shows: the message, and nothing was changed."""
        return render_error(400, str(error))

    @app.errorhandler(ConflictError)
    def conflict_error(error: ConflictError) -> tuple[str, int]:
        return render_error(409)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error")
        from referral.extensions import db

        db.session.rollback()
        return render_error(500)
