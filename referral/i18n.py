"""Language and time-zone choice for Flask-Babel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.wrappers import Response

from referral.messages import TEMPLATE_READING, Reading

Labels = TypeVar("Labels", bound=Mapping[Any, Any])

# Before signing in (the sign-in page's language links): ?lang= chooses, a cookie keeps it.
LANGUAGE_PARAMETER = "lang"
LANGUAGE_COOKIE = "referral_language"
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية"}  # each in itself


def _chosen(languages: list[str]) -> str | None:
    wanted = request.args.get(LANGUAGE_PARAMETER) or request.cookies.get(LANGUAGE_COOKIE)
    return wanted if wanted in languages else None


def select_locale() -> str | None:
    languages: list[str] = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    if current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    return _chosen(languages) or request.accept_languages.best_match(languages) or languages[0]


def init_language_choice(app: Flask) -> None:
    """Keep the language picked on the sign-in page for the pages that follow (a signed-in
    user's own setting, on the account page, wins over it)."""

    @app.after_request
    def _keep_language(response: Response) -> Response:
        wanted = request.args.get(LANGUAGE_PARAMETER, "")
        if wanted in app.config["LANGUAGES"]:
            response.set_cookie(
                LANGUAGE_COOKIE,
                wanted,
                max_age=365 * 24 * 3600,
                secure=bool(app.config["SESSION_COOKIE_SECURE"]),
                httponly=True,
                samesite="Lax",
            )
        return response


def select_timezone() -> str | None:
    if has_request_context() and current_user.is_authenticated:
        return str(current_user.organisation.time_zone)
    return None


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0] in {"ar", "fa", "he", "ur"} else "ltr"


# (id of a labels mapping, locale) -> (that mapping, its labels translated)
_translated: dict[tuple[int, str], tuple[Mapping[Any, Any], Mapping[Any, Any]]] = {}


def _translate(labels: Mapping[Any, Any]) -> dict[Any, Any]:
    return {
        key: str(value)
        if isinstance(value, LazyString)
        else _translate(value)
        if isinstance(value, Mapping)
        else value
        for key, value in labels.items()
    }


def in_current_language(labels: Labels) -> Labels:
    """A module-level mapping of lazily translated labels (nested mappings too) with every
    label translated into the current language, worked out once per language.

    A lazy label looks its catalogue up again each time it is shown (~10 µs): a list page
    showing four labels per row spent milliseconds on that alone. The catalogues do not
    change while the app runs, so the translated mapping is kept; the mapping itself is
    kept with it, so its id cannot be reused by another mapping."""
    key = (id(labels), str(get_locale() or ""))
    found = _translated.get(key)
    if found is None or found[0] is not labels:
        found = (labels, _translate(labels))
        _translated[key] = found
    return found[1]  # type: ignore[return-value]


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_()`` and ``gettext()`` with each message translated once per language
    and process, as Jinja's new-style gettext does it (the result is a format string
    for ``%(name)s`` variables, escaped under autoescape).

    Flask-Babel's own goes through Jinja twice (the ``_`` alias, then the call) and looks
    the request's translations up again each time (~25 µs): a case page has over a
    hundred. Templates translate literal messages only, so the cache holds at most every
    message of every template in each language. The language is the request's own
    (``force_locale`` included), put in each template's context as ``TEMPLATE_READING``
    by referral.templating (a context look-up costs less than Flask-Babel's)."""
    translated: dict[tuple[str, str, bool], str] = {}

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        autoescape = bool(context.eval_ctx.autoescape)
        reading: Reading | None = context.get(TEMPLATE_READING)
        locale = reading.locale if reading is not None else str(get_locale())
        key = (locale, message, autoescape)
        if not variables and key in translated:
            return translated[key]
        text: str = get_translations().ugettext(message)
        if autoescape:
            text = Markup(text)  # noqa: S704 - the catalogue, as Jinja itself does
        text = text % variables
        if not variables:
            translated[key] = text
        return text

    app.jinja_env.globals.update(gettext=gettext, _=gettext)
