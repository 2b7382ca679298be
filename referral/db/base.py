"""Column types and mixins shared by every model."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import DateTime, String, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from referral.clock import utcnow

# Crockford-style alphabet without look-alikes (no I, L, O, U): easy to read aloud and type.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


MAX_CODE_LENGTH = 24
# Dashes as phones and word processors type them, and the look-alikes the codes never use.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212_", "-"))
_LOOK_ALIKES = str.maketrans("OIL", "011")


_CODE = re.compile(r"([A-Z]+)[\s-]*(\d{2})[\s-]*([0-9A-Z]+)")


def normalise_code(text: str) -> str:
    """A survivor code or reference as typed (``gbv 26 7kq3m``) in its stored form
    (``GBV-26-7KQ3M``); "" for what cannot be one."""
    typed = text.strip().upper().translate(_DASHES)
    if not typed or len(typed) > MAX_CODE_LENGTH:
        return ""
    match = _CODE.fullmatch(typed)
    if match is None:
        return "".join(typed.split())
    prefix, year, tail = match.groups()
    return f"{prefix}-{year}-{tail.translate(_LOOK_ALIKES)}"


def new_public_id(length: int = 16) -> str:
    """A random identifier for URLs: never the sequential database id."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def random_code(prefix: str, length: int = 5) -> str:
    """A short human code such as ``GBV-26-7KQ3M``; random, derived from no personal data."""
    year = utcnow().strftime("%y")
    return f"{prefix}-{year}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def enum_type(enum: type[Enum], length: int = 40) -> SAEnum:
    """Stores an enumeration by its value (readable in SQL), checked in Python, portable."""
    return SAEnum(
        enum,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants in UTC and always returns timezone-aware values (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class PublicIdMixin:
    """A random public id, assigned when the object is built (before any insert), so that
    encrypted fields can bind their ciphertext to it."""

    public_id: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)


@event.listens_for(PublicIdMixin, "init", propagate=True)
def _assign_public_id(target: PublicIdMixin, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("public_id", new_public_id())


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
