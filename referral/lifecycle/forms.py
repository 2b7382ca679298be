"""The legal hold form (R26), shown on the case and allegation pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from referral.forms import no_control_characters, strip_filter


class LegalHoldForm(FlaskForm):
    """Place (``action=place``) or release (``action=release``) a legal hold."""

    action = HiddenField(validators=[DataRequired(), AnyOf(["place", "release"])])
    reason = TextAreaField(
        _l("Reason"),
        description=_l("For example the court order or the request. No names of survivors."),
        validators=[DataRequired(), Length(max=500), no_control_characters],
        filters=[strip_filter],
    )
