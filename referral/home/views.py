from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.db import User
from referral.db.base import normalise_code
from referral.db.work import database_answers
from referral.home.codes import destination
from referral.home.inbox import inbox_for
from referral.security.policy import public, signed_in

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@signed_in
def inbox() -> str:
    # the user itself, not the request-local proxy: the sections read it once a row
    user: User = current_user._get_current_object()
    return render_template("home/inbox.html", sections=inbox_for(user))


@blueprint.route("/go")
@signed_in
def go() -> Response | tuple[str, int]:
    """The "go to code" box: the record's page, if the user may open it. Anything else
    (no such code, another organisation's record) gets the same answer."""
    typed = request.args.get("code", "")
    if not typed.strip():
        return render_template("home/go.html", code=""), 200
    found = destination(current_user, normalise_code(typed))
    if found is not None:
        return redirect(found)
    return render_template("home/go.html", code=typed[:40]), 404


@blueprint.route("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    if not database_answers():
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
