"""Forms of the API token pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange

from referral.directory.forms import CheckboxesField
from referral.forms import no_control_characters, required_choice, strip_filter
from referral.messages import lazy_gettext as _l

SCOPE_LABELS = {
    "directory:read": _l("Read the service directory, areas and published pathways"),
    "referrals:read": _l("Read the referral queue, or where sent referrals stand"),
    "referrals:write": _l("Accept, decline and complete referrals"),
    "statistics:read": _l("Read suppressed statistics (each read is an audited export)"),
}


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("What the token is for, e.g. the system that will use it."),
        validators=[DataRequired(), Length(max=80), no_control_characters],
        filters=[strip_filter],
    )
    scopes = CheckboxesField(
        _l("Scopes"),
        description=_l("Give the token only what the system needs."),
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )
    days = IntegerField(
        _l("Valid for (days)"),
        validators=[DataRequired(), NumberRange(min=1, max=3650)],
    )
    submit = SubmitField(_l("Create token"))


class RevokeForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))


class ServiceAccountForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("The system this account stands for, e.g. the clinic's case system."),
        validators=[DataRequired(), Length(max=120), no_control_characters],
        filters=[strip_filter],
    )
    organisation = required_choice(_l("Organisation"))
    role = required_choice(_l("Role"))
    submit = SubmitField(_l("Create service account"))
