"""Session lifetime rules: idle and absolute timeouts, and the session token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum


class SessionEnd(StrEnum):
    IDLE = "idle_timeout"
    ABSOLUTE = "absolute_timeout"
    REVOKED = "revoked"
    SIGNED_OUT = "signed_out"
    INACTIVE_USER = "inactive_user"


def expiry_reason(
    *,
    created_at: datetime,
    last_seen_at: datetime,
    now: datetime,
    idle_timeout: timedelta,
    absolute_timeout: timedelta,
) -> SessionEnd | None:
    if now - created_at >= absolute_timeout:
        return SessionEnd.ABSOLUTE
    if now - last_seen_at >= idle_timeout:
        return SessionEnd.IDLE
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
