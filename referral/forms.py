"""Form helpers shared by every blueprint."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import ValidationError
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
