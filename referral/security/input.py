"""Input refused before any view sees it.

NUL characters have no place in any field of this application, and PostgreSQL cannot
store them in text: a request carrying one is answered 400 at the door rather than
failing deep inside a query.
"""

from __future__ import annotations

from flask import Flask, abort, request


def _carries_nul() -> bool:
    for values in (request.args, request.form):
        for _key, value in values.items(multi=True):
            if "\x00" in value or "\x00" in _key:
                return True
    return "\x00" in request.path


def init_input_guards(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes() -> None:
        if _carries_nul():
            abort(400)
