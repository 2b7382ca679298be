"""Form helpers shared by every blueprint."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, ValidationError
from wtforms.fields import Field
from wtforms.validators import Regexp

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
