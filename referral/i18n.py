"""Language and time-zone choice for Flask-Babel."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user


def select_locale() -> str | None:
    languages: list[str] = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    if current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone() -> str | None:
    if has_request_context() and current_user.is_authenticated:
        return str(current_user.organisation.time_zone)
    return None


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0] in {"ar", "fa", "he", "ur"} else "ltr"
