"""The tamper-evident access audit trail: recording, verification, export and viewer."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request

from referral.audit.models import Outcome
from referral.audit.services import init_recording, record
from referral.security.events import security_event
from referral.security.policy import Denial, access_denied

__all__ = ["Outcome", "init_audit", "record"]


def _on_security_event(
    sender: Any,
    *,
    action: str,
    outcome: str = "allowed",
    user: Any | None = None,
    obj_type: str | None = None,
    obj_id: str | None = None,
    detail: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    record(action, outcome=outcome, actor=user, obj_type=obj_type, obj_id=obj_id, detail=detail)


def _on_access_denied(sender: Any, *, denial: Denial, **_: Any) -> None:
    detail: dict[str, Any] = {"status": denial.status, "reason": denial.reason}
    if denial.permission:
        detail["permission"] = denial.permission
    if has_request_context():
        detail["endpoint"] = request.endpoint
        detail["method"] = request.method
    record(
        "access.denied",
        outcome=Outcome.DENIED,
        obj_type=denial.obj_type,
        obj_id=denial.obj_id,
        detail=detail,
    )


def init_audit(app: Flask) -> None:
    """Record security events and denials (written when the request's transaction ends)."""
    init_recording(app)
    security_event.connect(_on_security_event, weak=False)
    access_denied.connect(_on_access_denied, weak=False)
