from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, ValidationError
from wtforms.fields import Field
from wtforms.validators import DataRequired, Length, Regexp

from referral.db import OrganisationType
from referral.forms import email_address, no_control_characters, strip_filter
from referral.labels import ORGANISATION_TYPE_LABELS, ROLE_LABELS
from referral.security.policy import Role

_TIME_ZONES = frozenset(available_timezones()) | {"UTC"}


def known_time_zone(form: object, field: Field) -> None:
    if field.data not in _TIME_ZONES:
        raise ValidationError(_l("Unknown time zone."))


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200), no_control_characters],
        filters=[strip_filter],
    )
    acronym = StringField(
        _l("Acronym"),
        validators=[
            DataRequired(),
            Length(max=30),
            Regexp(r"^[\w .&'()-]+$", message=_l("Letters, digits and - . & ' ( ) only.")),
        ],
        filters=[strip_filter],
    )
    org_type = SelectField(
        _l("Type"),
        choices=[(t.value, label) for t, label in ORGANISATION_TYPE_LABELS.items()],
        validators=[DataRequired()],
    )
    provides_services = BooleanField(_l("Provides services to survivors"))
    time_zone = StringField(
        _l("Time zone"),
        default="UTC",
        description=_l("As in the tz database, e.g. Africa/Bangui."),
        validators=[DataRequired(), Length(max=64), known_time_zone],
        filters=[strip_filter],
    )
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class UserForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Length(max=254),
            email_address,
            no_control_characters,
        ],
        filters=[strip_filter],
    )
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(), Length(max=120), no_control_characters],
        filters=[strip_filter],
    )
    role = SelectField(
        _l("Role"),
        choices=[(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired()],
    )
    organisation = SelectField(_l("Organisation"), validators=[DataRequired()])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ActionForm(FlaskForm):
    """A confirmed POST action (reset password, reset 2FA)."""

    submit = SubmitField(_l("Confirm"))


__all__ = ["ActionForm", "OrganisationForm", "OrganisationType", "Role", "UserForm"]
