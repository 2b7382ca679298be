"""Forms of the directory: areas, their CSV import, services and the service search."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from referral.directory.labels import (
    AGE_GROUP_LABELS,
    AREA_LEVEL_LABELS,
    COST_LABELS,
    SECTOR_LABELS,
    SERVICE_STATUS_LABELS,
    SEX_LABELS,
)
from referral.forms import email_address, no_control_characters, required_choice, strip_filter
from referral.messages import lazy_gettext as _l


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _text(label: object, length: int, *, required: bool = False, **kw: object) -> StringField:
    validators = [DataRequired() if required else Optional(), Length(max=length)]
    return StringField(
        label, validators=[*validators, no_control_characters], filters=[strip_filter], **kw
    )


class AreaForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("A short stable code, e.g. the P-code AR-LOM-02."),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits and - _ . only.")),
        ],
        filters=[strip_filter],
    )
    name = _text(_l("Name"), 120, required=True)
    level = required_choice(_l("Level"), [(k.value, v) for k, v in AREA_LEVEL_LABELS.items()])
    parent = SelectField(_l("Belongs to"), validate_choice=True)
    submit = SubmitField(_l("Save"))


class AreaImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "Columns: code, name, level (country, province, district, site), parent_code. "
            "UTF-8. Nothing is imported if any row has an error."
        ),
        validators=[FileRequired()],
    )
    submit = SubmitField(_l("Import"))


class ServiceForm(FlaskForm):
    organisation = required_choice(_l("Organisation"))
    sector = required_choice(_l("Sector"), [(k.value, v) for k, v in SECTOR_LABELS.items()])
    name = _text(_l("Service name"), 160, required=True)
    areas = CheckboxesField(
        _l("Areas covered"),
        description=_l("A service covering a province also serves its districts and sites."),
        validators=[DataRequired(message=_l("Choose at least one area."))],
    )
    address = _text(_l("Address"), 300)
    opening_hours = _text(_l("Opening hours"), 200, description=_l("e.g. Mon-Fri 8:00-16:00"))
    languages = _text(_l("Languages"), 200)
    age_groups = CheckboxesField(
        _l("Age groups accepted"),
        choices=[(k.value, v) for k, v in AGE_GROUP_LABELS.items()],
        validators=[DataRequired(message=_l("Choose at least one age group."))],
    )
    sexes = CheckboxesField(
        _l("Sexes accepted"),
        choices=[(k.value, v) for k, v in SEX_LABELS.items()],
        validators=[DataRequired(message=_l("Choose at least one."))],
    )
    cost = required_choice(_l("Cost"), [(k.value, v) for k, v in COST_LABELS.items()])
    accessibility = TextAreaField(
        _l("Accessibility notes"),
        validators=[Optional(), Length(max=2000), no_control_characters],
        filters=[strip_filter],
    )
    what_to_bring = TextAreaField(
        _l("What to bring"),
        description=_l("Printed on the survivor's referral slip, e.g. any ID card or health card."),
        validators=[Optional(), Length(max=1000), no_control_characters],
        filters=[strip_filter],
    )
    focal_point_name = _text(_l("Focal point name"), 120)
    focal_point_phone = _text(_l("Focal point phone"), 60)
    focal_point_email = EmailField(
        _l("Focal point e-mail"),
        validators=[Optional(), Length(max=254), email_address, no_control_characters],
        filters=[strip_filter],
    )
    status = required_choice(_l("Status"), [(k.value, v) for k, v in SERVICE_STATUS_LABELS.items()])
    status_note = _text(
        _l("Status note"),
        300,
        description=_l("Required when suspended: why, and until when if known."),
    )
    submit = SubmitField(_l("Save"))


class ServiceSearchForm(FlaskForm):
    """Read from the query string (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    area = SelectField(_l("Area"), default="")
    sector = SelectField(
        _l("Sector"),
        default="",
        choices=[("", _l("Any sector"))] + [(k.value, v) for k, v in SECTOR_LABELS.items()],
    )
    age_group = SelectField(
        _l("Accepts age group"),
        default="",
        choices=[("", _l("Any age"))] + [(k.value, v) for k, v in AGE_GROUP_LABELS.items()],
    )
    sex = SelectField(
        _l("Accepts sex"),
        default="",
        choices=[("", _l("Any"))] + [(k.value, v) for k, v in SEX_LABELS.items()],
    )
    status = SelectField(
        _l("Status"),
        default="",
        choices=[("", _l("Any status"))] + [(k.value, v) for k, v in SERVICE_STATUS_LABELS.items()],
    )
