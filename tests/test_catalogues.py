"""The French and Arabic catalogues are complete: every string the code shows is translated.

The strings are extracted from the source the same way `make messages` does, so a new `_()`
that nobody translated, a catalogue that was not updated, a fuzzy guess or a translation that
drops a placeholder fails here rather than showing English (or a crash) to a user in the field.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("fr", "ar")
PLURAL_FORMS = {"fr": 2, "ar": 6}

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-z]")

MessageKey = tuple[str, str | None]


def _key(message_id: object, context: str | None) -> MessageKey:
    singular = message_id[0] if isinstance(message_id, tuple | list) else message_id
    return str(singular), context


@pytest.fixture(scope="module")
def source_strings() -> dict[MessageKey, str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found: dict[MessageKey, str | tuple[str, ...]] = {}
    for _filename, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found[_key(message, context)] = message
    assert len(found) > 500, "extraction found too few strings: is babel.cfg still right?"
    return found


def _catalogue(locale: str) -> Catalog:
    path = ROOT / "referral" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


def _strings(message: Message) -> tuple[str, ...]:
    texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return tuple(str(text or "") for text in texts)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_source_string_is_in_the_catalogue(
    locale: str, source_strings: dict[MessageKey, str | tuple[str, ...]]
) -> None:
    catalogue = _catalogue(locale)
    present = {_key(message.id, message.context) for message in catalogue if message.id}
    missing = sorted(key[0] for key in source_strings.keys() - present)
    assert not missing, f"{locale}: run `make messages` and translate: {missing[:10]}"
    stale = sorted(key[0] for key in present - source_strings.keys())
    assert not stale, f"{locale}: strings no longer in the code (run `make messages`): {stale[:10]}"
    assert not catalogue.obsolete, f"{locale}: obsolete entries left in the catalogue"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_translated_and_not_fuzzy(locale: str) -> None:
    catalogue = _catalogue(locale)
    untranslated = [
        _key(message.id, message.context)[0]
        for message in catalogue
        if message.id and not all(text.strip() for text in _strings(message))
    ]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated: {untranslated[:10]}"
    fuzzy = [_key(m.id, m.context)[0] for m in catalogue if m.id and m.fuzzy]
    assert not fuzzy, f"{locale}: fuzzy (unchecked) translations: {fuzzy[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_plural_forms(locale: str) -> None:
    catalogue = _catalogue(locale)
    assert catalogue.num_plurals == PLURAL_FORMS[locale]
    problems: list[str] = []
    for message in catalogue:
        if not message.id:
            continue
        name = _key(message.id, None)[0]
        problems.extend(f"{name!r}: {error}" for error in message.check(catalogue))
        if message.pluralizable and len(_strings(message)) != catalogue.num_plurals:
            problems.append(f"{message.id[0]!r}: needs {catalogue.num_plurals} plural forms")
        problems.extend(_placeholder_problems(message, catalogue.num_plurals))
    assert not problems, f"{locale}: " + "; ".join(problems[:10])


def _placeholder_problems(message: Message, plural_forms: int) -> list[str]:
    """Every named placeholder of the English text appears in the translation.

    Babel's own check lets a translation drop a placeholder; that would hide a count or a
    deadline from the reader. The one exception: Arabic's zero, singular and dual plural forms
    (it says "no referral", "one referral", "two referrals" without a digit) may leave it out.
    """
    originals = message.id if isinstance(message.id, tuple | list) else (message.id,)
    wanted = set(PLACEHOLDER.findall(" ".join(map(str, originals))))
    problems = []
    for index, text in enumerate(_strings(message)):
        if not text:
            continue  # reported as untranslated
        found = set(PLACEHOLDER.findall(text))
        allowed_to_drop = message.pluralizable and plural_forms == 6 and index < 3
        if found - wanted or (wanted - found and not allowed_to_drop):
            problems.append(f"{originals[0]!r}: placeholders {sorted(found)} != {sorted(wanted)}")
    return problems
