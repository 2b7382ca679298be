"""GBV statistics counts kept up to date in the transaction of every change (R24).

Every count a GBV report publishes is a sum of *contributions*: what the incidents and
referrals of one case add to each measure, month, organisation and area. When a flush
changes anything a contribution depends on (a case's organisation, area, sex or age
group; an incident; a statistics consent; a referral's sector, state or times), the
contributions of the cases concerned are computed from the database just before the
flush and again just after it, and the difference is added to ``statistics_counts``
when the transaction commits, with the rest of the change or not at all. A consent
withdrawn is therefore out of the next report, and a rolled-back change leaves the
counts as they were.

On PostgreSQL the cases concerned are locked (``FOR UPDATE``) before their "before" is
read, so two transactions changing one case take turns and each difference is taken
against what the other committed. The counts themselves are added with an upsert, in
key order, when the transaction commits.

Writes that bypass the ORM session (bulk inserts of the benchmark seed, a restore)
leave the counts behind: ``referral statistics rebuild`` counts everything again, and
``referral statistics check`` compares the counts with the oracle
(``services.oracle_counts``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import get_history

from referral.cases.models import Case, Incident, IncidentType, ReportingDelay
from referral.clinical import Care, window_lengths
from referral.clock import utcnow
from referral.directory.models import AgeGroup, Sector, Sex
from referral.extensions import db
from referral.referrals.models import (
    AWAITING_RESPONSE,
    Consent,
    Referral,
    ReferralState,
    SourceKind,
)
from referral.reports.counted import (
    GbvCounts,
    StatsScope,
    add,
    answered_seconds,
    area_tree,
    completed_seconds,
    counted_incident,
    counted_incidents,
    counted_referral,
    date_month,
    duration_bucket,
    pep_reached,
    rape_health_care_from_rows,
    referrals_of_cases,
    subtree_ids,
    utc_month,
)
from referral.reports.labels import CONTEXT_LABELS
from referral.reports.models import ALL, StatisticsCount

log = logging.getLogger(__name__)

# measure, period (yyyymm), organisation id, area id, key a, key b
Key = tuple[str, int, int, int, str, str]

TYPE = "type"  # key_a incident type
TYPE_SEX = "type_sex"  # key_a incident type, key_b survivor sex
AGE_SEX = "age_sex"  # key_a age group, key_b sex
DELAY = "delay"  # key_a reporting delay
CONTEXT = "context"  # key_a context flag (an incident may carry several)
RAPE = "rape"  # key_a "yes"/"no" (health care within the PEP window), key_b window seconds
REFERRAL = "referral"  # key_a sector, key_b state
TO_ACCEPTANCE = "to_acceptance"  # key_a duration bucket
TO_COMPLETION = "to_completion"  # key_a duration bucket
# Counted referrals waiting for an answer, by deadline: to the day, and to the microsecond
# for those due today, so "overdue now" sums a few rows and stays exact.
AWAITING_DAY = "awaiting_day"  # key_a deadline date (UTC, ISO)
AWAITING_AT = "awaiting_at"  # key_a deadline instant (UTC, ISO with microseconds)
MEASURES = (TYPE, TYPE_SEX, AGE_SEX, DELAY, CONTEXT, RAPE, REFERRAL, TO_ACCEPTANCE, TO_COMPLETION)

# Parts of the reading statement that are not measures of their own
AREA = "area"
OVERDUE = "overdue"

_CASE_FIELDS = ("organisation_id", "area_id", "sex", "age_group")
_CONSENT_FIELDS = ("source_public_id", "kind", "granted", "withdrawn_at")
_REFERRAL_FIELDS = (
    "source_public_id",
    "incident_public_id",
    "sector",
    "state",
    "sent_at",
    "responded_at",
    "finished_at",
    "deadline_at",
)

_BEFORE = "statistics_before_flush"
_PENDING = "statistics_pending"
_COMMITTING = "statistics_committing"


# --- contributions ----------------------------------------------------------------------


def _window_key() -> str:
    return str(int(window_lengths()[Care.PEP].total_seconds()))


@dataclass(frozen=True)
class _Statements:
    incidents: Select[Any]
    rape: Select[Any]
    referrals: Select[Any]


@lru_cache(maxsize=8)
def _statements(dialect: str, window: str, of_cases: bool) -> _Statements:
    """The three contribution queries, built once per database kind and PEP window (each
    flush that touches a case runs them twice); ``of_cases``: limited to the bound
    ``case_ids``."""
    del dialect, window  # cache keys: the expressions below read both when built
    ids = [Case.id.in_(bindparam("case_ids", expanding=True))] if of_cases else []
    month = date_month(Incident.reported_on)
    dimensions = (
        month,
        Case.organisation_id,
        Case.area_id,
        Incident.incident_type,
        Case.sex,
        Case.age_group,
        Incident.reporting_delay,
    )
    incidents = (
        counted_incidents(
            *dimensions,
            func.count(Incident.id),
            *[func.sum(case((getattr(Incident, flag), 1), else_=0)) for flag in CONTEXT_LABELS],
        )
        .where(*counted_incident(), *ids)
        .group_by(*dimensions)
    )
    rape = counted_incidents(month, Case.organisation_id, Case.area_id, pep_reached()).where(
        *counted_incident(), Incident.incident_type == IncidentType.RAPE, *ids
    )
    referrals = referrals_of_cases(
        utc_month(Referral.sent_at),
        Case.organisation_id,
        Case.area_id,
        Referral.sector,
        Referral.state,
        answered_seconds(),
        completed_seconds(),
        Referral.deadline_at,
    ).where(*counted_referral(), *ids)
    return _Statements(incidents, rape, referrals)


def contributions(connection: Connection, case_ids: Collection[int] | None) -> Counter[Key]:
    """What the given cases (None: every case) add to each count, rolled up to every
    organisation and every area."""
    leaf: Counter[Key] = Counter()
    if case_ids is not None and not case_ids:
        return leaf
    window = _window_key()
    statements = _statements(connection.dialect.name, window, case_ids is not None)
    bound = {} if case_ids is None else {"case_ids": sorted(case_ids)}
    flags = list(CONTEXT_LABELS)
    for row in connection.execute(statements.incidents, bound):
        period, org, area, kind, sex, age, delay, n, *flag_sums = row
        where = (int(period), int(org), int(area))
        kind, sex = IncidentType(kind).value, Sex(sex).value
        leaf[(TYPE, *where, kind, "")] += int(n)
        leaf[(TYPE_SEX, *where, kind, sex)] += int(n)
        leaf[(AGE_SEX, *where, AgeGroup(age).value, sex)] += int(n)
        leaf[(DELAY, *where, ReportingDelay(delay).value, "")] += int(n)
        for flag, value in zip(flags, flag_sums, strict=True):
            leaf[(CONTEXT, *where, flag, "")] += int(value or 0)

    for period, org, area, reached in connection.execute(statements.rape, bound):
        leaf[(RAPE, int(period), int(org), int(area), "yes" if reached else "no", window)] += 1

    for row in connection.execute(statements.referrals, bound):
        period, org, area, sector, state, to_acceptance, to_completion, deadline = row
        where = (int(period), int(org), int(area))
        leaf[(REFERRAL, *where, Sector(sector).value, ReferralState(state).value)] += 1
        if ReferralState(state) in AWAITING_RESPONSE and deadline is not None:
            leaf[(AWAITING_DAY, *where, deadline.astimezone(UTC).date().isoformat(), "")] += 1
            leaf[(AWAITING_AT, *where, _instant_key(deadline), "")] += 1
        if to_acceptance is not None:
            leaf[(TO_ACCEPTANCE, *where, str(duration_bucket(float(to_acceptance))), "")] += 1
        if to_completion is not None:
            leaf[(TO_COMPLETION, *where, str(duration_bucket(float(to_completion))), "")] += 1
    return _rolled_up(leaf)


def _instant_key(instant: datetime) -> str:
    """A UTC instant as text that sorts as the instants do."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _rolled_up(leaf: Counter[Key]) -> Counter[Key]:
    rolled: Counter[Key] = Counter()
    for (measure, period, org, area, key_a, key_b), n in leaf.items():
        if not n:
            continue
        for org_key, area_key in ((org, area), (org, ALL), (ALL, area), (ALL, ALL)):
            rolled[(measure, period, org_key, area_key, key_a, key_b)] += n
    return rolled


def apply(connection: Connection, delta: Counter[Key]) -> None:
    """Add ``delta`` to the kept counts, in key order (two transactions never wait for
    each other's rows in opposite orders)."""
    rows = [
        {
            "measure": measure,
            "period": period,
            "organisation_id": org,
            "area_id": area,
            "key_a": key_a,
            "key_b": key_b,
            "count": n,
        }
        for (measure, period, org, area, key_a, key_b), n in sorted(delta.items())
        if n
    ]
    if not rows:
        return
    table = cast(Table, StatisticsCount.__table__)
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["organisation_id", "measure", "area_id", "period", "key_a", "key_b"],
        set_={"count": table.c["count"] + statement.excluded["count"]},
    )
    connection.execute(statement, rows)  # one statement, many rows (executemany)


def rebuild(connection: Connection) -> int:
    """Count everything again from the rows; the number of count rows written."""
    connection.execute(delete(StatisticsCount))
    counts = contributions(connection, None)
    if connection.dialect.name != "postgresql":
        apply(connection, counts)
        return sum(1 for n in counts.values() if n)
    # Into the emptied table: COPY is several times faster than inserts at this size.
    columns = "measure, period, organisation_id, area_id, key_a, key_b, count"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY statistics_counts ({columns}) FROM STDIN") as copy:
        for key, n in sorted(counts.items()):
            if n:
                copy.write_row((*key, n))
    connection.execute(text("ANALYZE statistics_counts"))  # the planner's row estimates
    return sum(1 for n in counts.values() if n)


# --- keeping them up to date --------------------------------------------------------------


def _changed(obj: Any, fields: Iterable[str]) -> bool:
    return any(get_history(obj, name).has_changes() for name in fields)


def _touched(session: Session) -> tuple[set[int], set[str], list[Case]]:
    """The cases whose contributions this flush may change: ids of stored cases, public
    ids of the cases named by consents and referrals, and cases not stored yet."""
    ids: set[int] = set()
    public_ids: set[str] = set()
    new_cases: list[Case] = []

    def case_of(incident: Incident) -> None:
        for value in get_history(incident, "case_id").sum():
            if value is not None:
                ids.add(value)
        owner = incident.__dict__.get("case")
        if isinstance(owner, Case):
            if owner.id is not None:
                ids.add(owner.id)
            else:
                new_cases.append(owner)

    def named(obj: Consent | Referral) -> None:
        if obj.source_kind == SourceKind.GBV_CASE:
            public_ids.update(v for v in get_history(obj, "source_public_id").sum() if v)
            public_ids.add(obj.source_public_id)

    for obj in session.new:
        if isinstance(obj, Case):
            new_cases.append(obj)
        elif isinstance(obj, Incident):
            case_of(obj)
        elif isinstance(obj, Consent | Referral):
            named(obj)
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, _CASE_FIELDS):
            ids.add(obj.id)
        elif isinstance(obj, Incident) and session.is_modified(obj, include_collections=False):
            case_of(obj)
        elif (isinstance(obj, Consent) and _changed(obj, _CONSENT_FIELDS)) or (
            isinstance(obj, Referral) and _changed(obj, _REFERRAL_FIELDS)
        ):
            named(obj)
    for obj in session.deleted:
        if isinstance(obj, Case):
            ids.add(obj.id)
        elif isinstance(obj, Incident):
            case_of(obj)
        elif isinstance(obj, Consent | Referral):
            named(obj)
    return ids, public_ids, new_cases


def _stored_ids(connection: Connection, public_ids: set[str]) -> set[int]:
    if not public_ids:
        return set()
    return set(connection.scalars(select(Case.id).where(Case.public_id.in_(sorted(public_ids)))))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    ids, public_ids, new_cases = _touched(session)
    if not (ids or public_ids or new_cases):
        return
    connection = session.connection()
    ids |= _stored_ids(connection, public_ids)
    if ids and connection.dialect.name == "postgresql":
        connection.execute(
            select(Case.id).where(Case.id.in_(sorted(ids))).order_by(Case.id).with_for_update()
        )
    session.info[_BEFORE] = (ids, public_ids, new_cases, contributions(connection, ids))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    taken = session.info.pop(_BEFORE, None)
    if taken is None:
        return
    ids, public_ids, new_cases, before = taken
    connection = session.connection()
    ids = ids | {c.id for c in new_cases if c.id is not None} | _stored_ids(connection, public_ids)
    delta = contributions(connection, ids)
    delta.subtract(before)
    if session.info.get(_COMMITTING):
        apply(connection, delta)
        return
    pending: list[tuple[SessionTransaction | None, Counter[Key]]]
    pending = session.info.setdefault(_PENDING, [])
    pending.append((session.get_nested_transaction(), delta))


def _apply_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    total: Counter[Key] = Counter()
    for _transaction, delta in pending:
        total.update(delta)
    if total:
        apply(session.connection(), total)


# First among the commit hooks, so the audit trail's hook finds nothing left to count.
@event.listens_for(Session, "before_commit", insert=True)
def _before_commit(session: Session) -> None:
    session.flush()
    _apply_pending(session)
    session.info[_COMMITTING] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_COMMITTING, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    session.info.pop(_COMMITTING, None)
    session.info.pop(_BEFORE, None)
    if previous.nested:
        kept = [p for p in session.info.get(_PENDING, []) if p[0] is not previous]
        session.info[_PENDING] = kept
    else:
        session.info.pop(_PENDING, None)


# --- reading ------------------------------------------------------------------------------


def gbv_counts(scope: StatsScope) -> GbvCounts:
    """Every count of a report over the whole months of ``scope``, in one statement."""
    t = StatisticsCount
    organisation = scope.organisation_id if scope.organisation_id is not None else ALL
    in_period = t.period.between(scope.first_month, scope.last_month)
    if scope.area_id is None:
        areas = [t.area_id == ALL]
        leaf_areas = [t.area_id != ALL]
    else:
        chosen = sorted(subtree_ids(area_tree(), scope.area_id))
        areas = leaf_areas = [t.area_id.in_(chosen)]
    by_period = case((t.measure == TYPE, t.period), else_=0)
    totals = (
        select(t.measure, by_period, literal(ALL), t.key_a, t.key_b, func.sum(t.count))
        .where(t.organisation_id == organisation, t.measure.in_(MEASURES), *areas, in_period)
        .group_by(t.measure, by_period, t.key_a, t.key_b)
    )
    by_area = (
        select(literal(AREA), literal(0), t.area_id, t.key_a, t.key_b, func.sum(t.count))
        .where(t.organisation_id == organisation, t.measure == TYPE, *leaf_areas, in_period)
        .group_by(t.area_id, t.key_a, t.key_b)
    )
    now = utcnow()
    today = now.astimezone(UTC).date().isoformat()
    overdue = select(
        literal(OVERDUE), literal(0), literal(ALL), literal(""), literal(""), func.sum(t.count)
    ).where(
        t.organisation_id == organisation,
        or_(
            and_(t.measure == AWAITING_DAY, t.key_a < today),
            and_(t.measure == AWAITING_AT, t.key_a >= today, t.key_a < _instant_key(now)),
        ),
        *areas,
        in_period,
    )
    counts = GbvCounts()
    window, stale = _window_key(), False
    statement = totals.union_all(by_area, overdue)
    for measure, period, area, key_a, key_b, total in db.session.execute(statement):
        n = int(total or 0)
        if measure == TYPE:
            add(counts.by_month_type, (int(period), IncidentType(key_a)), n)
        elif measure == AREA:
            add(counts.by_area_type, (int(area), IncidentType(key_a)), n)
        elif measure == TYPE_SEX:
            add(counts.by_type_sex, (IncidentType(key_a), Sex(key_b)), n)
        elif measure == AGE_SEX:
            add(counts.by_age_sex, (AgeGroup(key_a), Sex(key_b)), n)
        elif measure == DELAY:
            add(counts.by_delay, ReportingDelay(key_a), n)
        elif measure == CONTEXT:
            add(counts.by_context, key_a, n)
        elif measure == RAPE:
            if key_b != window:
                stale = stale or n != 0
            elif key_a == "yes":
                counts.rape_reached += n
            else:
                counts.rape_not_reached += n
        elif measure == REFERRAL:
            add(counts.by_sector_state, (Sector(key_a), ReferralState(key_b)), n)
        elif measure == TO_ACCEPTANCE:
            add(counts.to_acceptance, int(key_a), n)
        elif measure == TO_COMPLETION:
            add(counts.to_completion, int(key_a), n)
        elif measure == OVERDUE:
            counts.overdue = n
    if stale:
        # The PEP window was configured anew since the counts were kept: count the rape
        # incidents from the rows until `referral statistics rebuild` has run.
        log.warning("statistics counts hold another PEP window: run `statistics rebuild`")
        counts.rape_reached, counts.rape_not_reached = rape_health_care_from_rows(scope)
    return counts
