"""The legal hold form (R26), shown on the case and allegation pages."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from referral.db.work import attempt
from referral.extensions import db
from referral.forms import confirmation_field, no_control_characters, strip_filter
from referral.lifecycle import retention
from referral.messages import lazy_gettext as _l


class LegalHoldForm(FlaskForm):
    """Place (``action=place``) or release (``action=release``) a legal hold."""

    action = HiddenField(label="", validators=[DataRequired(), AnyOf(["place", "release"])])
    reason = TextAreaField(
        _l("Reason"),
        description=_l("For example the court order or the request. No names of survivors."),
        validators=[DataRequired(), Length(max=500), no_control_characters],
        filters=[strip_filter],
    )
    # Shown only when releasing: placing a hold can itself be undone.
    confirm = confirmation_field(
        _l(
            "Releasing cannot be undone: once its retention period is over, the record is "
            "purged at the next run and can never be read again."
        ),
        when=lambda form: form.action.data == "release",
    )


def apply_hold_form(form: LegalHoldForm, record: Any, actor: Any) -> str | None:
    """Carry out a posted hold form on an authorised record, in the request's transaction.

    Returns the action done ("place" or "release"), or None with the refusal added to the
    form's errors (nothing changed). An action other than the two is a tampered form: 400.
    """
    if form.action.data not in ("place", "release"):
        abort(400)
    if not form.validate():
        return None
    change = retention.place_hold if form.action.data == "place" else retention.release_hold
    if not attempt(lambda: change(db.session(), record, form.reason.data or "", actor), form):
        return None
    return str(form.action.data)
