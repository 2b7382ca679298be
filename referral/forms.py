"""Form helpers shared by every blueprint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from wtforms import BooleanField, IntegerField, RadioField, SelectField, ValidationError
from wtforms.fields import Field
from wtforms.validators import InputRequired, Regexp, StopValidation

from referral.messages import lazy_gettext as _l

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


# --- choices with consequences ----------------------------------------------------------------

# Nothing with consequences is chosen for the user: such a list starts on this empty entry
# and a radio group with no button ticked, and the form refuses them unanswered.
CHOOSE = _l("Choose")
CHOICE_MISSING = _l("Choose one of the options.")


def blank_first(choices: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The choices after the empty "Choose" entry (for lists a view fills)."""
    return [("", CHOOSE), *choices]


class ChosenWhen:
    """The list must be answered when ``when(form)`` holds (e.g. a type asked only when the
    organisation is not listed)."""

    def __init__(self, when: Callable[[Any], bool]) -> None:
        self.when = when

    def __call__(self, form: Any, field: Field) -> None:
        if not field.data and self.when(form):
            raise StopValidation(str(CHOICE_MISSING))


def required_choice(
    label: Any,
    choices: Iterable[tuple[str, Any]] | None = None,
    *,
    when: Callable[[Any], bool] | None = None,
    **kwargs: Any,
) -> SelectField:
    """A list with consequences: starts on "Choose" and must be answered (only when
    ``when(form)`` holds, if given). Without ``choices`` the view sets them, through
    :func:`blank_first`."""
    return SelectField(
        label,
        choices=blank_first(choices) if choices is not None else None,
        validators=[InputRequired(message=CHOICE_MISSING) if when is None else ChosenWhen(when)],
        **kwargs,
    )


class AnswerField(RadioField):
    """A radio group with consequences: no button ticked at first, and it must be answered
    (one message when it is not, instead of WTForms' "Not a valid choice" as well)."""

    def __init__(self, label: Any, choices: Iterable[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(
            label,
            choices=list(choices),
            validators=[InputRequired(message=CHOICE_MISSING)],
            **kwargs,
        )

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return  # InputRequired says it
        super().pre_validate(form)


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
