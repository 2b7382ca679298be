"""What GBV statistics count (R24), shared by the two ways of counting it.

The published tables are sums of :class:`GbvCounts`. ``services.oracle_counts`` finds
them with queries over the incidents and referrals of the period (the definition, kept
as the oracle); ``counters.gbv_counts`` reads them from the counts kept up to date in
the transaction of every change. Both use the conditions below, so they agree by
construction on *what* is counted and a property test checks that they agree on the
numbers.

A GBV statistics period is made of whole months: the counts are kept per calendar month
(in UTC for instants), and a report asked for from a day in a month starts on the first
of that month and ends on its last day (:func:`whole_months`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from flask import g, has_request_context
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    select,
)

from referral.cases.models import Case, Incident, IncidentType, PreviouslyReported, ReportingDelay
from referral.clinical import Care, window_lengths, within_window_sql
from referral.directory.models import AgeGroup, Area, Sector, Sex
from referral.extensions import db
from referral.referrals.models import Consent, ConsentKind, Referral, ReferralState, SourceKind
from referral.reports.labels import GBV_TYPES

ACCEPTED_STATES = (ReferralState.ACCEPTED, ReferralState.COMPLETED, ReferralState.CLOSED)


class Granularity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class StatsScope:
    """What a statistics request covers. ``organisation_id`` None: all organisations."""

    start: date
    end: date  # inclusive
    granularity: Granularity
    organisation_id: int | None
    # The chosen area (None: every area); incidents of its sub-areas count in it.
    area_id: int | None = None

    @property
    def shared(self) -> bool:
        return self.organisation_id is None

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def first_month(self) -> int:
        return month_number(self.start.year, self.start.month)

    @property
    def last_month(self) -> int:
        return month_number(self.end.year, self.end.month)

    def parameters(self) -> dict[str, Any]:
        """For the audit trail (R25): what was asked, never a result."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "granularity": self.granularity.value,
            "scope": "all_organisations" if self.shared else "own_organisation",
            "area": area_public_id(self.area_id),
        }


def whole_months(scope: StatsScope) -> StatsScope:
    """The scope from the first day of its first month to the last day of its last."""
    start = scope.start.replace(day=1)
    following = (scope.end.replace(day=28) + timedelta(days=4)).replace(day=1)
    return replace(scope, start=start, end=following - timedelta(days=1))


def month_number(year: int, month: int) -> int:
    """A calendar month as one sortable number: 2026-03 is 202603."""
    return year * 100 + month


# --- areas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaNode:
    id: int
    public_id: str
    name: str
    parent_id: int | None


_AREA_TREE = "reports_area_tree"


def area_tree() -> dict[int, AreaNode]:
    """Every area, in one query (the administrative tree is small); a request reads it
    once (the statistics page wants it for its area table, its filter and its scope)."""
    if has_request_context() and _AREA_TREE in g:
        tree: dict[int, AreaNode] = g.get(_AREA_TREE)
        return tree
    rows = db.session.execute(select(Area.id, Area.public_id, Area.name, Area.parent_id))
    tree = {row.id: AreaNode(row.id, row.public_id, row.name, row.parent_id) for row in rows}
    if has_request_context():
        setattr(g, _AREA_TREE, tree)
    return tree


def area_public_id(area_id: int | None) -> str | None:
    if area_id is None:
        return None
    return db.session.scalar(select(Area.public_id).where(Area.id == area_id))


def subtree_ids(tree: dict[int, AreaNode], root: int) -> set[int]:
    """The ids of ``root`` and of every area below it, from the loaded tree."""
    children: dict[int | None, list[int]] = {}
    for node in tree.values():
        children.setdefault(node.parent_id, []).append(node.id)
    found, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def in_area(column: SQLColumnExpression[Any], area_id: int) -> ColumnElement[bool]:
    """``column`` names the area or one below it (one query for the tree)."""
    return column.in_(sorted(subtree_ids(area_tree(), area_id)))


# --- the counted incidents and referrals (R24) ---------------------------------------------


def statistics_consent() -> ColumnElement[bool]:
    """R24: the case has a granted, not withdrawn consent to anonymous statistics."""
    return exists().where(
        Consent.source_kind == SourceKind.GBV_CASE,
        Consent.source_public_id == Case.public_id,
        Consent.kind == ConsentKind.STATISTICS,
        Consent.granted.is_(True),
        Consent.withdrawn_at.is_(None),
    )


def counted_incident() -> list[ColumnElement[bool]]:
    """R24 for an incident (joined to its case): consent, a GBVIMS core type, and not
    already reported to a GBVIMS organisation (counted there). Those reported to other
    organisations are counted here."""
    return [
        statistics_consent(),
        Incident.previously_reported != PreviouslyReported.GBVIMS_ORG,
        Incident.incident_type.in_(GBV_TYPES),
    ]


def seconds_between(start: Any, end: Any) -> ColumnElement[float]:
    """Portable number of seconds from ``start`` to ``end`` (two instants)."""
    if db.engine.dialect.name == "postgresql":
        return cast(extract("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def utc_month(instant: Any) -> ColumnElement[int]:
    """The UTC calendar month of an instant, as :func:`month_number` gives it."""
    if db.engine.dialect.name == "postgresql":
        instant = func.timezone("UTC", instant)
    return cast(extract("year", instant) * 100 + extract("month", instant), Integer)


def date_month(day: Any) -> ColumnElement[int]:
    return cast(extract("year", day) * 100 + extract("month", day), Integer)


def counted_incident_conditions(scope: StatsScope) -> list[ColumnElement[bool]]:
    conditions = [
        *counted_incident(),
        Incident.reported_on >= scope.start,
        Incident.reported_on <= scope.end,
    ]
    if scope.organisation_id is not None:
        conditions.append(Case.organisation_id == scope.organisation_id)
    if scope.area_id is not None:
        conditions.append(in_area(Case.area_id, scope.area_id))
    return conditions


def counted_incidents(*columns: Any) -> Select[Any]:
    return select(*columns).select_from(Incident).join(Case, Case.id == Incident.case_id)


def pep_reached() -> ColumnElement[bool]:
    """A rape incident whose survivor reached health care within the PEP window, counted
    from the incident: the health referral made for this incident (not for another of the
    case) was accepted within the window."""
    return exists().where(
        Referral.source_kind == SourceKind.GBV_CASE,
        Referral.source_public_id == Case.public_id,
        Referral.incident_public_id == Incident.public_id,
        Referral.sector == Sector.HEALTH,
        Referral.state.in_(ACCEPTED_STATES),
        Referral.responded_at.is_not(None),
        within_window_sql(Care.PEP, seconds_between(Incident.incident_at, Referral.responded_at)),
    )


def pep_hours() -> int:
    return int(window_lengths()[Care.PEP].total_seconds() // 3600)


def answered_seconds() -> ColumnElement[float | None]:
    """Seconds from sending to acceptance of an accepted referral (NULL otherwise)."""
    answered = and_(Referral.state.in_(ACCEPTED_STATES), Referral.responded_at.is_not(None))
    return case((answered, seconds_between(Referral.sent_at, Referral.responded_at)))


def completed_seconds() -> ColumnElement[float | None]:
    completed = and_(Referral.state == ReferralState.COMPLETED, Referral.finished_at.is_not(None))
    return case((completed, seconds_between(Referral.sent_at, Referral.finished_at)))


def counted_referral() -> list[ColumnElement[bool]]:
    """R24 for a referral (joined to its case): sent, from a consenting case, and not about
    an incident already reported to a GBVIMS organisation (counted there, as the incident
    is); one about another incident of the same case, or about none, is counted here."""
    return [
        Referral.source_kind == SourceKind.GBV_CASE,
        Referral.state != ReferralState.DRAFT,
        Referral.sent_at.is_not(None),
        statistics_consent(),
        ~exists().where(
            Incident.case_id == Case.id,
            Incident.public_id == Referral.incident_public_id,
            Incident.previously_reported == PreviouslyReported.GBVIMS_ORG,
        ),
    ]


def referral_conditions(scope: StatsScope) -> list[ColumnElement[bool]]:
    conditions = [
        *counted_referral(),
        Referral.sent_at >= scope.start_at,
        Referral.sent_at < scope.end_before,
    ]
    if scope.organisation_id is not None:
        conditions.append(Case.organisation_id == scope.organisation_id)
    if scope.area_id is not None:
        conditions.append(in_area(Case.area_id, scope.area_id))
    return conditions


def referrals_of_cases(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Referral)
        .join(Case, Case.public_id == Referral.source_public_id)
    )


def rape_health_care_from_rows(scope: StatsScope) -> tuple[int, int]:
    """Rape incidents of ``scope`` whose survivor reached health care within the PEP
    window, and those that did not, counted from the rows."""
    statement = counted_incidents(pep_reached()).where(
        *counted_incident_conditions(scope), Incident.incident_type == IncidentType.RAPE
    )
    reached = [bool(value) for (value,) in db.session.execute(statement)]
    return sum(reached), len(reached) - sum(reached)


# --- durations at the precision they are published ----------------------------------------

# A median duration is published in tenths of an hour under two days and in tenths of a
# day from then on; durations are counted in steps of that size (buckets), and the median
# is the start of the bucket in the middle, so it is exact at the precision shown.
_HOUR_TENTH = 360.0
_DAY_TENTH = 8640.0
_TWO_DAYS = 172_800.0
_HOUR_BUCKETS = int(_TWO_DAYS // _HOUR_TENTH)  # 480


def duration_bucket(seconds: float) -> int:
    # SQLite's julianday arithmetic is off by up to a tenth of a millisecond: whole
    # milliseconds are what the bucket is taken from.
    seconds = round(seconds, 3)
    if seconds < _TWO_DAYS:
        return math.floor(seconds / _HOUR_TENTH)
    return _HOUR_BUCKETS + math.floor((seconds - _TWO_DAYS) / _DAY_TENTH)


def bucket_start(bucket: int) -> float:
    """The first second of a bucket: the duration published for it."""
    if bucket < _HOUR_BUCKETS:
        return bucket * _HOUR_TENTH
    return _TWO_DAYS + (bucket - _HOUR_BUCKETS) * _DAY_TENTH


@dataclass(frozen=True)
class Median:
    """A median known by the number of values and its middle value or two (in seconds)."""

    size: int
    middle: tuple[float, ...]


def median_of_histogram(histogram: dict[int, int]) -> Median:
    """The middle bucket (odd size) or two middle buckets (even size) of counted buckets."""
    size = sum(n for n in histogram.values() if n > 0)
    if size == 0:
        return Median(0, ())
    wanted = [(size + 1) // 2] if size % 2 else [size // 2, size // 2 + 1]
    middle: list[float] = []
    seen = 0
    for bucket in sorted(b for b, n in histogram.items() if n > 0):
        seen += histogram[bucket]
        while wanted and wanted[0] <= seen:
            middle.append(bucket_start(bucket))
            wanted.pop(0)
    return Median(size, tuple(middle))


# --- what the tables are made of --------------------------------------------------------


@dataclass
class GbvCounts:
    """Every count a GBV report publishes, before suppression. Zero counts are left out."""

    # (month number, incident type)
    by_month_type: dict[tuple[int, IncidentType], int] = field(default_factory=dict)
    by_type_sex: dict[tuple[IncidentType, Sex], int] = field(default_factory=dict)
    by_age_sex: dict[tuple[AgeGroup, Sex], int] = field(default_factory=dict)
    by_delay: dict[ReportingDelay, int] = field(default_factory=dict)
    # context flag -> incidents carrying it
    by_context: dict[str, int] = field(default_factory=dict)
    # (the area the case is recorded in, incident type)
    by_area_type: dict[tuple[int, IncidentType], int] = field(default_factory=dict)
    # rape incidents whose survivor reached health care within the PEP window, and not
    rape_reached: int = 0
    rape_not_reached: int = 0
    by_sector_state: dict[tuple[Sector, ReferralState], int] = field(default_factory=dict)
    # duration bucket -> referrals (time to acceptance, time to completion)
    to_acceptance: dict[int, int] = field(default_factory=dict)
    to_completion: dict[int, int] = field(default_factory=dict)
    # counted referrals waiting for an answer past their deadline, at the time of reading
    overdue: int = 0


def add(counts: dict[Any, int], key: Any, n: int) -> None:
    if n:
        total = counts.get(key, 0) + n
        if total:
            counts[key] = total
        else:
            counts.pop(key)
