"""Finding a record by the code people say aloud: a survivor code (``GBV-26-7KQ3M``, an
assistance record's ``VA-...``), a referral reference (``REF-...``) or an allegation
reference (``SEA-...``).

``destination`` answers the "go to code" box: the page of the record, only when the user
may open it; for anything else (no such code, or a record of another organisation) it
answers the same None, so the box never tells whether a record exists. ``audit_records``
gives the audit log's code filter every record the code stands for (a case with its
incidents, plan items, consents and referrals), since events name records by public id.
"""

from __future__ import annotations

from flask import Flask, url_for
from sqlalchemy import or_, select

from referral.assistance import services as assistance
from referral.assistance.models import AssistanceRecord
from referral.audit.codes import register_code_lookup
from referral.cases import services as cases
from referral.cases.models import ActionItem, Case, Incident
from referral.db import User
from referral.extensions import db
from referral.psea import services as psea
from referral.psea.models import Allegation
from referral.referrals.models import Consent, Referral, ReferralState, SourceKind
from referral.security.policy import Permission, has_permission

Record = tuple[str, str]  # (audit object type, public id)


def _sources_named_by(code: str) -> list[tuple[SourceKind, str]]:
    """The case or assistance record whose survivor code, or one of whose referrals'
    reference, is ``code``."""
    found: list[tuple[SourceKind, str]] = []
    case_id = db.session.scalar(select(Case.public_id).where(Case.survivor_code == code))
    if case_id is not None:
        found.append((SourceKind.GBV_CASE, case_id))
    record_id = db.session.scalar(
        select(AssistanceRecord.public_id).where(AssistanceRecord.survivor_code == code)
    )
    if record_id is not None:
        found.append((SourceKind.ASSISTANCE, record_id))
    return found


def audit_records(code: str) -> list[Record]:
    """Every record the code stands for, as the audit trail names them."""
    found: list[Record] = []
    for kind, public_id in _sources_named_by(code):
        if kind is SourceKind.GBV_CASE:
            found.append(("case", public_id))
            case_id = select(Case.id).where(Case.public_id == public_id).scalar_subquery()
            found += [
                ("incident", i)
                for i in db.session.scalars(
                    select(Incident.public_id).where(Incident.case_id == case_id)
                )
            ]
            found += [
                ("action_item", i)
                for i in db.session.scalars(
                    select(ActionItem.public_id).where(ActionItem.case_id == case_id)
                )
            ]
        else:
            found.append((assistance.OBJ_TYPE, public_id))
        found += [
            ("consent", c)
            for c in db.session.scalars(
                select(Consent.public_id).where(
                    Consent.source_kind == kind, Consent.source_public_id == public_id
                )
            )
        ]
        found += [
            ("referral", r)
            for r in db.session.scalars(
                select(Referral.public_id).where(
                    Referral.source_kind == kind, Referral.source_public_id == public_id
                )
            )
        ]
    referral_id = db.session.scalar(select(Referral.public_id).where(Referral.reference == code))
    if referral_id is not None and ("referral", referral_id) not in found:
        found.append(("referral", referral_id))
    allegation_id = db.session.scalar(
        select(Allegation.public_id).where(Allegation.reference == code)
    )
    if allegation_id is not None:
        found.append((psea.OBJ_TYPE, allegation_id))
    return found


def _case_page(user: User, code: str) -> str | None:
    referred = select(Referral.source_public_id).where(
        Referral.reference == code, Referral.source_kind == SourceKind.GBV_CASE
    )
    public_id = db.session.scalar(
        cases.visible_cases(user)
        .where(or_(Case.survivor_code == code, Case.public_id.in_(referred)))
        .with_only_columns(Case.public_id)
    )
    return url_for("cases.show", public_id=public_id) if public_id else None


def _received_referral_page(user: User, code: str) -> str | None:
    """A referral received by the user's organisation; several of one survivor: the queue
    showing them."""
    public_ids = db.session.scalars(
        select(Referral.public_id)
        .where(
            Referral.receiving_organisation_id == user.organisation_id,
            Referral.state != ReferralState.DRAFT,
            or_(Referral.reference == code, Referral.survivor_code == code),
        )
        .limit(2)
    ).all()
    if len(public_ids) == 1:
        return url_for("referrals.show", public_id=public_ids[0])
    return url_for("referrals.queue", code=code) if public_ids else None


def _allegation_page(user: User, code: str) -> str | None:
    public_id = db.session.scalar(
        select(Allegation.public_id).where(Allegation.reference == code, psea.visible_to(user))
    )
    return url_for("psea.show", public_id=public_id) if public_id else None


def _assistance_page(user: User, code: str) -> str | None:
    referred = select(Referral.source_public_id).where(
        Referral.reference == code, Referral.source_kind == SourceKind.ASSISTANCE
    )
    public_id = db.session.scalar(
        select(AssistanceRecord.public_id).where(
            or_(AssistanceRecord.survivor_code == code, AssistanceRecord.public_id.in_(referred)),
            assistance.handled_by(user),
        )
    )
    return url_for("assistance.show", public_id=public_id) if public_id else None


def _audit_page(user: User, code: str) -> str | None:
    return url_for("audit.index", code=code) if audit_records(code) else None


# Who finds what, in this order: each finder answers only records its user may open.
FINDERS = (
    (Permission.HANDLE_CASES, _case_page),
    (Permission.RECEIVE_REFERRALS, _received_referral_page),
    (Permission.ASSIST_VICTIMS, _assistance_page),
    (Permission.RECORD_ALLEGATIONS, _allegation_page),
    (Permission.RESPOND_TO_ALLEGATIONS, _allegation_page),
    (Permission.COORDINATE_PSEA, _allegation_page),
    (Permission.READ_AUDIT, _audit_page),
)


def destination(user: User, code: str) -> str | None:
    """The page of the record ``code`` names, if the user may open it; None otherwise
    (whether or not such a record exists)."""
    if not code:
        return None
    for permission, find in FINDERS:
        if has_permission(user, permission):
            found = find(user, code)
            if found is not None:
                return found
    # A victim-assistance focal point reads the allegations marked for assistance.
    if has_permission(user, Permission.ASSIST_VICTIMS):
        return _allegation_page(user, code)
    return None


def init_codes(app: Flask) -> None:
    register_code_lookup(app, audit_records)
