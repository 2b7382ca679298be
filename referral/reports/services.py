"""GBV statistics (R24) and the anonymised incident-level export (R25).

Every count is a GROUP BY in the database over the *counted incidents*: incidents of a
GBVIMS core type whose survivor consented to anonymous statistics (a granted, not
withdrawn statistics consent) and which are not flagged as already reported by another
organisation. Referral figures count referrals from the cases behind counted incidents;
a case may hold several incidents, and a referral names the one it concerns, so a figure
about an incident (health care within the PEP window, the export's referral columns)
takes only the referrals made for that incident.
Every table leaves this module through ``suppress``; derived figures (shares, medians)
through ``safe_share`` / ``safe_median_of_middle``.

The GBV coordinator sees all organisations together (a shared report: no agency
identifiers, no table by organisation); a supervisor sees the own organisation only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import format_decimal, gettext
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
    literal,
    null,
    select,
    union_all,
)

from referral import formatting
from referral.cases.labels import INCIDENT_TYPE_LABELS
from referral.cases.models import (
    Case,
    Incident,
    IncidentType,
    PreviouslyReported,
    ReportingDelay,
)
from referral.clinical import Care, window_lengths, within_window_sql
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.directory.labels import AGE_GROUP_LABELS, SECTOR_LABELS, SEX_LABELS
from referral.directory.models import AgeGroup, Area, Sector, Sex
from referral.extensions import db
from referral.referrals.models import (
    Consent,
    ConsentKind,
    Referral,
    ReferralState,
    SourceKind,
    overdue,
)
from referral.reports.labels import (
    CONTEXT_LABELS,
    DELAY_LABELS,
    GBV_TYPES,
    REFERRAL_STATE_LABELS,
    REFERRAL_STATES,
)
from referral.reports.suppression import (
    Cell,
    CountTable,
    SafeTable,
    configured_threshold,
    safe_count,
    safe_median_of_middle,
    safe_share,
    suppress,
)
from referral.security.policy import Permission, has_permission


def _(text: str, **variables: Any) -> str:
    """gettext, typed: every label of a report is a plain string."""
    return str(gettext(text, **variables))


# Medians are computed over at most this many durations (one query, newest first).
MEDIAN_SAMPLE_LIMIT = 50_000
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

    def parameters(self) -> dict[str, Any]:
        """For the audit trail (R25): what was asked, never a result."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "granularity": self.granularity.value,
            "scope": "all_organisations" if self.shared else "own_organisation",
            "area": area_public_id(self.area_id),
        }


def scope_for(
    user: User,
    start: date,
    end: date,
    granularity: Granularity,
    area_id: int | None = None,
) -> StatsScope:
    """The coordinator's view is shared (all organisations); everyone else's is own-org."""
    across = has_permission(user, Permission.GBV_STATISTICS_ALL_ORGANISATIONS)
    return StatsScope(start, end, granularity, None if across else user.organisation_id, area_id)


def default_period() -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    today = utcnow().date()
    first = today.replace(day=1)
    for _month in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, today


# --- areas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaNode:
    id: int
    public_id: str
    name: str
    parent_id: int | None


def area_tree() -> dict[int, AreaNode]:
    """Every area, in one query (the administrative tree is small)."""
    rows = db.session.execute(select(Area.id, Area.public_id, Area.name, Area.parent_id))
    return {row.id: AreaNode(row.id, row.public_id, row.name, row.parent_id) for row in rows}


def area_public_id(area_id: int | None) -> str | None:
    if area_id is None:
        return None
    return db.session.scalar(select(Area.public_id).where(Area.id == area_id))


def area_path_choices() -> list[tuple[str, str]]:
    """(public id, "Country / Province / District") for the filter, sorted by that path
    (the directory's ``area_choices`` indents the tree instead)."""
    tree = area_tree()

    def path(node: AreaNode) -> str:
        names = [node.name]
        while node.parent_id is not None and node.parent_id in tree:
            node = tree[node.parent_id]
            names.append(node.name)
        return " / ".join(reversed(names))

    return sorted(((n.public_id, path(n)) for n in tree.values()), key=lambda c: c[1].lower())


def area_id_of(public_id: str) -> int | None:
    return db.session.scalar(select(Area.id).where(Area.public_id == public_id))


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
    """``column`` names the area or one below it (one query for the tree, cached)."""
    return column.in_(sorted(subtree_ids(area_tree(), area_id)))


def _ancestor_below(tree: dict[int, AreaNode], area_id: int, top: int | None) -> int | None:
    """The area one level below ``top`` (a root area when ``top`` is None) on the way up
    from ``area_id``; ``top`` itself when the incident is recorded at ``top``."""
    node = tree.get(area_id)
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        if node.id == top:
            return top
        if node.parent_id == top:
            return node.id
        node = tree.get(node.parent_id) if node.parent_id is not None else None
    return None


def scope_text(scope: StatsScope) -> str:
    if scope.shared:
        who = _("All contributing organisations (agency identifiers removed)")
    else:
        organisation = db.session.get(Organisation, scope.organisation_id)
        who = organisation.name if organisation else ""
    if scope.area_id is None:
        return who
    area = db.session.get(Area, scope.area_id)
    return f"{who} · {area.name}" if area else who


def period_text(scope: StatsScope) -> str:
    return _(
        "%(start)s to %(end)s, by %(unit)s",
        start=scope.start.isoformat(),
        end=scope.end.isoformat(),
        unit=_(scope.granularity.value),
    )


# --- the counted incidents --------------------------------------------------------------


def statistics_consent() -> ColumnElement[bool]:
    """R24: the case has a granted, not withdrawn consent to anonymous statistics."""
    return exists().where(
        Consent.source_kind == SourceKind.GBV_CASE,
        Consent.source_public_id == Case.public_id,
        Consent.kind == ConsentKind.STATISTICS,
        Consent.granted.is_(True),
        Consent.withdrawn_at.is_(None),
    )


def counted_incident_conditions(scope: StatsScope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        statistics_consent(),
        # R24: counted once; GBVIMS drops only incidents already reported to a GBVIMS
        # organisation (counted there), not those reported to others.
        Incident.previously_reported != PreviouslyReported.GBVIMS_ORG,
        Incident.incident_type.in_(GBV_TYPES),
        Incident.reported_on >= scope.start,
        Incident.reported_on <= scope.end,
    ]
    if scope.organisation_id is not None:
        conditions.append(Case.organisation_id == scope.organisation_id)
    if scope.area_id is not None:
        conditions.append(in_area(Case.area_id, scope.area_id))
    return conditions


def _incident_counts(scope: StatsScope, *columns: Any) -> dict[tuple[Any, ...], int]:
    statement = (
        select(*columns, func.count(Incident.id))
        .select_from(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(*counted_incident_conditions(scope))
        .group_by(*columns)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(statement)}


# --- periods ----------------------------------------------------------------------------


def periods_of(scope: StatsScope) -> list[tuple[int, int]]:
    """Every (year, sub-period) from start to end: month 1-12, quarter 1-4 or 0 for years."""
    result: list[tuple[int, int]] = []
    year, month = scope.start.year, scope.start.month
    while (year, month) <= (scope.end.year, scope.end.month):
        key = period_key(year, month, scope.granularity)
        if key not in result:
            result.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def period_key(year: int, month: int, granularity: Granularity) -> tuple[int, int]:
    if granularity is Granularity.MONTH:
        return (year, month)
    if granularity is Granularity.QUARTER:
        return (year, (month - 1) // 3 + 1)
    return (year, 0)


def period_label(key: tuple[int, int], granularity: Granularity) -> str:
    year, part = key
    if granularity is Granularity.MONTH:
        return f"{year}-{part:02d}"
    if granularity is Granularity.QUARTER:
        return f"{year} Q{part}"
    return str(year)


# --- the incident cube ---------------------------------------------------------------------


@dataclass(frozen=True)
class CubeCell:
    """One group of counted incidents sharing every dimension the tables cut by."""

    year: int
    month: int
    incident_type: IncidentType
    sex: Sex
    age_group: AgeGroup
    reporting_delay: ReportingDelay
    count: int
    flags: dict[str, int]


def _incident_cube(scope: StatsScope) -> list[CubeCell]:
    """One GROUP BY over the counted incidents by month, type, sex, age group and delay,
    with the context flags summed: at most 6 x 3 x 4 x 5 groups per month, whatever the
    number of incidents. The tables are sums over these groups."""
    year = cast(extract("year", Incident.reported_on), Integer)
    month = cast(extract("month", Incident.reported_on), Integer)
    dimensions = (
        year,
        month,
        Incident.incident_type,
        Case.sex,
        Case.age_group,
        Incident.reporting_delay,
    )
    flags = list(CONTEXT_LABELS)
    statement = (
        select(
            *dimensions,
            func.count(Incident.id),
            *[func.sum(cast(getattr(Incident, flag), Integer)) for flag in flags],
        )
        .select_from(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(*counted_incident_conditions(scope))
        .group_by(*dimensions)
    )
    return [
        CubeCell(
            int(row[0]),
            int(row[1]),
            row[2],
            row[3],
            row[4],
            row[5],
            int(row[6]),
            {flag: int(value or 0) for flag, value in zip(flags, row[7:], strict=True)},
        )
        for row in db.session.execute(statement)
    ]


def _sum_by(cube: list[CubeCell], key: Any) -> dict[tuple[Any, ...], int]:
    totals: dict[tuple[Any, ...], int] = {}
    for cell in cube:
        k = key(cell)
        totals[k] = totals.get(k, 0) + cell.count
    return totals


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    text: str


@dataclass
class StatsReport:
    scope: StatsScope
    threshold: int
    tables: list[SafeTable] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def build_table(
    title: str,
    row_header: str,
    rows: Sequence[tuple[Any, str]],
    columns: Sequence[tuple[Any, str]],
    counts: dict[tuple[Any, ...], int],
    threshold: int,
    *,
    totals: bool = True,
) -> SafeTable:
    values = [[counts.get((r, c), 0) for c, _label in columns] for r, _label in rows]
    table = CountTable.build(
        title,
        row_header,
        [label for _key, label in rows],
        [label for _key, label in columns],
        values,
        totals=totals,
    )
    return suppress(table, threshold)


def gbv_report(scope: StatsScope) -> StatsReport:
    threshold = configured_threshold()
    report = StatsReport(scope, threshold)
    types = [(t, str(INCIDENT_TYPE_LABELS[t])) for t in GBV_TYPES]
    sexes = [(s, str(SEX_LABELS[s])) for s in Sex]
    incidents = [(None, _("Incidents"))]

    cube = _incident_cube(scope)

    by_period: dict[tuple[Any, ...], int] = {}
    for cell in cube:
        key = (period_key(cell.year, cell.month, scope.granularity), cell.incident_type)
        by_period[key] = by_period.get(key, 0) + cell.count
    periods = [(p, period_label(p, scope.granularity)) for p in periods_of(scope)]
    report.tables.append(
        build_table(
            _("Incidents by period and type"), _("Period"), periods, types, by_period, threshold
        )
    )
    report.tables.append(
        build_table(
            _("Incidents by type and survivor sex"),
            _("Type"),
            types,
            sexes,
            _sum_by(cube, lambda c: (c.incident_type, c.sex)),
            threshold,
        )
    )
    ages = [(a, str(AGE_GROUP_LABELS[a])) for a in AgeGroup]
    report.tables.append(
        build_table(
            _("Incidents by survivor age group and sex"),
            _("Age group"),
            ages,
            sexes,
            _sum_by(cube, lambda c: (c.age_group, c.sex)),
            threshold,
        )
    )
    report.tables.append(_area_table(scope, types, threshold))
    report.tables.append(_context_table(cube, threshold))
    delays = [(d, str(DELAY_LABELS[d])) for d in ReportingDelay]
    report.tables.append(
        build_table(
            _("Incidents by reporting delay"),
            _("Reported after"),
            delays,
            incidents,
            _sum_by(cube, lambda c: (c.reporting_delay, None)),
            threshold,
        )
    )

    health_table, health_figure = _rape_health_care(scope, threshold)
    report.tables.append(health_table)
    report.figures.append(health_figure)

    referrals = _referral_statistics(scope, threshold)
    report.tables.append(_referrals_by_sector_state(referrals, threshold))
    report.figures.extend(_referral_figures(referrals, threshold))
    return report


def _area_table(scope: StatsScope, types: list[tuple[Any, str]], threshold: int) -> SafeTable:
    """Incidents by area one level below the chosen one (the top areas when none is)."""
    tree = area_tree()
    counts: dict[tuple[Any, ...], int] = {}
    for (area_id, kind), count in _incident_counts(
        scope, Case.area_id, Incident.incident_type
    ).items():
        row = _ancestor_below(tree, int(area_id), scope.area_id)
        if row is not None:
            counts[(row, kind)] = counts.get((row, kind), 0) + count
    if scope.area_id is None:
        row_ids = [n.id for n in tree.values() if n.parent_id is None]
    else:
        row_ids = [n.id for n in tree.values() if n.parent_id == scope.area_id]
        if any(key[0] == scope.area_id for key in counts):
            row_ids.append(scope.area_id)
    rows = sorted(((i, tree[i].name) for i in row_ids), key=lambda r: r[1].lower())
    return build_table(_("Incidents by area and type"), _("Area"), rows, types, counts, threshold)


def _context_table(cube: list[CubeCell], threshold: int) -> SafeTable:
    """Case context flags overlap (one incident may carry several): no totals."""
    counts: dict[tuple[Any, ...], int] = {}
    for cell in cube:
        for flag, value in cell.flags.items():
            counts[(flag, None)] = counts.get((flag, None), 0) + value
    return build_table(
        _("Incidents by case context (one incident can have several)"),
        _("Context"),
        [(flag, str(CONTEXT_LABELS[flag])) for flag in CONTEXT_LABELS],
        [(None, _("Incidents"))],
        counts,
        threshold,
        totals=False,
    )


# --- durations ----------------------------------------------------------------------------


def seconds_between(start: Any, end: Any) -> ColumnElement[float]:
    """Portable number of seconds from ``start`` to ``end`` (two instants)."""
    if db.engine.dialect.name == "postgresql":
        return cast(extract("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _rape_health_care(scope: StatsScope, threshold: int) -> tuple[SafeTable, Figure]:
    """Share of rape incidents whose survivor reached health care (a health referral
    accepted) within the PEP window, counted from the incident."""
    hours = int(window_lengths()[Care.PEP].total_seconds() // 3600)
    in_time = exists().where(
        Referral.source_kind == SourceKind.GBV_CASE,
        Referral.source_public_id == Case.public_id,
        # the health referral made for this incident, not for another of the case
        Referral.incident_public_id == Incident.public_id,
        Referral.sector == Sector.HEALTH,
        Referral.state.in_(ACCEPTED_STATES),
        Referral.responded_at.is_not(None),
        within_window_sql(Care.PEP, seconds_between(Incident.incident_at, Referral.responded_at)),
    )
    statement = (
        select(func.count(Incident.id), func.sum(case((in_time, 1), else_=0)))
        .select_from(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(*counted_incident_conditions(scope), Incident.incident_type == IncidentType.RAPE)
    )
    total, reached = db.session.execute(statement).one()
    total, reached = int(total or 0), int(reached or 0)
    rows = [
        ("yes", _("Reached health care within %(h)d hours", h=hours)),
        ("no", _("Later, or not through a referral")),
    ]
    counts = {("yes", None): reached, ("no", None): total - reached}
    table = build_table(
        _("Rape incidents: health care within %(h)d hours", h=hours),
        _("Health care"),
        rows,
        [(None, _("Rape incidents"))],
        counts,
        threshold,
    )
    share = safe_share(reached, total, threshold)
    return table, Figure(
        _("Rape survivors reaching health care within %(h)d hours", h=hours),
        percent_text(share),
    )


# --- referrals ----------------------------------------------------------------------------


def _referral_conditions(scope: StatsScope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Referral.source_kind == SourceKind.GBV_CASE,
        Referral.state != ReferralState.DRAFT,
        Referral.sent_at >= scope.start_at,
        Referral.sent_at < scope.end_before,
        statistics_consent(),
        # A referral about an incident already reported to a GBVIMS organisation is
        # counted there, as the incident is; one about another incident of the same
        # case (or about none) is counted here.
        ~exists().where(
            Incident.case_id == Case.id,
            Incident.public_id == Referral.incident_public_id,
            Incident.previously_reported == PreviouslyReported.GBVIMS_ORG,
        ),
    ]
    if scope.organisation_id is not None:
        conditions.append(Case.organisation_id == scope.organisation_id)
    if scope.area_id is not None:
        conditions.append(in_area(Case.area_id, scope.area_id))
    return conditions


def _referrals(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Referral)
        .join(Case, Case.public_id == Referral.source_public_id)
    )


@dataclass(frozen=True)
class ReferralStatistics:
    """The counted referrals by (sector, state), how many are overdue now, and the safe
    medians of the seconds from sending to acceptance and to completion."""

    by_sector_state: dict[tuple[Any, ...], int]
    overdue: int
    median_to_acceptance: float | None
    median_to_completion: float | None

    def in_states(self, states: Sequence[ReferralState]) -> int:
        return sum(n for (_sector, state), n in self.by_sector_state.items() if state in states)


def _referral_statistics(scope: StatsScope, threshold: int) -> ReferralStatistics:
    """Every referral figure in one statement that reads the counted referrals once (a
    common table expression): counts by sector and state with the overdue ones, and for
    each median the size and middle value or two of its sample, the newest referrals (at
    most MEDIAN_SAMPLE_LIMIT) sorted by the database, so no list of durations travels
    to Python; ``safe_median_of_middle`` then gives what ``safe_median`` would."""
    answered = and_(Referral.state.in_(ACCEPTED_STATES), Referral.responded_at.is_not(None))
    completed = and_(Referral.state == ReferralState.COMPLETED, Referral.finished_at.is_not(None))
    late = overdue(utcnow())  # the inboxes' definition (R12)
    counted = (
        _referrals(
            Referral.sector.label("sector"),
            Referral.state.label("state"),
            case((late, 1), else_=0).label("overdue"),
            case((answered, seconds_between(Referral.sent_at, Referral.responded_at))).label(
                "to_acceptance"
            ),
            case((completed, seconds_between(Referral.sent_at, Referral.finished_at))).label(
                "to_completion"
            ),
            Referral.sent_at.label("sent_at"),
        )
        .where(*_referral_conditions(scope))
        .cte("counted_referrals")
    )
    counts = select(
        literal("count").label("part"),
        counted.c.sector,
        counted.c.state,
        func.count().label("number"),
        func.sum(counted.c.overdue).label("overdue"),
        cast(null(), Float).label("seconds"),
    ).group_by(counted.c.sector, counted.c.state)

    def middle(part: str, seconds: Any) -> Select[Any]:
        sample = (
            select(seconds.label("seconds"))
            .where(seconds.is_not(None))
            .order_by(counted.c.sent_at.desc())
            .limit(MEDIAN_SAMPLE_LIMIT)
            .subquery()
        )
        ranked = select(
            sample.c.seconds,
            func.row_number().over(order_by=sample.c.seconds).label("position"),
            func.count().over().label("size"),
        ).subquery()
        # positions (size + 1) / 2 when the size is odd, size / 2 and size / 2 + 1 when even
        twice_position = 2 * ranked.c.position
        return select(literal(part), null(), null(), ranked.c.size, null(), ranked.c.seconds).where(
            twice_position >= ranked.c.size, twice_position <= ranked.c.size + 2
        )

    statement = union_all(
        counts,
        middle("acceptance", counted.c.to_acceptance),
        middle("completion", counted.c.to_completion),
    )
    by_sector_state: dict[tuple[Any, ...], int] = {}
    n_overdue = 0
    sizes: dict[str, int] = {}
    middles: dict[str, list[float]] = {"acceptance": [], "completion": []}
    for part, sector, state, number, overdue_count, seconds in db.session.execute(statement):
        if part == "count":
            by_sector_state[(sector, state)] = int(number)
            n_overdue += int(overdue_count or 0)
        else:
            sizes[part] = int(number)
            middles[part].append(float(seconds))
    return ReferralStatistics(
        by_sector_state,
        n_overdue,
        safe_median_of_middle(sizes.get("acceptance", 0), middles["acceptance"], threshold),
        safe_median_of_middle(sizes.get("completion", 0), middles["completion"], threshold),
    )


def _referrals_by_sector_state(referrals: ReferralStatistics, threshold: int) -> SafeTable:
    sectors = [(s, str(SECTOR_LABELS[s])) for s in Sector]
    states = [(s, str(REFERRAL_STATE_LABELS[s])) for s in REFERRAL_STATES]
    return build_table(
        _("Referrals by sector and state"),
        _("Sector"),
        sectors,
        states,
        referrals.by_sector_state,
        threshold,
    )


def _referral_figures(referrals: ReferralStatistics, threshold: int) -> list[Figure]:
    n_accepted = referrals.in_states(ACCEPTED_STATES)
    n_declined = referrals.in_states((ReferralState.DECLINED,))
    return [
        Figure(
            _("Acceptance rate (accepted of answered referrals)"),
            percent_text(safe_share(n_accepted, n_accepted + n_declined, threshold)),
        ),
        Figure(_("Median time to acceptance"), duration_text(referrals.median_to_acceptance)),
        Figure(_("Median time to completion"), duration_text(referrals.median_to_completion)),
        Figure(
            _("Referrals overdue now (no answer past the deadline)"),
            _cell(referrals.overdue, threshold),
        ),
    ]


def percent_text(share: float | None) -> str:
    if share is None:
        return _("not published (too few to be safe)")
    return formatting.percent_text(share)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return _("not published (too few to be safe)")
    hours = seconds / 3600
    if hours < 48:
        return _("%(n)s hours", n=format_decimal(hours, "#,##0.0"))
    return _("%(n)s days", n=format_decimal(hours / 24, "#,##0.0"))


def _cell(value: int, threshold: int) -> str:
    cell: Cell = safe_count(value, threshold)
    return cell.text


# --- anonymised incident-level export (Incident Recorder layout) ----------------------------

# Sectors asked about in the Incident Recorder's "Did you refer the client to ...?" columns.
_REFERRAL_COLUMNS: tuple[tuple[Sector, str], ...] = (
    (Sector.SHELTER, "Did you refer the client to a safe house/safe shelter?"),
    (Sector.HEALTH, "Did you refer the client to health/medical services?"),
    (Sector.PSYCHOSOCIAL, "Did you refer the client to psychosocial services?"),
    (Sector.LEGAL_AID, "Did you refer the client to legal assistance services?"),
    (Sector.SAFETY_SECURITY, "Did you refer the client to the police/other security actor?"),
    (Sector.LIVELIHOODS, "Did you refer the client to a livelihoods program?"),
)

# Only non-identifying, non-encrypted columns, in the Incident Recorder's order. Dates are
# cut to the month; no code, id, name, contact, location detail or free text leaves.
INCIDENT_EXPORT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Month of interview", Incident.reported_on),
    ("Month of incident", Incident.incident_at),
    ("Reporting delay", Incident.reporting_delay),
    ("Survivor age group", Case.age_group),
    ("Sex", Case.sex),
    ("Displacement status at time of report", Case.displacement_status),
    ("Person with disability?", Case.has_disability),
    ("Unaccompanied minor, separated child?", Case.unaccompanied_or_separated),
    ("Time of day that incident took place", Incident.time_of_day),
    ("Incident location (type)", Incident.location_type),
    ("GBV type", Incident.incident_type),
    ("Were money, goods, benefits, and/or services exchanged?", Incident.goods_or_money_exchanged),
    ("Abduction at time of the incident?", Incident.abduction),
    ("No. of alleged primary perpetrator(s)", Incident.perpetrator_count),
    ("Sex of alleged perpetrator(s)", Incident.perpetrator_sex),
    ("Age group of alleged perpetrator", Incident.perpetrator_age_group),
    ("Alleged perpetrator relationship with survivor", Incident.perpetrator_relationship),
    ("Child sexual abuse", Incident.child_sexual_abuse),
    ("Early marriage", Incident.early_marriage),
    ("Possible sexual exploitation", Incident.possible_sexual_exploitation),
    ("Intimate partner violence", Incident.intimate_partner_violence),
    ("Possible sexual slavery", Incident.possible_sexual_slavery),
    ("Harmful traditional practice", Incident.harmful_traditional_practice),
)


def incident_export_statement(scope: StatsScope) -> Select[Any]:
    """One query: the counted incidents of one organisation with their referral sectors."""
    if scope.organisation_id is None:
        raise ValueError("the incident-level export is for one organisation only")
    referred = [
        exists()
        .where(
            Referral.source_kind == SourceKind.GBV_CASE,
            Referral.source_public_id == Case.public_id,
            Referral.incident_public_id == Incident.public_id,
            Referral.sector == sector,
            Referral.state != ReferralState.DRAFT,
        )
        .label(f"referred_{sector.value}")
        for sector, _heading in _REFERRAL_COLUMNS
    ]
    return (
        select(*[column for _heading, column in INCIDENT_EXPORT_COLUMNS], *referred)
        .select_from(Incident)
        .join(Case, Case.id == Incident.case_id)
        .where(*counted_incident_conditions(scope))
        .order_by(Incident.reported_on, Incident.id)
    )


def incident_export(scope: StatsScope) -> tuple[list[str], list[list[Any]]]:
    """Header and rows; the first column numbers the rows of this file only."""
    header = [
        "Incident number",
        *[heading for heading, _column in INCIDENT_EXPORT_COLUMNS],
        *[heading for _sector, heading in _REFERRAL_COLUMNS],
    ]
    rows: list[list[Any]] = []
    for number, row in enumerate(db.session.execute(incident_export_statement(scope)), 1):
        values = [_export_value(value) for value in row]
        rows.append([number, *values])
    return header, rows


def _export_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m")
    if isinstance(value, StrEnum):
        return value.value
    return value
