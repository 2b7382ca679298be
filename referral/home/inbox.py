"""What needs the signed-in user now: one section per kind of work, each item one click away.

Features add sections as they land; each section is a function of the user that returns
the items (already limited to what the user may see).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from referral.cases import services as case_services
from referral.cases.models import OPEN_STAGES, Case, CaseStage, Incident, IncidentType
from referral.clock import utcnow
from referral.db import User
from referral.extensions import db
from referral.referrals import services as referral_services
from referral.referrals.labels import PRIORITY_SHORT, time_left
from referral.referrals.models import Priority, ReferralState, SourceKind
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


# --- cases and referrals ----------------------------------------------------------------


def _due(priority: Priority, deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return str(PRIORITY_SHORT[priority])
    return f"{PRIORITY_SHORT[priority]} · {time_left((deadline - now).total_seconds())}"


def _referrals_awaiting_answer(user: User) -> InboxSection | None:
    """R10: what waits in the receiving organisation's queue, earliest deadline first."""
    if not has_permission(user, Permission.RECEIVE_REFERRALS):
        return None
    now = utcnow()
    page = referral_services.queue(user.organisation_id, states=[ReferralState.SENT], limit=20)
    items = [
        InboxItem(
            title=f"{r.reference} · {r.survivor_code}",
            url=url_for("referrals.show", public_id=r.public_id),
            detail=_due(r.priority, r.deadline_at, now),
            urgent=r.priority is Priority.EMERGENCY or r.is_overdue(now),
        )
        for r in page.rows
    ]
    return InboxSection(title=_l("Referrals awaiting your organisation's answer"), items=items)


def _overdue_referrals(user: User) -> InboxSection | None:
    """R12: unanswered past deadline, flagged to the receiving and the sending side."""
    receives = has_permission(user, Permission.RECEIVE_REFERRALS)
    handles = has_permission(user, Permission.HANDLE_CASES)
    if not (receives or handles):
        return None
    now = utcnow()
    rows = referral_services.overdue_for_organisation(user.organisation_id, limit=50)
    items = []
    for r in rows:
        if r.receiving_organisation_id == user.organisation_id and receives:
            url = url_for("referrals.show", public_id=r.public_id)
        elif (
            r.sending_organisation_id == user.organisation_id
            and handles
            and (has_permission(user, Permission.SUPERVISE_CASES) or r.created_by_id == user.id)
        ):
            if r.source_kind is not SourceKind.GBV_CASE:
                continue
            url = url_for("cases.show", public_id=r.source_public_id)
        else:
            continue
        if r.deadline_at is None:
            continue
        items.append(
            InboxItem(
                title=f"{r.reference} · {r.survivor_code}",
                url=url,
                detail=time_left((r.deadline_at - now).total_seconds()),
                urgent=True,
            )
        )
    return InboxSection(title=_l("Overdue referrals"), items=items[:20])


def _clinical_windows_closing(user: User) -> InboxSection | None:
    """R8: open cases of mine whose PEP or emergency-contraception window is still open."""
    if not has_permission(user, Permission.HANDLE_CASES):
        return None
    from flask import current_app

    now = utcnow()
    longest = max(
        int(current_app.config["CLINICAL_WINDOW_PEP_HOURS"]),
        int(current_app.config["CLINICAL_WINDOW_EC_HOURS"]),
    )
    cases = db.session.scalars(
        case_services.visible_cases(user)
        .join(Incident, Incident.case_id == Case.id)
        .where(
            Case.stage.in_(OPEN_STAGES),
            Incident.incident_type.in_([IncidentType.RAPE, IncidentType.SEXUAL_ASSAULT]),
            Incident.incident_at > now - timedelta(hours=longest),
        )
        .order_by(Incident.incident_at)
        .limit(20)
    ).all()
    items = []
    for case in cases:
        windows = case.incident.clinical_windows() if case.incident else []
        open_windows = [w for w in windows if w.is_open(now)]
        if not open_windows:
            continue
        first = open_windows[0]
        items.append(
            InboxItem(
                title=case.survivor_code,
                url=url_for("cases.show", public_id=case.public_id),
                detail=f"{first.label}: {time_left(first.time_left(now).total_seconds())}",
                urgent=True,
            )
        )
    return InboxSection(title=_l("Clinical windows closing"), items=items)


def _closures_awaiting_approval(user: User) -> InboxSection | None:
    if not has_permission(user, Permission.APPROVE_CLOSURE):
        return None
    cases = db.session.scalars(
        case_services.visible_cases(user)
        .where(Case.stage == CaseStage.CLOSURE_REQUESTED)
        .order_by(Case.closure_requested_at)
        .limit(20)
    ).all()
    items = [
        InboxItem(title=c.survivor_code, url=url_for("cases.show", public_id=c.public_id))
        for c in cases
    ]
    return InboxSection(title=_l("Case closures awaiting your approval"), items=items)


SECTIONS: list[Callable[[User], InboxSection | None]] = [
    _accounts_to_finish,
    _referrals_awaiting_answer,
    _overdue_referrals,
    _clinical_windows_closing,
    _closures_awaiting_approval,
]


def inbox_for(user: User) -> list[InboxSection]:
    return [section for make in SECTIONS if (section := make(user)) is not None]
