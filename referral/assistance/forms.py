"""Victim-assistance forms: consent first, needs, then a referral into GBV case management."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from referral.assistance.labels import NEED_LABELS, PRIORITY_LABELS
from referral.directory.labels import AGE_GROUP_LABELS, SEX_LABELS
from referral.forms import confirmation_field, no_control_characters, required_choice, strip_filter
from referral.messages import lazy_gettext as _l
from referral.referrals.labels import CAREGIVER_LABELS

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChildConsentFields(FlaskForm):
    """R5, asked only when the survivor is under 18."""

    caregiver_consented = RadioField(
        _l("Did a caregiver give consent? (child survivor)"),
        choices=YES_NO,
        validators=[Optional()],
    )
    caregiver_relationship = SelectField(
        _l("Consenting caregiver"),
        choices=[
            ("", _l("Choose")),
            *[(r.value, label) for r, label in CAREGIVER_LABELS.items()],
        ],
        validators=[Optional()],
    )
    caregiver_is_alleged_perpetrator = RadioField(
        _l("Is this caregiver the alleged perpetrator?"),
        choices=YES_NO,
        validators=[Optional()],
    )
    child_assented = RadioField(
        _l("Did the child assent?"), choices=YES_NO, validators=[Optional()]
    )
    best_interest_note = TextAreaField(
        _l("Best-interest decision (when no caregiver consents)"),
        validators=[Optional(), Length(max=2000), no_control_characters],
        filters=[strip_filter],
    )


class AssistanceForm(ChildConsentFields):
    allegation = HiddenField(label="")
    consents_to_assistance = BooleanField(
        _l("The survivor (or, for a child, the caregiver) consents to assistance")
    )
    age_group = required_choice(
        _l("Age group"), [(a.value, label) for a, label in AGE_GROUP_LABELS.items()]
    )
    sex = required_choice(_l("Sex"), [(s.value, label) for s, label in SEX_LABELS.items()])
    area = SelectField(
        _l("Area where the survivor lives"),
        description=_l("Decides which referral pathway applies."),
        validators=[DataRequired(message=_l("Choose the area."))],
    )
    needs = CheckboxListField(
        _l("Assistance needed"),
        choices=[(n.value, label) for n, label in NEED_LABELS.items()],
    )
    submit = SubmitField(_l("Open assistance record"))


class ReferForm(ChildConsentFields):
    service = required_choice(_l("GBV case-management service"))
    priority = required_choice(
        _l("Priority"), [(p.value, label) for p, label in PRIORITY_LABELS.items()]
    )
    note = TextAreaField(
        _l("Referral note (optional)"),
        description=_l("Shared with the receiving service and encrypted. Do not write names."),
        validators=[Optional(), Length(max=2000), no_control_characters],
        filters=[strip_filter],
    )
    off_pathway_reason = TextAreaField(
        _l("Reason, if the service is suspended or does not accept the survivor"),
        validators=[Optional(), Length(max=2000), no_control_characters],
        filters=[strip_filter],
    )
    survivor_consents = BooleanField(
        _l("The survivor consents to this referral to the chosen organisation")
    )
    submit = SubmitField(_l("Send referral"))


class CloseForm(FlaskForm):
    confirm = confirmation_field(
        _l(
            "Closing cannot be undone: the record cannot be reopened and is purged after the "
            "retention period."
        )
    )
