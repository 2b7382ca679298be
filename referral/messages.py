"""Messages translated lazily, each looked up in its catalogue once per language.

Flask-Babel's ``lazy_gettext`` finds the request's translations again every time a lazy
message is shown (~10 µs): a case page shows some 150 form labels, options and hints,
which cost more than the page's SQL. The catalogues do not change while the app runs, so
the text found for a message in a language is kept; the cache holds at most every
message of the code in each language (messages are literals, variables are applied
after the look-up).
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString

_found: dict[tuple[str, str], str] = {}


def translated(message: str, **variables: Any) -> str:
    """``message`` in the current language (``force_locale`` is followed), formatted with
    ``variables`` as gettext does."""
    locale = get_locale()
    key = (str(locale) if locale is not None else "", message)
    text = _found.get(key)
    if text is None:
        text = str(get_translations().ugettext(message))
        if locale is not None:  # outside a request: untranslated, and not kept
            _found[key] = text
    return text % variables if variables else text


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """Flask-Babel's ``lazy_gettext`` (a LazyString, worked out when shown) through
    ``translated``."""
    return LazyString(translated, message, **variables)
