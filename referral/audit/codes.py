"""Which records a code (survivor code, referral or allegation reference) stands for, for
the audit log's code filter. The audit trail knows no feature: the application registers
the lookup (``referral.home.codes``), and without one a code matches nothing."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

# code -> (object type, public id) of every record it stands for
CodeLookup = Callable[[str], list[tuple[str, str]]]
EXTENSION = "referral.audit.code_lookups"


def register_code_lookup(app: Flask, lookup: CodeLookup) -> None:
    app.extensions.setdefault(EXTENSION, []).append(lookup)


def records_named_by(code: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for lookup in current_app.extensions.get(EXTENSION, []):
        found += [record for record in lookup(code) if record not in found]
    return found
