"""Victim-assistance rules (R21), as plain functions over the session; callers commit.

Assistance does not wait for any investigation and never needs the perpetrator to be
identified. The survivor is referred through the ordinary referral engine to a GBV
case-management service of the published pathway; the focal point then sees the status
of the referral and of the assistance, never case content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Boolean, ColumnElement, Integer, String, column, false, select, table
from sqlalchemy.orm.exc import StaleDataError

from referral.assistance.models import (
    ASSISTANCE_WORKFLOW,
    ENGINE_NEED,
    AssistanceNeed,
    AssistanceRecord,
    AssistanceState,
)
from referral.audit import record as audit
from referral.clock import utcnow
from referral.db import User, paging
from referral.db.base import random_code
from referral.db.paging import Keyset, Page
from referral.directory.models import AgeGroup, Area, Sector, Service, Sex
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.pathways.services import PathwayOption
from referral.referrals import services as engine
from referral.referrals.models import (
    PENDING_STATES,
    ConsentKind,
    Priority,
    Referral,
    SourceKind,
)
from referral.security.policy import Permission, has_permission
from referral.security.records import load_or_404
from referral.workflow import ConflictError, RuleError

OBJ_TYPE = "assistance"

# The allegations table, read by column name: the PSEA package is a sibling layer that
# this package does not import. Only the non-identifying columns needed here.
_ALLEGATIONS = table(
    "allegations",
    column("id", Integer),
    column("public_id", String),
    column("reference", String),
    column("consents_to_assistance", Boolean),
    column("area_id", Integer),
)
_SURVIVOR_GROUPS = table(
    "allegation_survivor_groups",
    column("allegation_id", Integer),
    column("age_group", String),
    column("sex", String),
)


@dataclass(frozen=True)
class Prefill:
    """What an allegation already says about its survivor, for the record opened from it."""

    age_group: AgeGroup | None = None
    sex: Sex | None = None
    area: Area | None = None


def prefill_from_allegation(public_id: str) -> Prefill:
    """The allegation's area, and the age group and sex of its one survivor group (an
    adult is 18-59 until the survivor says otherwise; a child's exact group is asked)."""
    row = db.session.execute(
        select(_ALLEGATIONS.c.id, _ALLEGATIONS.c.area_id).where(
            _ALLEGATIONS.c.public_id == public_id
        )
    ).one_or_none()
    if row is None:
        return Prefill()
    groups = db.session.execute(
        select(_SURVIVOR_GROUPS.c.age_group, _SURVIVOR_GROUPS.c.sex).where(
            _SURVIVOR_GROUPS.c.allegation_id == row.id
        )
    ).all()
    age_group = sex = None
    if len(groups) == 1:
        age, told = groups[0]
        age_group = AgeGroup.ADULT if age == "adult" else None
        sex = Sex(told) if told in {s.value for s in Sex} else None
    area = db.session.get(Area, row.area_id) if row.area_id is not None else None
    return Prefill(age_group, sex, area)


# --- visibility --------------------------------------------------------------------------


def handled_by(user: User) -> ColumnElement[bool]:
    """VA focal points of the organisation holding the record (for lists and pages)."""
    if not has_permission(user, Permission.ASSIST_VICTIMS):
        return false()
    return AssistanceRecord.organisation_id == user.organisation_id


def load_record(public_id: str, user: User) -> AssistanceRecord:
    """Load -> authorise: a record of the user's organisation, or a 404."""
    return load_or_404(AssistanceRecord, public_id, may=handled_by(user), obj_type=OBJ_TYPE)


RECORD_ORDER = Keyset(
    (AssistanceRecord.created_at,),
    descending=True,
    row_id=AssistanceRecord.id,
    public_id=AssistanceRecord.public_id,
)


def list_records(
    user: User, *, cursor: str | None = None, limit: int = 50
) -> Page[AssistanceRecord]:
    """The records of the user's organisation, newest first, keyset-paged."""
    query = select(AssistanceRecord).where(handled_by(user))
    return paging.page(query, RECORD_ORDER, cursor=cursor, limit=limit)


def latest_referrals(records: Sequence[AssistanceRecord]) -> dict[str, Referral]:
    """Each record's latest referral, by the record's public id, in one query."""
    latest: dict[str, Referral] = {}
    if records:
        for referral in db.session.scalars(
            select(Referral)
            .where(
                Referral.source_kind == SourceKind.ASSISTANCE,
                Referral.source_public_id.in_([r.public_id for r in records]),
            )
            .order_by(Referral.created_at, Referral.id)
        ):
            latest[referral.source_public_id] = referral
    return latest


def allegation_for_assistance(public_id: str) -> str | None:
    """The reference of an allegation whose survivor consents to assistance, else None."""
    return db.session.execute(
        select(_ALLEGATIONS.c.reference).where(
            _ALLEGATIONS.c.public_id == public_id,
            _ALLEGATIONS.c.consents_to_assistance.is_(True),
        )
    ).scalar_one_or_none()


def allegation_references(public_ids: Sequence[str]) -> dict[str, str]:
    if not public_ids:
        return {}
    rows = db.session.execute(
        select(_ALLEGATIONS.c.public_id, _ALLEGATIONS.c.reference).where(
            _ALLEGATIONS.c.public_id.in_(list(public_ids))
        )
    ).all()
    return {public_id: reference for public_id, reference in rows}


# --- opening (consent first) ---------------------------------------------------------------


@dataclass(frozen=True)
class AssistanceData:
    age_group: AgeGroup
    sex: Sex
    area: Area
    needs: Sequence[AssistanceNeed]
    consents_to_assistance: bool
    allegation_public_id: str | None = None
    child: engine.ChildConsent | None = None


def _new_code() -> str:
    for _ in range(10):
        code = random_code("VA")
        taken = db.session.scalar(
            select(AssistanceRecord.id).where(AssistanceRecord.survivor_code == code)
        )
        if taken is None:
            return code
    raise RuntimeError("could not draw a free survivor code")


def open_record(data: AssistanceData, *, actor: User) -> AssistanceRecord:
    """Open an assistance record, linked to an allegation or standalone, with the
    survivor's consent to assistance recorded as its own consent record (R3)."""
    if not data.consents_to_assistance:
        raise RuleError(
            "consents_to_assistance",
            _l("Assistance starts only with the survivor's consent (or a caregiver's)."),
        )
    if not data.needs:
        raise RuleError("needs", _l("Choose at least one need."))
    if data.allegation_public_id and allegation_for_assistance(data.allegation_public_id) is None:
        raise RuleError("allegation", _l("This allegation is not marked for victim assistance."))
    record = AssistanceRecord(
        survivor_code=_new_code(),
        organisation_id=actor.organisation_id,
        allegation_public_id=data.allegation_public_id or None,
        age_group=data.age_group,
        sex=data.sex,
        area=data.area,
        needs=",".join(dict.fromkeys(n.value for n in data.needs)),
        state=AssistanceState.OPEN,
        opened_by_id=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    engine.record_consent(
        record,
        ConsentKind.SERVICES,
        actor=actor,
        survivor_is_child=record.is_child,
        child=data.child,
    )
    audit(
        "assistance.opened",
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=record.public_id,
        detail={
            "survivor_code": record.survivor_code,
            "allegation": record.allegation_public_id,
            "needs": record.needs,
        },
    )
    return record


# --- referring through the engine (R21) ----------------------------------------------------


def case_management_options(record: AssistanceRecord) -> list[PathwayOption]:
    """GBV case-management services of the published pathway for the survivor's area."""
    return [
        option
        for option in engine.pathway_options(record)
        if option.sector is Sector.GBV_CASE_MANAGEMENT
    ]


@dataclass(frozen=True)
class AssistanceReferral:
    service: Service
    priority: Priority
    survivor_consents: bool
    note: str = ""
    off_pathway_reason: str = ""
    child: engine.ChildConsent | None = None


def refer(record: AssistanceRecord, request: AssistanceReferral, *, actor: User) -> Referral:
    """Refer the survivor to a GBV case-management service: consent to this referral is
    recorded first (R3, R4), then the ordinary engine sends it to the service's queue."""
    if record.state is not AssistanceState.OPEN:
        raise RuleError("service", _l("This assistance record is closed."))
    if request.service.sector is not Sector.GBV_CASE_MANAGEMENT:
        raise RuleError("service", _l("Choose a GBV case-management service."))
    if not request.survivor_consents:
        raise RuleError(
            "survivor_consents", _l("No referral is sent without the survivor's consent.")
        )
    pending = [
        r
        for r in referrals(record)
        if r.service_id == request.service.id and r.state in PENDING_STATES
    ]
    if pending:
        raise RuleError(
            "service",
            _l(
                "Referral %(ref)s to this service is still pending: one referral at a time "
                "to the same service (R13). Wait for its answer or withdraw it first.",
                ref=pending[0].reference,
            ),
        )
    consent = engine.record_consent(
        record,
        ConsentKind.REFERRAL,
        actor=actor,
        survivor_is_child=record.is_child,
        receiving_organisation=request.service.organisation,
        sector=Sector.GBV_CASE_MANAGEMENT,
        child=request.child,
    )
    referral = engine.create_referral(
        record,
        engine.ReferralRequest(
            service=request.service,
            priority=request.priority,
            needs=list(dict.fromkeys(ENGINE_NEED[n] for n in record.need_list)),
            note=request.note,
            off_pathway_reason=request.off_pathway_reason,
        ),
        consent=consent,
        actor=actor,
    )
    audit(
        "assistance.referred",
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=record.public_id,
        detail={"referral": referral.public_id, "service": request.service.public_id},
    )
    return referral


def referrals(record: AssistanceRecord) -> Sequence[Referral]:
    """The record's referrals: the focal point sees their status, never the case."""
    return engine.referrals_of(SourceKind.ASSISTANCE, record.public_id)


def close(record: AssistanceRecord, *, actor: User) -> None:
    previous = record.state
    ASSISTANCE_WORKFLOW.check(previous, AssistanceState.CLOSED)
    record.state = AssistanceState.CLOSED
    record.closed_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError(record.public_id) from error
    audit(
        "assistance.closed",
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=record.public_id,
        detail={"from": previous.value, "to": record.state.value},
    )
