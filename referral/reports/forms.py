"""The statistics filter (GET, no CSRF: it changes nothing) and the export form (POST)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, HiddenField, SelectField, ValidationError
from wtforms.validators import DataRequired, InputRequired

from referral.messages import lazy_gettext as _l
from referral.reports import services
from referral.reports.labels import GRANULARITY_LABELS

# Longest period one request may cover (keeps every query bounded).
MAX_DAYS = 366 * 5


class StatisticsFilterForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To (inclusive)"), validators=[DataRequired()])
    granularity = SelectField(
        _l("Count by"), choices=list(GRANULARITY_LABELS.items()), default="month"
    )
    # Choices (area public ids) are set by the view; "" means every area.
    area = SelectField(_l("Area"), choices=[], default="", validate_choice=True)

    def validate_end(self, field: Any) -> None:
        start: date | None = self.start.data
        end: date | None = field.data
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError(_l("The end comes before the start."))
        if (end - start).days > MAX_DAYS:
            raise ValidationError(_l("Choose a period of at most five years."))


class ExportForm(StatisticsFilterForm):
    """The same filter, posted with a CSRF token: an export is an audited event (R25)."""

    class Meta:
        csrf = True

    file_format = HiddenField(label="", validators=[InputRequired()])

    def validate_file_format(self, field: Any) -> None:
        if field.data not in ("csv", "xlsx"):
            raise ValidationError(_l("Unknown file format."))


class IncidentRecorderForm(StatisticsFilterForm):
    """The Incident Recorder export: the period, and the language of its headers."""

    class Meta:
        csrf = True

    language = SelectField(
        _l("Headers in"),
        choices=[("en", "English"), ("fr", "Français"), ("ar", "العربية")],
        default="en",
    )


def with_area_choices(form: StatisticsFilterForm) -> StatisticsFilterForm:
    form.area.choices = [("", _("All areas")), *services.area_path_choices()]
    return form


def filter_form(args: MultiDict[str, str]) -> StatisticsFilterForm:
    """The filter read from the query string; without a period, the last twelve months."""
    if not (args.get("start") or args.get("end")):
        start, end = services.default_period()
        args = MultiDict(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "granularity": args.get("granularity", "month"),
                "area": args.get("area", ""),
            }
        )
    return with_area_choices(StatisticsFilterForm(formdata=args))
