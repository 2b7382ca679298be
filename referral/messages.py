"""The language of the moment: messages translated lazily, each looked up in its catalogue
once per language, and the language and time zone a page is rendered in.

Flask-Babel's ``lazy_gettext`` finds the request's translations again every time a lazy
message is shown (~10 µs): a case page shows some 150 form labels, options and hints,
which cost more than the page's SQL. The catalogues do not change while the app runs, so
the text found for a message in a language is kept; the cache holds at most every
message of the code in each language (messages are literals, variables are applied
after the look-up).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, NamedTuple

from flask_babel import get_locale, get_timezone, get_translations
from flask_babel.speaklater import LazyString
from jinja2.runtime import Context

_found: dict[tuple[str, str], str] = {}
_catalogues: dict[str, Any] = {}


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


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ``ngettext`` with the language's catalogue kept per language (it does
    not change while the app runs): a list page writes "in 3 hours" on every line."""
    locale = get_locale()
    if locale is None:  # outside a request: untranslated
        catalogue = get_translations()
    else:
        catalogue = _catalogues.get(str(locale))
        if catalogue is None:
            catalogue = _catalogues[str(locale)] = get_translations()
    text: str = catalogue.ungettext(singular, plural, num)
    return text % {"num": num, **variables}


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """Flask-Babel's ``lazy_gettext`` (a LazyString, worked out when shown) through
    ``translated``."""
    return LazyString(translated, message, **variables)


# The request's language and time zone in a template's context (put there by
# referral.templating, so ``force_locale`` is followed): a page translates, formats dates
# and counts dozens of times, and each look-up through Flask-Babel costs more than the
# work itself.
TEMPLATE_READING = "template_reading"


class Reading(NamedTuple):
    locale: str
    zone: tzinfo


def current_reading() -> Reading:
    """The request's language and time zone, for a template's context (TEMPLATE_READING)."""
    return Reading(str(get_locale()), get_timezone())


def reading_of(context: Context) -> Reading:
    """The language and zone the page is rendered in; a template rendered on its own
    (no context processors) or a macro imported without context looks the request's up."""
    found: Reading | None = context.get(TEMPLATE_READING)
    return found if found is not None else current_reading()
