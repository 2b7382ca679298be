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
from sqlalchemy import and_, func, or_, select

from referral.assistance.models import AssistanceRecord
from referral.cases import services as case_services
from referral.cases import transfers as case_transfers
from referral.cases.models import OPEN_STAGES, Case, CaseStage, Incident
from referral.clinical import window_open_now_sql
from referral.clock import utcnow
from referral.db import User
from referral.extensions import db
from referral.formatting import day_text, time_left
from referral.messages import lazy_gettext as _l
from referral.psea import services as psea_services
from referral.psea.labels import STATE_LABELS as PSEA_STATE_LABELS
from referral.psea.models import Allegation, AllegationState
from referral.referrals import services as referral_services
from referral.referrals.labels import PRIORITY_SHORT
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


def _survivors_waiting_for_assistance(user: User) -> InboxSection | None:
    """R21: allegations whose survivor consents to assistance and has no record yet."""
    if not has_permission(user, Permission.ASSIST_VICTIMS):
        return None
    has_record = (
        select(AssistanceRecord.id)
        .where(AssistanceRecord.allegation_public_id == Allegation.public_id)
        .exists()
    )
    rows = db.session.execute(
        select(Allegation.public_id, Allegation.reference, Allegation.received_at)
        .where(Allegation.consents_to_assistance.is_(True), ~has_record)
        .order_by(Allegation.received_at, Allegation.id)
        .limit(20)
    ).all()
    return InboxSection(
        title=_l("Survivors who consent to assistance and have no assistance record"),
        items=[
            InboxItem(
                title=reference,
                url=url_for("assistance.new", allegation=public_id),
                detail=str(_l("open an assistance record")),
            )
            for public_id, reference, _received in rows
        ],
        empty_text=_l("Every consenting survivor has an assistance record."),
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
                    date=day_text(v.submitted_at) if v.submitted_at else "",
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
    page = referral_services.queue(
        user.organisation_id, states=[ReferralState.SENT], limit=20, lines=True
    )
    items = [
        InboxItem(
            title=f"{r.reference} · {r.survivor_code}",
            url=url_for("referrals.show", public_id=r.public_id),
            detail=_due(r.priority, r.deadline_at, now),
            urgent=r.priority is Priority.EMERGENCY or r.is_overdue(now),
        )
        for r in page.rows
    ]
    return InboxSection(
        title=_l("Referrals awaiting your organisation's answer"),
        items=items,
        empty_text=_l("No referrals are waiting for your organisation."),
    )


def _overdue_referrals(user: User) -> InboxSection | None:
    """R12: unanswered past deadline, flagged to the receiving and the sending side."""
    receives = has_permission(user, Permission.RECEIVE_REFERRALS)
    handles = has_permission(user, Permission.HANDLE_CASES)
    if not (receives or handles):
        return None
    supervises = has_permission(user, Permission.SUPERVISE_CASES)
    now = utcnow()
    rows = referral_services.overdue_for_organisation(user.organisation_id, limit=50)
    items = []
    for r in rows:
        if r.receiving_organisation_id == user.organisation_id and receives:
            url = url_for("referrals.show", public_id=r.public_id)
        elif (
            r.sending_organisation_id == user.organisation_id
            and handles
            and (supervises or r.created_by_id == user.id)
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
    return InboxSection(
        title=_l("Overdue referrals"),
        items=items[:20],
        empty_text=_l("No referral is past its answer deadline."),
    )


def _clinical_windows_closing(user: User) -> InboxSection | None:
    """R8: open cases of mine with a PEP or emergency-contraception window still open over
    any of their incidents (a returning survivor's new incident included) whose health
    care is not arranged yet (no health referral for that incident accepted or
    completed), the window closing first first."""
    if not has_permission(user, Permission.HANDLE_CASES):
        return None
    now = utcnow()
    # Per case, the earliest incident with a window open and its care not arranged: its
    # windows close first. Only incidents of the last days can have a window open: found
    # by their time (index), so the cases of the organisation are not each looked at.
    first_open = (
        select(Incident.case_id, func.min(Incident.incident_at).label("first_at"))
        .join(Case, Case.id == Incident.case_id)
        .where(
            window_open_now_sql(Incident.incident_type, Incident.incident_at, now),
            ~referral_services.care_arranged_sql(
                SourceKind.GBV_CASE, Case.public_id, Incident.public_id
            ),
        )
        .group_by(Incident.case_id)
        .subquery()
    )
    cases = case_services.case_lines(
        db.session.execute(
            case_services.visible_cases(user)
            .with_only_columns(*case_services.LINE_COLUMNS)
            .join(first_open, first_open.c.case_id == Case.id)
            .where(Case.stage.in_(OPEN_STAGES))
            .order_by(first_open.c.first_at, Case.id)
            .limit(20)
        ).all()
    )
    arranged = case_services.incidents_with_care_arranged(cases)
    items = []
    for case in cases:
        open_windows = case.open_clinical_windows(now, care_arranged=arranged)
        if not open_windows:
            continue
        incident, first = open_windows[0]
        prefix = str(_l("Incident %(n)d", n=incident.number)) + " · " if incident.number > 1 else ""
        items.append(
            (
                first.closes_at,
                InboxItem(
                    title=case.survivor_code,
                    url=url_for("cases.show", public_id=case.public_id),
                    detail=f"{prefix}{first.label}: "
                    f"{time_left(first.time_left(now).total_seconds())}",
                    urgent=True,
                ),
            )
        )
    return InboxSection(
        title=_l("Clinical windows closing"),
        items=[item for _closes, item in sorted(items, key=lambda pair: pair[0])],
        empty_text=_l("No case of yours has a clinical window open."),
    )


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
    return InboxSection(
        title=_l("Case closures awaiting your approval"),
        items=items,
        empty_text=_l("No case closure is waiting for your approval."),
    )


def _transfers_awaiting_answer(user: User) -> InboxSection | None:
    """Cases other organisations propose to hand over, for a supervisor to answer."""
    if not has_permission(user, Permission.SUPERVISE_CASES):
        return None
    rows = case_transfers.incoming(user.organisation_id, limit=20)
    return InboxSection(
        title=_l("Case transfers awaiting your answer"),
        items=[
            InboxItem(
                title=t.case.survivor_code,
                url=url_for("cases.transfer_request", transfer_id=t.public_id),
                detail=str(_l("from %(org)s", org=t.from_organisation.acronym)),
            )
            for t in rows
        ],
        empty_text=_l("No case transfer is waiting for your answer."),
    )


def _accepted_referrals_to_open(user: User) -> InboxSection | None:
    """R21: referrals the organisation accepted for case management, waiting for a case."""
    if not has_permission(user, Permission.HANDLE_CASES):
        return None
    rows = case_services.accepted_referrals_without_case(user)
    return InboxSection(
        title=_l("Accepted referrals waiting for a case to be opened"),
        items=[
            InboxItem(
                title=referral.survivor_code,
                url=url_for("cases.new", referral=referral.public_id),
                detail=str(_l("open a case")),
                urgent=referral.priority is Priority.EMERGENCY,
            )
            for referral in rows
        ],
        empty_text=_l("Every accepted referral has a case."),
    )


SECTIONS: list[Callable[[User], InboxSection | None]] = [
    _accounts_to_finish,
    _pathways_to_review,
    _referrals_awaiting_answer,
    _overdue_referrals,
    _clinical_windows_closing,
    _closures_awaiting_approval,
    _transfers_awaiting_answer,
    _allegations_for_coordinator,
    _allegations_for_focal_point,
    _survivors_waiting_for_assistance,
    _accepted_referrals_to_open,
]


def inbox_for(user: User) -> list[InboxSection]:
    return [section for make in SECTIONS if (section := make(user)) is not None]
