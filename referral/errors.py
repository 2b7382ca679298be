"""Error pages: a clear message and the right status, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from referral.messages import lazy_gettext as _l
from referral.workflow import ConflictError, RuleError

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood. Please check the form and try again."),
    401: _l("Send a valid API token: Authorization: Bearer <token>."),
    403: _l("You do not have permission to do this."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("This action is not available here."),
    409: _l("Someone else changed this record at the same time. Reload it and try again."),
    413: _l("What you sent is too large."),
    415: _l("This kind of request is not accepted here. Please use the form on the page."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Nothing was saved. Please try again."),
}


# Requests under this path are answered in JSON: errors as RFC 9457 problem details.
API_PREFIX = "/api/"
API_MESSAGES = {
    415: _l("Send a JSON body (Content-Type: application/json), or no body."),
}
PROBLEM_MIMETYPE = "application/problem+json"


def problem(
    status: int, detail: str | None = None, *, errors: list[dict[str, str]] | None = None
) -> Response:
    """An ``application/problem+json`` answer (RFC 9457)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or str(API_MESSAGES.get(status) or MESSAGES.get(status, MESSAGES[500])),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _wants_problem() -> bool:
    return request.path.startswith(API_PREFIX)


def render_error(status: int, message: str | None = None) -> tuple[str, int] | Response:
    if _wants_problem():
        return problem(status, message)
    text = message or str(MESSAGES.get(status, MESSAGES[500]))
    return render_template("errors/error.html", status=status, message=text), status


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int] | Response:
        return render_error(
            400, str(_l("Your form expired or was sent from elsewhere. Please reload the page."))
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response | HTTPException:
        status = error.code or 500
        if status in (301, 302, 303, 307, 308):
            return error
        response = render_error(status)
        if isinstance(response, Response):
            carried = dict(error.get_headers())
            for name in ("Retry-After", "Allow"):
                if name in carried:
                    response.headers[name] = carried[name]
        return response

    @app.errorhandler(RuleError)
    def rule_error(error: RuleError) -> tuple[str, int] | Response:
        """A refusal no form of the page shows: the message, and nothing was changed."""
        return render_error(400, str(error))

    @app.errorhandler(ConflictError)
    def conflict_error(error: ConflictError) -> tuple[str, int] | Response:
        return render_error(409)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int] | Response:
        log.exception("unhandled error")
        from referral.extensions import db

        db.session.rollback()
        return render_error(500)
