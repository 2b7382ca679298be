"""The application's clock: every deadline, timeout and timestamp reads time from here.

Tests freeze or advance it instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen_at: datetime | None = None


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


def freeze(instant: datetime) -> None:
    global _frozen_at
    if instant.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware instant")
    _frozen_at = instant.astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward."""
    global _frozen_at
    if _frozen_at is None:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen_at += delta


def frozen_at() -> datetime | None:
    """The frozen instant, or None when the clock runs."""
    return _frozen_at


def unfreeze() -> None:
    global _frozen_at
    _frozen_at = None


@contextmanager
def frozen(instant: datetime) -> Iterator[None]:
    freeze(instant)
    try:
        yield
    finally:
        unfreeze()
