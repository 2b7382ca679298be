"""What needs the signed-in user now: one section per kind of work, each item one click away.

Features add sections as they land; each section is a function of the user that returns
the items (already limited to what the user may see).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from referral.db import User
from referral.extensions import db
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


def _pathways_to_review(user: User) -> InboxSection | None:
    """GBV coordinators: pathway versions waiting for review and publication."""
    if not has_permission(user, Permission.PUBLISH_PATHWAYS):
        return None
    from referral.pathways.services import versions_awaiting_review

    rows, total = versions_awaiting_review()
    items = [
        InboxItem(
            title=str(_l("%(area)s, version %(n)d", area=v.area.name, n=v.number)),
            url=url_for("pathways.version", public_id=v.public_id),
            detail=str(
                _l(
                    "sent for review %(date)s by %(name)s",
                    date=v.submitted_at.date().isoformat() if v.submitted_at else "",
                    name=v.submitted_by.full_name if v.submitted_by else "",
                )
            ),
        )
        for v in rows
    ]
    return InboxSection(
        title=_l("Pathway versions waiting for review (%(n)d)", n=total),
        items=items,
        empty_text=_l("No pathway version is waiting for review."),
    )


SECTIONS: list[Callable[[User], InboxSection | None]] = [_accounts_to_finish, _pathways_to_review]


def inbox_for(user: User) -> list[InboxSection]:
    return [section for make in SECTIONS if (section := make(user)) is not None]
