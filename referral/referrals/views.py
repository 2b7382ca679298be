"""The receiving organisation's queue (R10) and what a receiver sees (R11)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from referral.clock import utcnow
from referral.db.base import normalise_code
from referral.db.work import attempt
from referral.directory.labels import AGE_GROUP_LABELS, SECTOR_LABELS, SEX_LABELS
from referral.forms import confirmation_field, no_control_characters, strip_filter
from referral.i18n import in_current_language
from referral.messages import lazy_gettext as _l
from referral.referrals import services
from referral.referrals.labels import (
    EVENT_LABELS,
    NEED_LABELS,
    PRIORITY_SHORT,
    SHARED_FIELD_LABELS,
    STATE_CLASSES,
    STATE_LABELS,
)
from referral.referrals.models import FEEDBACK_STATES, REFERRAL_WORKFLOW, Referral, ReferralState
from referral.security.policy import Permission, requires

blueprint = Blueprint("referrals", __name__, url_prefix="/referrals")

Page = str | tuple[str, int] | Response

ACTIONS = {
    "accept": ReferralState.ACCEPTED,
    "decline": ReferralState.DECLINED,
    "complete": ReferralState.COMPLETED,
    "close": ReferralState.CLOSED,
}


# Answers that end the referral for good: the receiver ticks a box first.
FINAL_ACTIONS = ("decline", "close")


class ActForm(FlaskForm):
    action = HiddenField(label="", validators=[DataRequired()])
    # labelled in the page, once per answer (referrals/show.html)
    reason = TextAreaField(
        label="",
        validators=[Optional(), Length(max=2000), no_control_characters],
        filters=[strip_filter],
    )
    feedback = TextAreaField(
        label="",
        validators=[Optional(), Length(max=1000), no_control_characters],
        filters=[strip_filter],
    )
    confirm = confirmation_field(
        _l("This cannot be undone: the sender is told at once and must refer elsewhere."),
        when=lambda form: form.action.data in FINAL_ACTIONS,
    )


LABELS = {
    "state": STATE_LABELS,
    "event": EVENT_LABELS,
    "state_class": STATE_CLASSES,
    "priority": PRIORITY_SHORT,
    "need": NEED_LABELS,
    "sector": SECTOR_LABELS,
    "age_group": AGE_GROUP_LABELS,
    "sex": SEX_LABELS,
    "shared": SHARED_FIELD_LABELS,
}


@blueprint.context_processor
def _labels() -> dict[str, Any]:
    return {"labels": in_current_language(LABELS)}


@blueprint.route("/")
@requires(Permission.RECEIVE_REFERRALS)
def queue() -> Page:
    show = "done" if request.args.get("show") == "done" else "open"
    states = {
        "open": (ReferralState.SENT, ReferralState.ACCEPTED),
        "done": (
            ReferralState.DECLINED,
            ReferralState.COMPLETED,
            ReferralState.CLOSED,
            ReferralState.WITHDRAWN,
        ),
    }[show]
    code = normalise_code(request.args.get("code", ""))
    if code:
        show = "code"  # a code finds its referrals whatever their state
        states = tuple(ReferralState)
    page = services.queue(
        current_user.organisation_id,
        states=states,
        cursor=request.args.get("cursor"),
        limit=int(current_app.config["PAGE_SIZE"]),
        code=code or None,
        lines=True,
    )
    return render_template("referrals/queue.html", page=page, show=show, code=code, now=utcnow())


def _referral(public_id: str) -> Referral:
    return services.load_received(public_id, current_user)


def _page(referral: Referral, form: ActForm | None = None, status: int = 200) -> Page:
    view = services.reveal_for_receiver(referral, current_user)
    exchange = services.exchange(referral, current_user, as_sender=False)
    actions = [
        name for name, target in ACTIONS.items() if REFERRAL_WORKFLOW.can(referral.state, target)
    ]
    html = render_template(
        "referrals/show.html",
        view=view,
        exchange=exchange,
        referral=referral,
        actions=actions,
        form=form or ActForm(formdata=None),
        blank=ActForm(formdata=None),
        now=utcnow(),
    )
    return (html, status) if status != 200 else html


@blueprint.route("/<public_id>")
@requires(Permission.RECEIVE_REFERRALS)
def show(public_id: str) -> Page:
    return _page(_referral(public_id))


@blueprint.route("/<public_id>/act", methods=["POST"])
@requires(Permission.RECEIVE_REFERRALS)
def act(public_id: str) -> Page:
    referral = _referral(public_id)
    form = ActForm()
    if form.action.data not in ACTIONS:
        abort(400)
    if not form.validate():
        return _page(referral, form, 400)
    target = ACTIONS[form.action.data or ""]
    done = attempt(
        lambda: services.transition(
            public_id,
            target,
            actor=current_user,
            reason=form.reason.data,
            feedback=form.feedback.data if target in FEEDBACK_STATES else None,
        ),
        form,
        default="reason",
    )
    if done.status == 400:
        return _page(_referral(public_id), form, 400)
    if not done:
        flash(_("Someone else answered this referral first. Here is where it stands now."), "error")
        return _page(_referral(public_id), None, 409)
    flash(
        _("Referral %(ref)s: %(state)s.", ref=referral.reference, state=STATE_LABELS[target]),
        "success",
    )
    return redirect(url_for("referrals.show", public_id=public_id))
