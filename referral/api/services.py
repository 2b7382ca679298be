"""What the API adds to the features' services: the sender's view of its referrals and
the survivor fields that never leave through the API."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, or_, select

from referral.assistance.models import AssistanceRecord
from referral.cases.models import Case
from referral.cases.services import visible_cases
from referral.db import User, paging
from referral.db.paging import Keyset, Page
from referral.extensions import db
from referral.referrals.models import Referral, ReferralState, SourceKind
from referral.referrals.services import ReceiverView, reveal_for_receiver
from referral.security.policy import Permission, has_permission

# The consented fields that may travel through the API: never a survivor's name, contact
# or narrative (the referral note); a receiver reads those on the referral's page.
API_SHARED_FIELDS: tuple[str, ...] = ("incident_type", "disability", "displacement_status")


def reveal_through_api(referral: Referral, actor: User) -> ReceiverView:
    """The receiver's view (R11) limited to :data:`API_SHARED_FIELDS`; the reveal of the
    fields actually returned is audited (R2)."""
    return reveal_for_receiver(referral, actor, only=API_SHARED_FIELDS, include_note=False)


def withheld_fields(referral: Referral) -> list[str]:
    """Consented fields (and the note) that the API does not return."""
    withheld = [f for f in referral.shared_field_list if f not in API_SHARED_FIELDS]
    if referral.note is not None:
        withheld.append("note")
    return withheld


# --- the sender's view -------------------------------------------------------------------------


def _followed_by(actor: User) -> ColumnElement[bool]:
    """Referrals whose record the actor may open: cases it may open (caseworker: own or
    assigned; supervisor: the organisation's), assistance records of the organisation
    (victim-assistance focal points, R21)."""
    conditions: list[ColumnElement[bool]] = []
    if has_permission(actor, Permission.HANDLE_CASES):
        case_ids = visible_cases(actor).with_only_columns(Case.public_id)
        conditions.append(
            (Referral.source_kind == SourceKind.GBV_CASE) & Referral.source_public_id.in_(case_ids)
        )
    if has_permission(actor, Permission.ASSIST_VICTIMS):
        records = select(AssistanceRecord.public_id).where(
            AssistanceRecord.organisation_id == actor.organisation_id
        )
        conditions.append(
            (Referral.source_kind == SourceKind.ASSISTANCE) & Referral.source_public_id.in_(records)
        )
    return or_(*conditions) if conditions else false()


def can_follow(actor: User, referral: Referral) -> bool:
    """May ``actor`` see where this referral (sent by its organisation) stands?"""
    if referral.sending_organisation_id != actor.organisation_id:
        return False
    found = db.session.scalar(
        select(Referral.id).where(Referral.id == referral.id, _followed_by(actor))
    )
    return found is not None


SENT_ORDER = Keyset(
    (Referral.created_at,), descending=True, row_id=Referral.id, public_id=Referral.public_id
)


def sent_referrals(
    actor: User,
    *,
    states: Iterable[ReferralState] | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Referral]:
    """The referrals of the actor's organisation that the actor follows, newest first,
    keyset-paged on (created_at, id)."""
    query = select(Referral).where(
        Referral.sending_organisation_id == actor.organisation_id, _followed_by(actor)
    )
    if states is not None:
        query = query.where(Referral.state.in_(list(states)))
    return paging.page(query, SENT_ORDER, cursor=cursor, limit=limit)


def referral_by_public_id(public_id: str) -> Referral | None:
    return db.session.scalar(select(Referral).where(Referral.public_id == public_id))
