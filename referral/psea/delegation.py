"""R22: interim PSEA delegation.

An administrator grants a GBV coordinator the PSEA coordinator's rights until an end
date (at most PSEA_DELEGATION_MAX_DAYS days ahead). Whether a delegation is active is
computed from the clock where the holder's rights are checked, so it lapses by itself;
the check that first finds it ended records the lapse, once (and keeps it even when it
then refuses the request). Grant, use and lapse are audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import or_, select, update

from referral.audit import record
from referral.clock import utcnow
from referral.db import User
from referral.db.work import survive_rollback
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.psea.models import PseaDelegation
from referral.security.policy import ROLE_PERMISSIONS, Actor, Permission, Role
from referral.workflow import RuleError

OBJ_TYPE = "psea_delegation"
_CACHE_KEY = "psea_active_delegations"


def delegable_permissions() -> frozenset[Permission]:
    """What the holder gains: the PSEA coordinator's permissions."""
    return ROLE_PERMISSIONS[Role.PSEA_COORDINATOR]


def active_delegation(user_id: int, now: datetime | None = None) -> PseaDelegation | None:
    now = now or utcnow()
    return db.session.scalar(
        select(PseaDelegation)
        .where(
            PseaDelegation.holder_id == user_id,
            PseaDelegation.revoked_at.is_(None),
            PseaDelegation.starts_at <= now,
            PseaDelegation.ends_at > now,
        )
        .order_by(PseaDelegation.ends_at.desc())
        .limit(1)
    )


def current_delegation(actor: Actor) -> PseaDelegation | None:
    """The actor's active delegation; looked up once per request (the clock decides).

    In a request the same query finds the actor's delegations that have ended without
    their lapse recorded, and records it (R22).
    """
    if Role(actor.role) is not Role.GBV_COORDINATOR or not has_app_context():
        return None
    if not has_request_context():
        return active_delegation(actor.id)
    cache: dict[int, PseaDelegation | None] = g.setdefault(_CACHE_KEY, {})
    if actor.id not in cache:
        cache[actor.id] = _check_delegations(actor.id, utcnow())
    return cache[actor.id]


def _check_delegations(holder_id: int, now: datetime) -> PseaDelegation | None:
    found = db.session.scalars(
        select(PseaDelegation)
        .where(
            PseaDelegation.holder_id == holder_id,
            PseaDelegation.revoked_at.is_(None),
            PseaDelegation.starts_at <= now,
            or_(PseaDelegation.ends_at > now, PseaDelegation.lapse_recorded_at.is_(None)),
        )
        .order_by(PseaDelegation.ends_at.desc())
    ).all()
    for delegation in found:
        if delegation.ends_at <= now:
            _record_lapse(delegation, now)
    return next((d for d in found if d.ends_at > now), None)


def delegated_permissions(actor: Actor) -> Iterable[Permission]:
    """Extra-permission source registered with the policy (R22)."""
    return delegable_permissions() if current_delegation(actor) is not None else ()


def end_of_day(day: date, time_zone: str) -> datetime:
    """The instant the given day ends in the organisation's time zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(time_zone))


def grant(holder: User, ends_on: date, reason: str, *, actor: User) -> PseaDelegation:
    """R22: only a GBV coordinator, only until an end date at most the configured days ahead."""
    if holder.role is not Role.GBV_COORDINATOR or not holder.active:
        raise RuleError(
            "holder", _l("Only an active GBV coordinator can hold an interim PSEA delegation.")
        )
    now = utcnow()
    ends_at = end_of_day(ends_on, holder.organisation.time_zone)
    max_days = int(current_app.config["PSEA_DELEGATION_MAX_DAYS"])
    if ends_at <= now:
        raise RuleError("ends_on", _l("The end date must be in the future."))
    if ends_at - now > timedelta(days=max_days):
        raise RuleError("ends_on", _l("A delegation lasts at most %(days)d days.", days=max_days))
    if active_delegation(holder.id, now) is not None:
        raise RuleError(
            "holder", _l("This person already holds a delegation; end it before granting another.")
        )
    delegation = PseaDelegation(
        holder=holder,
        granted_by_id=actor.id,
        starts_at=now,
        ends_at=ends_at,
        reason=reason,
    )
    db.session.add(delegation)
    db.session.flush()
    record(
        "psea.delegation_granted",
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=delegation.public_id,
        detail={"holder": holder.public_id, "ends_at": ends_at.isoformat()},
    )
    return delegation


def revoke(delegation: PseaDelegation, *, actor: User) -> None:
    now = utcnow()
    if not delegation.active_at(now):
        raise RuleError("delegation", _l("This delegation has already ended."))
    delegation.revoked_at = now
    delegation.revoked_by_id = actor.id
    record(
        "psea.delegation_revoked",
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=delegation.public_id,
        detail={"holder": delegation.holder.public_id},
    )


def record_lapses(now: datetime | None = None) -> int:
    """Record the lapse of every delegation whose end has passed (once each)."""
    now = now or utcnow()
    lapsed = db.session.scalars(
        select(PseaDelegation).where(
            PseaDelegation.revoked_at.is_(None),
            PseaDelegation.lapse_recorded_at.is_(None),
            PseaDelegation.ends_at <= now,
        )
    ).all()
    for delegation in lapsed:
        _record_lapse(delegation, now)
    return len(lapsed)


def _record_lapse(delegation: PseaDelegation, now: datetime) -> None:
    """Mark the lapse and audit it, once: a conditional update, kept if the request fails."""
    delegation_id, public_id, ended_at = delegation.id, delegation.public_id, delegation.ends_at
    holder = delegation.holder
    # The holder as the audit trail reads it, still readable after a rollback.
    who = SimpleNamespace(
        id=holder.id,
        public_id=holder.public_id,
        role=holder.role,
        organisation_id=holder.organisation_id,
    )

    def mark() -> None:
        marked = db.session.execute(
            update(PseaDelegation)
            .where(
                PseaDelegation.id == delegation_id,
                PseaDelegation.lapse_recorded_at.is_(None),
                PseaDelegation.revoked_at.is_(None),
            )
            .values(lapse_recorded_at=now)
        )
        if marked.rowcount:  # type: ignore[attr-defined]
            record(
                "psea.delegation_lapsed",
                actor=who,  # the event concerns the holder; nobody acted
                obj_type=OBJ_TYPE,
                obj_id=public_id,
                detail={"holder": who.public_id, "ended_at": ended_at.isoformat()},
            )

    survive_rollback(mark)


def record_use(actor: User, endpoint: str) -> None:
    delegation = current_delegation(actor)
    if delegation is None:
        return
    record(
        "psea.delegation_used",
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=delegation.public_id,
        detail={"endpoint": endpoint},
    )


def listing() -> list[PseaDelegation]:
    """The delegations the administrator sees; those found ended have their lapse recorded."""
    record_lapses()
    return list(
        db.session.scalars(
            select(PseaDelegation)
            .order_by(PseaDelegation.ends_at.desc(), PseaDelegation.id.desc())
            .limit(200)
        )
    )


def gbv_coordinators() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.GBV_COORDINATOR, User.active.is_(True))
            .order_by(User.full_name)
        )
    )
