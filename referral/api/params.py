"""Reading API input: query parameters, opaque cursors, JSON bodies. Bad input raises
:class:`InputError`, answered 400 as problem details naming each parameter."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, TypeVar

from flask import request

from referral.db.paging import CURSOR_PARAMETER
from referral.workflow import RuleError

E = TypeVar("E", bound=StrEnum)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_TEXT = 2000


class InputError(RuleError):
    """Bad API input: the one rule-error type, answered as problem details."""

    @property
    def errors(self) -> list[dict[str, str]]:
        return [{"field": self.field, "message": str(self.message)}]


def text_arg(name: str, *, max_length: int = 100) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or not value.isprintable():
        raise InputError(name, f"at most {max_length} printable characters")
    return value


def enum_arg(name: str, enum: type[E]) -> E | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InputError(name, f"one of: {allowed}") from None


def choice_arg(name: str, choices: Sequence[str], default: str) -> str:
    value = request.args.get(name, default)
    if value not in choices:
        raise InputError(name, f"one of: {', '.join(choices)}")
    return value


def limit_arg() -> int:
    value = request.args.get("limit")
    if value is None:
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InputError("limit", f"a whole number from 1 to {MAX_LIMIT}")
    return int(value)


# --- cursors: opaque, made and read by referral.db.paging -------------------------------


def cursor_arg() -> str | None:
    """The ``?cursor=`` of a list (a bad one is refused when the list reads it)."""
    return request.args.get(CURSOR_PARAMETER) or None


# --- JSON bodies ------------------------------------------------------------------------------


def json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object."""
    if not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise InputError("body", "send JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InputError("body", "a JSON object")
    return body


def body_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InputError(name, f"a string of at most {MAX_TEXT} characters")
    if "\x00" in value or any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise InputError(name, "no control characters")
    return value
