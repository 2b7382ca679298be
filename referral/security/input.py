"""Input refused before any view sees it.

NUL characters have no place in any field of this application, and PostgreSQL cannot
store them in text: a request carrying one is answered 400 at the door rather than
failing deep inside a query.

Every page posts an HTML form. A body of any other type (JSON above all, which
Flask-WTF would otherwise read as form data while other code reads ``request.form``)
is answered 415, so one request is never read two ways. Under ``/api/`` it is the other
way round: the API reads JSON bodies only, never form data.
"""

from __future__ import annotations

from flask import Flask, abort, request


def _carries_nul() -> bool:
    for values in (request.args, request.form):
        for _key, value in values.items(multi=True):
            if "\x00" in value or "\x00" in _key:
                return True
    return "\x00" in request.path


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
JSON_TYPES = frozenset({"application/json"})
API_PREFIX = "/api/"


def _carries_a_non_form_body() -> bool:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    accepted = JSON_TYPES if request.path.startswith(API_PREFIX) else FORM_TYPES
    return bool(request.mimetype or has_body) and request.mimetype not in accepted


def init_input_guards(app: Flask) -> None:
    @app.before_request
    def _refuse_non_form_bodies() -> None:
        if _carries_a_non_form_body():
            abort(415)

    @app.before_request
    def _refuse_nul_bytes() -> None:
        if _carries_nul():
            abort(400)
