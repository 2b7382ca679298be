"""Forms of the pathway pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from referral.directory.forms import CheckboxesField
from referral.directory.labels import SECTOR_LABELS
from referral.forms import confirmation_field, no_control_characters, required_choice, strip_filter
from referral.messages import lazy_gettext as _l


class VersionForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=200), no_control_characters],
        filters=[strip_filter],
    )
    sop_markdown = TextAreaField(
        _l("Standard operating procedure"),
        description=_l(
            "Markdown: # headings, - lists, **bold**, [links](https://...). HTML is not allowed."
        ),
        validators=[Optional(), Length(max=50000), no_control_characters],
        filters=[strip_filter],
        render_kw={"rows": 14},
    )
    sea_reporting_procedure = TextAreaField(
        _l("Reporting sexual exploitation and abuse (SEA)"),
        description=_l(
            "Required to publish: who the PSEA focal points are and how to reach them "
            "(phone or e-mail). Markdown allowed."
        ),
        validators=[Optional(), Length(max=10000), no_control_characters],
        filters=[strip_filter],
        render_kw={"rows": 6},
    )
    change_note = StringField(
        _l("What changed in this version"),
        validators=[Optional(), Length(max=300), no_control_characters],
        filters=[strip_filter],
    )
    submit = SubmitField(_l("Save draft"))


class StepForm(FlaskForm):
    sector = required_choice(_l("Sector"), [(k.value, v) for k, v in SECTOR_LABELS.items()])
    services = CheckboxesField(
        _l("Services"),
        description=_l("Services covering this area, an area above it or an area inside it."),
        validators=[DataRequired(message=_l("Choose at least one service."))],
    )
    guidance = TextAreaField(
        _l("Guidance"),
        description=_l("e.g. Health first when the incident happened less than 72 hours ago."),
        validators=[Optional(), Length(max=2000), no_control_characters],
        filters=[strip_filter],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Save step"))


class ActionForm(FlaskForm):
    """A POST action with nothing to fill in (CSRF only)."""

    submit = SubmitField(_l("Confirm"))


class ArchiveForm(FlaskForm):
    """Discard a draft or withdraw a published version: it can never apply again."""

    confirm = confirmation_field(
        _l("Archiving cannot be undone: this version can never be edited or published again.")
    )


class PublishForm(FlaskForm):
    # The published version the coordinator saw ("" for none): refuses a stale publish.
    replaces = HiddenField(label="")
    confirm = confirmation_field(
        _l("I have checked this version; it replaces the published one for every caseworker.")
    )
    submit = SubmitField(_l("Publish"))
