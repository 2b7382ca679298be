"""Allegation rules (R17-R20): intake, routing, acknowledgement, outcome, deadlines, visibility.

Plain functions over the session; no HTTP. Callers commit. Every state change and every
reveal of the narrative is announced for the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm.exc import StaleDataError

from referral.audit import record
from referral.clock import utcnow
from referral.db import Organisation, User, paging
from referral.db.base import random_code
from referral.db.paging import Keyset, Page
from referral.directory.models import Area, AreaLevel
from referral.extensions import db
from referral.formatting import time_left
from referral.messages import lazy_gettext as _l
from referral.psea.models import (
    ALLEGATION_WORKFLOW,
    AWAITING_ROUTING,
    FINAL_OUTCOMES,
    Allegation,
    AllegationState,
    Category,
    Channel,
    EntityType,
    Outcome,
    PersonnelCategory,
    SurvivorAgeGroup,
    SurvivorGroup,
    SurvivorSex,
)
from referral.security.policy import Permission, Role, has_permission
from referral.security.records import load_or_404
from referral.workflow import ConflictError, RuleError

OBJ_TYPE = "allegation"
# R17: the area is an administrative level; a site could point at a person.
ADMIN_LEVELS = frozenset({AreaLevel.COUNTRY, AreaLevel.PROVINCE, AreaLevel.DISTRICT})
NARRATIVE_MAX_LENGTH = 1000


# --- audit -------------------------------------------------------------------------------


def _announce(
    action: str,
    allegation: Allegation,
    actor: User,
    detail: Mapping[str, Any] | None = None,
    fields_revealed: Iterable[str] = (),
) -> None:
    record(
        action,
        actor=actor,
        obj_type=OBJ_TYPE,
        obj_id=allegation.public_id,
        fields_revealed=fields_revealed,
        detail={"reference": allegation.reference, **(detail or {})},
    )


# --- intake (R17, R20) -----------------------------------------------------------------


@dataclass(frozen=True)
class AllegationData:
    """Everything an allegation may hold (R17): no field for the name of anyone."""

    received_at: datetime
    channel: Channel
    incident_from: date | None
    incident_to: date | None
    area: Area | None
    category: Category
    entity_type: EntityType
    entity_organisation: Organisation | None
    personnel_category: PersonnelCategory
    survivors: Mapping[tuple[SurvivorAgeGroup, SurvivorSex], int]
    consents_to_assistance: bool
    narrative: str | None = None


def derived_category(
    reported: Category, survivors: Mapping[tuple[SurvivorAgeGroup, SurvivorSex], int]
) -> Category:
    """R20: any survivor under 18 makes the allegation "sexual abuse of a child"."""
    if any(age is SurvivorAgeGroup.UNDER_18 and n > 0 for (age, _sex), n in survivors.items()):
        return Category.SEXUAL_ABUSE_OF_A_CHILD
    return reported


def _check(data: AllegationData) -> None:
    now = utcnow()
    if data.received_at > now:
        raise RuleError("received_at", _l("The date received cannot be in the future."))
    today = now.date()
    for name, value in (("incident_from", data.incident_from), ("incident_to", data.incident_to)):
        if value is not None and value > today:
            raise RuleError(name, _l("The incident period cannot be in the future."))
    if data.area is not None and data.area.level not in ADMIN_LEVELS:
        raise RuleError("area", _l("Choose an administrative area, not a site: no exact places."))
    if data.incident_from and data.incident_to and data.incident_from > data.incident_to:
        raise RuleError("incident_to", _l("The period ends before it starts."))
    if any(n < 0 for n in data.survivors.values()):
        raise RuleError("survivors", _l("Counts cannot be negative."))
    if sum(data.survivors.values()) < 1:
        raise RuleError("survivors", _l("Count at least one survivor (sex or age may be unknown)."))
    if data.narrative is not None and len(data.narrative) > NARRATIVE_MAX_LENGTH:
        raise RuleError("narrative", _l("Keep the summary short."))
    if data.category is Category.SEXUAL_ABUSE_OF_A_CHILD:
        raise RuleError("category", _l("This category is set automatically."))


def _new_reference() -> str:
    for _ in range(10):
        code = random_code("SEA")
        if db.session.scalar(select(Allegation.id).where(Allegation.reference == code)) is None:
            return code
    raise RuntimeError("could not draw a free allegation reference")


def record_allegation(data: AllegationData, *, actor: User) -> Allegation:
    """A PSEA focal point (or the coordinator) logs an allegation their organisation received."""
    _check(data)
    survivors = {key: n for key, n in data.survivors.items() if n > 0}
    config = current_app.config
    allegation = Allegation(
        reference=_new_reference(),
        state=AllegationState.RECEIVED,
        received_at=data.received_at,
        channel=data.channel,
        incident_from=data.incident_from,
        incident_to=data.incident_to,
        area=data.area,
        category=derived_category(data.category, survivors),
        entity_type=(
            _entity_type_of(data.entity_organisation)
            if data.entity_organisation is not None
            else data.entity_type
        ),
        entity_organisation=data.entity_organisation,
        personnel_category=data.personnel_category,
        survivor_count=sum(survivors.values()),
        any_child_survivor=any(age is SurvivorAgeGroup.UNDER_18 for age, _sex in survivors),
        consents_to_assistance=data.consents_to_assistance,
        received_by_organisation_id=actor.organisation_id,
        recorded_by=actor,
        route_due_at=data.received_at + timedelta(hours=config["PSEA_ROUTE_WITHIN_HOURS"]),
        survivor_groups=[
            SurvivorGroup(age_group=age, sex=sex, count=n)
            for (age, sex), n in sorted(survivors.items())
        ],
    )
    allegation.narrative = data.narrative or None
    db.session.add(allegation)
    db.session.flush()
    _announce(
        "psea.allegation_recorded",
        allegation,
        actor,
        {"state": allegation.state.value, "category": allegation.category.value},
    )
    return allegation


def _entity_type_of(organisation: Organisation) -> EntityType:
    from referral.db import OrganisationType

    return {
        OrganisationType.UN_AGENCY: EntityType.UN_AGENCY,
        OrganisationType.INTERNATIONAL_NGO: EntityType.NGO,
        OrganisationType.NATIONAL_NGO: EntityType.NGO,
        OrganisationType.COMMUNITY_BASED: EntityType.NGO,
        OrganisationType.GOVERNMENT: EntityType.GOVERNMENT,
        OrganisationType.PEACEKEEPING_MISSION: EntityType.PEACEKEEPING_MISSION,
    }[organisation.org_type]


# --- visibility (who sees what) ----------------------------------------------------------


def _is_coordinator(user: User) -> bool:
    return has_permission(user, Permission.COORDINATE_PSEA)


def _is_focal_point(user: User) -> bool:
    return has_permission(user, Permission.RECORD_ALLEGATIONS) or has_permission(
        user, Permission.RESPOND_TO_ALLEGATIONS
    )


def visible_to(user: User) -> ColumnElement[bool]:
    """The allegations a user may see, as a WHERE clause.

    Coordinator: all. PSEA focal point: received by or routed to its organisation.
    Victim-assistance focal point: those whose survivor consents to assistance.
    Anyone else (GBV roles, admin, auditor): none.
    """
    if _is_coordinator(user):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if _is_focal_point(user):
        clauses.append(
            or_(
                Allegation.received_by_organisation_id == user.organisation_id,
                Allegation.routed_to_organisation_id == user.organisation_id,
            )
        )
    if has_permission(user, Permission.ASSIST_VICTIMS):
        clauses.append(Allegation.consents_to_assistance.is_(True))
    return or_(*clauses) if clauses else false()


def _org_involved(user: User, allegation: Allegation) -> bool:
    return user.organisation_id in (
        allegation.received_by_organisation_id,
        allegation.routed_to_organisation_id,
    )


def can_view(user: User, allegation: Allegation) -> bool:
    if _is_coordinator(user):
        return True
    if _is_focal_point(user) and _org_involved(user, allegation):
        return True
    return has_permission(user, Permission.ASSIST_VICTIMS) and allegation.consents_to_assistance


def can_read_narrative(user: User, allegation: Allegation) -> bool:
    """The narrative is for the PSEA network only: coordinator and the organisations involved."""
    return _is_coordinator(user) or (_is_focal_point(user) and _org_involved(user, allegation))


def can_route(user: User, allegation: Allegation) -> bool:
    if not has_permission(user, Permission.ROUTE_ALLEGATIONS):
        return False
    if _is_coordinator(user):
        return allegation.state in AWAITING_ROUTING
    return (
        allegation.state is AllegationState.RECEIVED
        and allegation.received_by_organisation_id == user.organisation_id
    )


def can_respond(user: User, allegation: Allegation) -> bool:
    """The concerned entity's PSEA focal points acknowledge and report the outcome."""
    return (
        has_permission(user, Permission.RESPOND_TO_ALLEGATIONS)
        and allegation.routed_to_organisation_id is not None
        and allegation.routed_to_organisation_id == user.organisation_id
    )


def reveal_narrative(allegation: Allegation, *, actor: User) -> str | None:
    """Read the narrative for display (caller authorised it); the reveal is audited."""
    text = allegation.narrative
    _announce("psea.narrative_viewed", allegation, actor, fields_revealed=["narrative"])
    return text


# --- routing, acknowledgement, outcome (R18, R19) ----------------------------------------


def member_organisations() -> list[Organisation]:
    """Organisations the network can route to: active, with an active PSEA focal point."""
    has_focal_point = exists().where(
        User.organisation_id == Organisation.id,
        User.role == Role.PSEA_FOCAL_POINT,
        User.active.is_(True),
    )
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.active.is_(True), has_focal_point)
            .order_by(Organisation.acronym)
        )
    )


def is_member(organisation: Organisation) -> bool:
    return organisation.active and (
        db.session.scalar(
            select(User.id)
            .where(
                User.organisation_id == organisation.id,
                User.role == Role.PSEA_FOCAL_POINT,
                User.active.is_(True),
            )
            .limit(1)
        )
        is not None
    )


ALLEGATION_ORDER = Keyset(
    (Allegation.received_at,), descending=True, row_id=Allegation.id, public_id=Allegation.public_id
)


@dataclass(frozen=True)
class AllegationLine:
    """An allegation as a line of the list shows it (and its pending deadline needs)."""

    public_id: str
    reference: str
    received_at: datetime
    category: Category
    state: AllegationState
    route_due_at: datetime
    acknowledge_due_at: datetime | None

    COLUMNS: ClassVar[tuple[Any, ...]] = (
        Allegation.public_id,
        Allegation.reference,
        Allegation.received_at,
        Allegation.category,
        Allegation.state,
        Allegation.route_due_at,
        Allegation.acknowledge_due_at,
    )

    @classmethod
    def of(cls, row: Any) -> AllegationLine:
        return cls(*row)


def list_allegations(
    user: User,
    *,
    state: AllegationState | None = None,
    overdue_only: bool = False,
    cursor: str | None = None,
    limit: int = 50,
    reference: str | None = None,
) -> Page[AllegationLine]:
    """The allegations the user may see, newest first, keyset-paged on (received_at, id);
    ``reference``: only the one with that reference (normalised), if the user may see it.
    Read as lines: the columns the list shows and its deadlines need, not mapped rows."""
    query = select(*AllegationLine.COLUMNS).where(visible_to(user))
    if reference:
        query = query.where(Allegation.reference == reference)
    if state is not None:
        query = query.where(Allegation.state == state)
    if overdue_only:
        query = query.where(overdue())
    page = paging.page(query, ALLEGATION_ORDER, cursor=cursor, limit=limit, columns=True)
    return Page([AllegationLine.of(row) for row in page.rows], page.next_cursor)


def dashboard() -> dict[str, Any]:
    """The network coordinator's counts: allegations by state, and overdue (R19)."""
    # One statement read from indexes alone: the counts by state from ix_allegations_state,
    # and each overdue condition as a range of ix_allegations_dashboard, counted once (an
    # uncorrelated subquery). Testing overdue() on every row instead (count FILTER) reads
    # the whole table and took 2.5 times as long at 10,000 allegations.
    late_unrouted, late_unacknowledged = (
        select(func.count()).where(condition).scalar_subquery()
        for condition in overdue_conditions(utcnow())
    )
    rows = db.session.execute(
        select(Allegation.state, func.count(), late_unrouted + late_unacknowledged).group_by(
            Allegation.state
        )
    ).all()
    return {
        "counts": {state: total for state, total, _late in rows},
        "overdue": rows[0][2] if rows else 0,
    }


def load_for_update(public_id: str) -> Allegation | None:
    """Load and lock the row (SELECT ... FOR UPDATE on PostgreSQL) for a transition."""
    return db.session.scalar(
        select(Allegation)
        .where(Allegation.public_id == public_id)
        .with_for_update(of=Allegation)
        .execution_options(populate_existing=True)
    )


def load_visible(public_id: str, user: User, *, for_update: bool = False) -> Allegation:
    """Load -> authorise: an allegation the user may see (:func:`visible_to`), or a 404;
    ``for_update`` locks the row for a transition."""
    return load_or_404(
        Allegation, public_id, may=visible_to(user), obj_type=OBJ_TYPE, for_update=for_update
    )


def _move(allegation: Allegation, target: AllegationState) -> AllegationState:
    current = allegation.state
    ALLEGATION_WORKFLOW.check(current, target)
    allegation.state = target
    return current


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConflictError(str(error)) from error


def route(allegation: Allegation, target: Organisation | None, *, actor: User) -> AllegationState:
    """Route to the concerned entity's PSEA focal points.

    An unknown or non-member entity goes to the coordinator for manual routing; the
    coordinator must pick a member organisation. Raises IllegalTransitionError when the
    allegation is no longer waiting for routing (someone else routed it first).
    """
    if target is None or not is_member(target):
        if _is_coordinator(actor):
            raise RuleError(
                "organisation",
                _l("Choose an organisation of the network that has a PSEA focal point."),
            )
        previous = _move(allegation, AllegationState.MANUAL_ROUTING)
        _flush()
        _announce(
            "psea.allegation_routed",
            allegation,
            actor,
            {
                "from": previous.value,
                "to": allegation.state.value,
                "organisation": target.public_id if target is not None else None,
            },
        )
        return allegation.state
    previous = _move(allegation, AllegationState.ROUTED)
    now = utcnow()
    allegation.routed_to_organisation = target
    allegation.routed_at = now
    allegation.acknowledge_due_at = now + timedelta(
        hours=current_app.config["PSEA_ACKNOWLEDGE_WITHIN_HOURS"]
    )
    _flush()
    _announce(
        "psea.allegation_routed",
        allegation,
        actor,
        {"from": previous.value, "to": allegation.state.value, "organisation": target.public_id},
    )
    return allegation.state


def acknowledge(allegation: Allegation, *, actor: User) -> None:
    previous = _move(allegation, AllegationState.ACKNOWLEDGED)
    allegation.acknowledged_at = utcnow()
    _flush()
    _announce(
        "psea.allegation_acknowledged",
        allegation,
        actor,
        {"from": previous.value, "to": allegation.state.value},
    )


def report_outcome(allegation: Allegation, outcome: Outcome, *, actor: User) -> None:
    """R18: the entity reports an outcome category, and nothing about the investigation."""
    target = AllegationState.CLOSED if outcome in FINAL_OUTCOMES else AllegationState.IN_PROGRESS
    previous = _move(allegation, target)
    allegation.outcome = outcome
    allegation.outcome_reported_at = utcnow()
    _flush()
    _announce(
        "psea.allegation_outcome_reported",
        allegation,
        actor,
        {"from": previous.value, "to": allegation.state.value, "outcome": outcome.value},
    )


# --- deadlines (R19) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    step: str  # "route" or "acknowledge"
    due_at: datetime
    overdue: bool


def pending_deadline(
    allegation: Allegation | AllegationLine, now: datetime | None = None
) -> Deadline | None:
    """The deadline of the step the allegation waits for, if any."""
    now = now or utcnow()
    if allegation.state in AWAITING_ROUTING:
        return Deadline("route", allegation.route_due_at, allegation.route_due_at <= now)
    if allegation.state is AllegationState.ROUTED and allegation.acknowledge_due_at is not None:
        return Deadline(
            "acknowledge", allegation.acknowledge_due_at, allegation.acknowledge_due_at <= now
        )
    return None


def overdue_conditions(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """R19's two ways of being overdue: not routed by the routing deadline, and routed but
    not acknowledged by the acknowledgement deadline (no allegation is both)."""
    return (
        and_(Allegation.state.in_(AWAITING_ROUTING), Allegation.route_due_at <= now),
        and_(Allegation.state == AllegationState.ROUTED, Allegation.acknowledge_due_at <= now),
    )


def overdue(now: datetime | None = None) -> ColumnElement[bool]:
    """WHERE clause: past the routing or acknowledgement deadline (R19)."""
    return or_(*overdue_conditions(now or utcnow()))


def describe_due(due_at: datetime, now: datetime | None = None) -> str:
    """Time left as words: "in 5 hours", "in 2 days", "3 hours overdue"."""
    return time_left((due_at - (now or utcnow())).total_seconds())


__all__ = [
    "AWAITING_ROUTING",
    "AllegationData",
]
