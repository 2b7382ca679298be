"""Allegation forms: only the minimal fields of R17; nowhere to type a name."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import Field
from wtforms.validators import DataRequired, Length, Optional

from referral.forms import (
    SmallIntegerField,
    confirmation_field,
    no_control_characters,
    required_choice,
    strip_filter,
)
from referral.messages import lazy_gettext as _l
from referral.psea.labels import (
    CHANNEL_LABELS,
    ENTITY_TYPE_LABELS,
    OUTCOME_LABELS,
    PERSONNEL_LABELS,
    REPORTABLE_CATEGORY_LABELS,
    SURVIVOR_AGE_LABELS,
    SURVIVOR_SEX_LABELS,
)
from referral.psea.models import FINAL_OUTCOMES, SurvivorAgeGroup, SurvivorSex
from referral.psea.services import NARRATIVE_MAX_LENGTH

MAX_SURVIVORS_PER_GROUP = 999


def survivor_count(form: object, field: Field) -> None:
    """0 to 999 (compares Python ints, so a hostile 300-digit number is refused cleanly)."""
    if field.data is not None and not 0 <= int(field.data) <= MAX_SURVIVORS_PER_GROUP:
        raise ValidationError(_l("Enter a number from 0 to 999."))


def survivor_field_name(age: SurvivorAgeGroup, sex: SurvivorSex) -> str:
    return f"survivors_{age.value}_{sex.value}"


class AllegationForm(FlaskForm):
    received_at = DateTimeLocalField(
        _l("Date and time received"),
        format="%Y-%m-%dT%H:%M",
        description=_l("In your organisation's time zone."),
        validators=[DataRequired(message=_l("Enter when the allegation was received."))],
    )
    channel = required_choice(
        _l("Channel"), [(c.value, label) for c, label in CHANNEL_LABELS.items()]
    )
    incident_from = DateField(_l("Incident period: from (approximate)"), validators=[Optional()])
    incident_to = DateField(_l("Incident period: to (approximate)"), validators=[Optional()])
    area = SelectField(
        _l("Area"),
        description=_l("The administrative area (province or district), never an exact place."),
    )
    category = required_choice(
        _l("Category"),
        [(c.value, label) for c, label in REPORTABLE_CATEGORY_LABELS.items()],
        description=_l(
            "If any survivor is under 18 the allegation becomes sexual abuse of a child "
            "automatically."
        ),
    )
    entity = SelectField(
        _l("Entity of the alleged perpetrator"),
        description=_l(
            "Choose “Unknown or not listed” when the organisation is not known or not a "
            "member of the network: the coordinator then routes it by hand."
        ),
    )
    entity_type = required_choice(
        _l("Type of entity (when not listed)"),
        [(c.value, label) for c, label in ENTITY_TYPE_LABELS.items()],
        when=lambda form: not form.entity.data,
    )
    personnel_category = required_choice(
        _l("Category of personnel"),
        [(c.value, label) for c, label in PERSONNEL_LABELS.items()],
    )
    consents_to_assistance = BooleanField(
        _l("The survivor consents to be contacted for victim assistance")
    )
    narrative = TextAreaField(
        _l("Short summary (optional)"),
        description=_l(
            "Do not write the name of anyone: not of the survivor, the alleged perpetrator, "
            "witnesses or staff. The summary is encrypted and every reading is recorded."
        ),
        validators=[Optional(), Length(max=NARRATIVE_MAX_LENGTH), no_control_characters],
        filters=[strip_filter],
    )
    submit = SubmitField(_l("Record allegation"))


# Survivor counts: one number per age group and sex, no identities.
for _age in SurvivorAgeGroup:
    for _sex in SurvivorSex:
        setattr(
            AllegationForm,
            survivor_field_name(_age, _sex),
            SmallIntegerField(
                _l(
                    "%(age)s, %(sex)s",
                    age=SURVIVOR_AGE_LABELS[_age],
                    sex=SURVIVOR_SEX_LABELS[_sex],
                ),
                default=0,
                validators=[Optional(), survivor_count],
            ),
        )


# The routing choice that sends an allegation to the network coordinator (manual routing).
TO_COORDINATOR = "coordinator"


class RouteForm(FlaskForm):
    organisation = required_choice(_l("Route to the PSEA focal points of"))
    # Sending it to the coordinator for manual routing can still be corrected.
    confirm = confirmation_field(
        _l(
            "Routing cannot be undone: the PSEA focal points of the chosen organisation see "
            "this allegation at once."
        ),
        when=lambda form: form.organisation.data not in ("", TO_COORDINATOR),
    )
    submit = SubmitField(_l("Route allegation"))


class OutcomeForm(FlaskForm):
    outcome = SelectField(
        _l("Outcome category"),
        choices=[(o.value, label) for o, label in OUTCOME_LABELS.items()],
        description=_l("Report the category only: no investigation details are stored here."),
    )
    confirm = confirmation_field(
        _l(
            "A final outcome (substantiated, unsubstantiated, closed for another reason) "
            "cannot be undone: it closes the allegation, which can never be reopened."
        ),
        when=lambda form: form.outcome.data in {o.value for o in FINAL_OUTCOMES},
    )
    submit = SubmitField(_l("Report outcome"))


class ActionForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class DelegationForm(FlaskForm):
    holder = required_choice(_l("GBV coordinator"))
    ends_on = DateField(
        _l("Last day of the delegation"),
        validators=[DataRequired(message=_l("Enter the last day."))],
    )
    reason = StringField(
        _l("Reason"),
        description=_l("For example: PSEA coordinator on leave until the position is filled."),
        validators=[DataRequired(), Length(max=300), no_control_characters],
        filters=[strip_filter],
    )
    submit = SubmitField(_l("Grant delegation"))
