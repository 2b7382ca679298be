"""What needs the signed-in user now: one section per kind of work, each item one click away.

Features add sections as they land; each section is a function of the user that returns
the items (already limited to what the user may see).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from referral.clock import utcnow
from referral.db import User
from referral.extensions import db
from referral.psea import services as psea_services
from referral.psea.labels import STATE_LABELS as PSEA_STATE_LABELS
from referral.psea.models import Allegation, AllegationState
from referral.security.policy import Permission, has_permission


@dataclass(frozen=True)
class InboxItem:
    title: str
    url: str
    detail: str = ""
    urgent: bool = False


@dataclass(frozen=True)
class InboxSection:
    title: Any
    items: list[InboxItem] = field(default_factory=list)
    empty_text: Any = None  # the template says "Nothing needs you here now."


def _accounts_to_finish(user: User) -> InboxSection | None:
    if not has_permission(user, Permission.MANAGE_USERS):
        return None
    rows = db.session.execute(
        select(User.public_id, User.full_name)
        .where(User.active, User.totp_enrolled_at.is_(None))
        .order_by(User.full_name)
        .limit(20)
    ).all()
    total = db.session.scalar(
        select(func.count()).select_from(User).where(User.active, User.totp_enrolled_at.is_(None))
    )
    items = [
        InboxItem(title=name, url=url_for("admin.edit_user", public_id=public_id))
        for public_id, name in rows
    ]
    return InboxSection(
        title=_l("Users who have not finished their first sign-in (%(n)d)", n=total or 0),
        items=items,
        empty_text=_l("Every active user has set up two-factor sign-in."),
    )


def _allegation_item(allegation: Allegation, now: datetime) -> InboxItem:
    deadline = psea_services.pending_deadline(allegation, now)
    detail = str(PSEA_STATE_LABELS[allegation.state])
    if deadline is not None:
        detail += " · " + psea_services.describe_due(deadline.due_at, now)
    return InboxItem(
        title=allegation.reference,
        url=url_for("psea.show", public_id=allegation.public_id),
        detail=detail,
        urgent=deadline is not None and deadline.overdue,
    )


def _allegations_for_coordinator(user: User) -> InboxSection | None:
    """R19: overdue allegations and those waiting for manual routing, oldest deadline first."""
    if not has_permission(user, Permission.COORDINATE_PSEA):
        return None
    now = utcnow()
    wanted = or_(psea_services.overdue(now), Allegation.state == AllegationState.MANUAL_ROUTING)
    rows = db.session.scalars(
        select(Allegation).where(wanted).order_by(Allegation.received_at, Allegation.id).limit(20)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(Allegation).where(wanted)) or 0
    return InboxSection(
        title=_l("Allegations overdue or waiting for manual routing (%(n)d)", n=total),
        items=[_allegation_item(a, now) for a in rows],
        empty_text=_l("Every allegation is routed and acknowledged on time."),
    )


def _allegations_for_focal_point(user: User) -> InboxSection | None:
    """Allegations the organisation must route or acknowledge."""
    if has_permission(user, Permission.COORDINATE_PSEA) or not has_permission(
        user, Permission.RESPOND_TO_ALLEGATIONS
    ):
        return None
    now = utcnow()
    wanted = or_(
        and_(
            Allegation.routed_to_organisation_id == user.organisation_id,
            Allegation.state == AllegationState.ROUTED,
        ),
        and_(
            Allegation.received_by_organisation_id == user.organisation_id,
            Allegation.state == AllegationState.RECEIVED,
        ),
    )
    rows = db.session.scalars(
        select(Allegation).where(wanted).order_by(Allegation.received_at, Allegation.id).limit(20)
    ).all()
    return InboxSection(
        title=_l("Allegations to route or acknowledge"),
        items=[_allegation_item(a, now) for a in rows],
        empty_text=_l("No allegation waits for your organisation."),
    )


SECTIONS: list[Callable[[User], InboxSection | None]] = [
    _accounts_to_finish,
    _allegations_for_coordinator,
    _allegations_for_focal_point,
]


def inbox_for(user: User) -> list[InboxSection]:
    return [section for make in SECTIONS if (section := make(user)) is not None]
