"""The engine's (and cases') one way onto the audit trail.

Every reveal of a sensitive field names the fields (R2), never their values; every
change is recorded. Events are queued on the session and written when it commits
(``referral.audit.record``), so a rolled-back change leaves no success event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from referral.audit import record as audit_record


def record(
    action: str,
    *,
    actor: Any | None,
    obj_type: str,
    obj_id: str,
    fields_revealed: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        action,
        actor=actor,
        obj_type=obj_type,
        obj_id=obj_id,
        fields_revealed=fields_revealed,
        detail=detail,
    )
