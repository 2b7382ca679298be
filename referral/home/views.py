from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from referral.db.work import database_answers
from referral.home.inbox import inbox_for
from referral.security.policy import public, signed_in

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@signed_in
def inbox() -> str:
    return render_template("home/inbox.html", sections=inbox_for(current_user))


@blueprint.route("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    if not database_answers():
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
