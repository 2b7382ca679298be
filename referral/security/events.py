"""Security events (sign-in, second factor, sessions) announced for the audit trail.

The ground layer cannot know the audit trail, so it announces; the audit trail listens
and records each event in the same transaction as the change it describes.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from flask import current_app

signals = Namespace()
security_event = signals.signal("security-event")


def emit(
    action: str,
    *,
    outcome: str = "allowed",
    user: Any | None = None,
    obj_type: str | None = None,
    obj_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Announce an event; ``user`` is the acting (or attempted) user when known."""
    security_event.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        action=action,
        outcome=outcome,
        user=user,
        obj_type=obj_type,
        obj_id=obj_id,
        detail=detail or {},
    )
