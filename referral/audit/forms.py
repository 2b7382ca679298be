"""The audit viewer's filter form (GET, no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from referral.audit.models import Outcome
from referral.forms import no_control_characters, strip_filter
from referral.messages import lazy_gettext as _l

OUTCOME_LABELS = {
    Outcome.ALLOWED.value: _l("Allowed"),
    Outcome.DENIED.value: _l("Denied"),
    Outcome.ERROR.value: _l("Error"),
}


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(
        _l("Survivor code or reference"),
        validators=[Optional(), Length(max=40), no_control_characters],
        filters=[strip_filter],
        description=_l(
            "Every event of the record: a case's with its incidents, consents and referrals."
        ),
    )
    user = StringField(
        _l("User (e-mail or id)"),
        validators=[Optional(), Length(max=254), no_control_characters],
        filters=[strip_filter],
    )
    organisation = SelectField(_l("Organisation"), choices=[], default="")
    # choices: the actions the log holds, set by the view
    action = SelectField(_l("Action"), choices=[], default="")
    obj_type = StringField(
        _l("Record type"),
        validators=[Optional(), Length(max=40), no_control_characters],
        filters=[strip_filter],
    )
    obj_id = StringField(
        _l("Record id"),
        validators=[Optional(), Length(max=64), no_control_characters],
        filters=[strip_filter],
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[("", _l("Any")), *OUTCOME_LABELS.items()],
        default="",
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (inclusive)"), validators=[Optional()])
