"""The selects the field macro writes itself (templates/_forms.html, ``select_box``) are
the selects WTForms' own widget writes, character for character (tests and people rely
on that markup), for every select field of every form of the app."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from wtforms import Field, Form, SelectField
from wtforms.fields import FieldList, FormField

from tests.app_forms import app_form_classes

# Choices for the selects whose choices a view sets; the odd one checks the escaping.
SAMPLE_CHOICES = [("", "Choose"), ("b", "Bee"), ('c"<&', 'C & "see" <x>')]


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(("start", tag, sorted((k, v or "") for k, v in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.found.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.found.append(("text", data))


def _parsed(html: str) -> list[tuple[Any, ...]]:
    parser = _Markup()
    parser.feed(str(html))
    return parser.found


def _plain_fields(form: Form) -> Iterator[Field]:
    for field in form:
        if isinstance(field, FormField):
            yield from _plain_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _plain_fields(entry.form) if isinstance(entry, FormField) else [entry]
        else:
            yield field


def _selects(app: Flask) -> Iterator[SelectField]:
    for form_class in app_form_classes():
        form = form_class(formdata=None)
        for field in _plain_fields(form):
            if type(field) is SelectField and field.render_kw is None:
                yield field


def test_field_macro_writes_every_select_as_wtforms_does(app: Flask) -> None:
    with app.test_request_context():
        select_box = app.jinja_env.get_template("_forms.html").module.select_box  # type: ignore[attr-defined]
        checked = 0
        for field in _selects(app):
            if not field.choices:
                field.choices = SAMPLE_CHOICES
            values = [choice.value for choice in field.iter_choices()]
            for data in (None, values[-1]):
                field.data = field.coerce(data) if data is not None else None
                for attrs in ({}, {"aria-describedby": "x-help x-error", "aria-invalid": "true"}):
                    ours, theirs = str(select_box(field, attrs)), str(field(**attrs))
                    assert _parsed(ours) == _parsed(theirs), (field.name, data, attrs)
                    assert ours == theirs, (field.name, data, attrs)
            checked += 1
    assert checked > 20
