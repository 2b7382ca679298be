"""Form helpers shared by every blueprint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, ValidationError
from wtforms.fields import Field
from wtforms.validators import Regexp, StopValidation

# Control characters other than tab, newline and carriage return are refused in any text.
_FORBIDDEN = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def no_control_characters(form: Any, field: Field) -> None:
    if isinstance(field.data, str) and any(ch in _FORBIDDEN for ch in field.data):
        raise ValidationError(_l("This field contains characters that are not allowed."))


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# A plain shape check; whether the address works is for the person who reads it.
email_address = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address."))


class SmallIntegerField(IntegerField):
    """An integer field that refuses absurdly long numbers before converting them (a
    400-digit number would otherwise overflow range checks that compare as floats)."""

    MAX_DIGITS = 9

    def process_formdata(self, valuelist: list[Any]) -> None:
        if (
            valuelist
            and isinstance(valuelist[0], str)
            and len(valuelist[0].strip()) > self.MAX_DIGITS
        ):
            self.data = None
            raise ValueError(_l("This number is too large."))
        super().process_formdata(valuelist)


# --- confirmation before an irreversible action ----------------------------------------------

CONFIRMATION_MISSING = _l("Tick this box to confirm. Nothing was changed.")


class Ticked:
    """The confirmation box is ticked, checked on the server so pages work without JavaScript.

    ``when`` limits the check to some submissions of a form that does more than one thing
    (e.g. only a *final* outcome closes an allegation); the box is then not marked required
    in the HTML, since the browser cannot tell which submission it is.
    """

    def __init__(self, when: Callable[[Any], bool] | None = None) -> None:
        self.when = when
        self.field_flags = {"required": True} if when is None else {}

    def __call__(self, form: Any, field: Field) -> None:
        if self.when is not None and not self.when(form):
            return
        if not field.data:
            raise StopValidation(str(CONFIRMATION_MISSING))


def confirmation_field(label: Any, *, when: Callable[[Any], bool] | None = None) -> BooleanField:
    """A required tick box whose label says what cannot be undone (shared by every form of an
    irreversible action; render it with the ``confirmation`` macro of templates/_forms.html)."""
    return BooleanField(label, validators=[Ticked(when)])
