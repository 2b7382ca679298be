"""The engine's (and cases') single way to put an event on the audit trail.

Every reveal of a sensitive field names the fields (R2); every change is recorded.
Events go through ``referral.security.events.emit``, which the audit trail records in
the same transaction; ``fields_revealed`` travels in the detail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from referral.security import events


def record(
    action: str,
    *,
    actor: Any | None,
    obj_type: str,
    obj_id: str,
    fields_revealed: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    payload = dict(detail or {})
    revealed = sorted(set(fields_revealed))
    if revealed:
        payload["fields_revealed"] = revealed
    events.emit(action, user=actor, obj_type=obj_type, obj_id=obj_id, detail=payload)
