from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, SubmitField, ValidationError
from wtforms.fields import Field
from wtforms.validators import DataRequired, Length, Regexp

from referral.auth.forms import ReauthenticationForm
from referral.db import OrganisationType
from referral.forms import (
    confirmation_field,
    email_address,
    no_control_characters,
    required_choice,
    strip_filter,
)
from referral.labels import ORGANISATION_TYPE_LABELS, ROLE_LABELS
from referral.messages import lazy_gettext as _l
from referral.security.policy import Role

_TIME_ZONES = frozenset(available_timezones()) | {"UTC"}


def known_time_zone(form: object, field: Field) -> None:
    if field.data not in _TIME_ZONES:
        raise ValidationError(_l("Unknown time zone."))


def _deactivating(form: Any) -> bool:
    return bool(form.currently_active) and not form.active.data


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
    org_type = required_choice(
        _l("Type"), [(t.value, label) for t, label in ORGANISATION_TYPE_LABELS.items()]
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
    confirm = confirmation_field(
        _l(
            "When unticking Active: every user of this organisation is signed out at once, "
            "which cannot be undone, and no one of it can sign in until it is active again."
        ),
        when=_deactivating,
    )
    submit = SubmitField(_l("Save"))

    # Set by the view from the stored organisation: only unticking "Active" asks to confirm.
    currently_active = False


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
    role = required_choice(_l("Role"), [(r.value, label) for r, label in ROLE_LABELS.items()])
    organisation = required_choice(_l("Organisation"))
    active = BooleanField(_l("Active"), default=True)
    confirm = confirmation_field(
        _l(
            "When unticking Active: the user is signed out everywhere at once, which cannot "
            "be undone, and cannot sign in until the account is active again."
        ),
        when=_deactivating,
    )
    submit = SubmitField(_l("Save"))

    # Set by the view from the stored user: only unticking "Active" asks to confirm.
    currently_active = False


class ResetPasswordForm(ReauthenticationForm):
    confirm = confirmation_field(
        _l(
            "This cannot be undone: the current password stops working at once and the user "
            "is signed out everywhere."
        )
    )


class ResetTwoFactorForm(ReauthenticationForm):
    confirm = confirmation_field(
        _l(
            "This cannot be undone: the authenticator and recovery codes stop working at once; "
            "the user sets up a new authenticator at the next sign-in."
        )
    )


__all__ = [
    "ListItemEditForm",
    "ListItemForm",
    "OrganisationForm",
    "OrganisationType",
    "ResetPasswordForm",
    "ResetTwoFactorForm",
    "Role",
    "UserForm",
]


class ListItemForm(FlaskForm):
    """A new item of a country-adapted list: its code is chosen once and never changes."""

    code = StringField(
        _l("Code"),
        description=_l(
            "Lowercase letters, digits and _; stored in records and exports, never changed."
        ),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(
                r"^[a-z0-9][a-z0-9_]*$",
                message=_l("Lowercase letters, digits and _ only."),
            ),
        ],
        filters=[strip_filter],
    )
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=200), no_control_characters],
        filters=[strip_filter],
    )
    submit = SubmitField(_l("Add to the list"))


class ListItemEditForm(FlaskForm):
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=200), no_control_characters],
        filters=[strip_filter],
    )
    active = BooleanField(
        _l("Offered in forms"),
        description=_l("Untick to stop offering it; records that use it keep it."),
    )
    submit = SubmitField(_l("Save"))
