"""GBV statistics (R24) and the anonymised incident-level export (R25).

What is counted is defined in ``counted``: incidents of a GBVIMS core type whose survivor
consented to anonymous statistics (a granted, not withdrawn statistics consent) and which
are not flagged as already reported to a GBVIMS organisation. Referral figures count
referrals from the cases behind counted incidents; a case may hold several incidents, and
a referral names the one it concerns, so a figure about an incident (health care within
the PEP window, the export's referral columns) takes only the referrals made for it.

The report is built from counts kept up to date with every change (``counters``) over
whole months; :func:`oracle_counts` counts the same from the rows and is the definition
they are tested against. Every table leaves this module through ``suppress``; derived
figures (shares, medians) through ``safe_share`` / ``safe_median_of_middle``.

The GBV coordinator sees all organisations together (a shared report: no agency
identifiers, no table by organisation); a supervisor sees the own organisation only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import format_decimal
from sqlalchemy import Integer, Select, cast, exists, func, select

from referral import formatting
from referral.cases.labels import INCIDENT_TYPE_LABELS
from referral.cases.models import (
    Case,
    Incident,
    ReportingDelay,
)
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.directory.labels import AGE_GROUP_LABELS, SECTOR_LABELS, SEX_LABELS
from referral.directory.models import AgeGroup, Area, Sector, Sex
from referral.extensions import db
from referral.messages import translated
from referral.referrals.models import Referral, ReferralState, SourceKind, overdue
from referral.reports import counters
from referral.reports.counted import (
    ACCEPTED_STATES,
    AreaNode,
    GbvCounts,
    Granularity,
    StatsScope,
    add,
    answered_seconds,
    area_public_id,
    area_tree,
    completed_seconds,
    counted_incident_conditions,
    counted_incidents,
    date_month,
    duration_bucket,
    in_area,
    median_of_histogram,
    pep_hours,
    rape_health_care_from_rows,
    referral_conditions,
    referrals_of_cases,
    seconds_between,
    statistics_consent,
    subtree_ids,
    whole_months,
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

# Defined in ``counted``; the rest of the app reads them from here.
__all__ = [
    "ACCEPTED_STATES",
    "Granularity",
    "StatsScope",
    "area_public_id",
    "area_tree",
    "counted_incident_conditions",
    "in_area",
    "seconds_between",
    "statistics_consent",
    "subtree_ids",
]


def _(text: str, **variables: Any) -> str:
    """gettext, typed: every label of a report is a plain string (the catalogue's text
    kept per language, referral.messages)."""
    return translated(text, **variables)


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


# --- the oracle: every count straight from the incidents and referrals ------------------------


def oracle_counts(scope: StatsScope) -> GbvCounts:
    """Every count of the report from the rows of the period: the definition the kept
    counts (``counters.gbv_counts``) must agree with. Slow on much data; the tests and
    ``referral statistics check`` use it."""
    counts = GbvCounts()
    flags = list(CONTEXT_LABELS)
    dimensions = (
        date_month(Incident.reported_on),
        Incident.incident_type,
        Case.sex,
        Case.age_group,
        Incident.reporting_delay,
        Case.area_id,
    )
    cube = (
        counted_incidents(
            *dimensions,
            func.count(Incident.id),
            *[func.sum(cast(getattr(Incident, flag), Integer)) for flag in flags],
        )
        .where(*counted_incident_conditions(scope))
        .group_by(*dimensions)
    )
    for month, kind, sex, age, delay, area_id, n, *flag_sums in db.session.execute(cube):
        add(counts.by_month_type, (int(month), kind), int(n))
        add(counts.by_type_sex, (kind, sex), int(n))
        add(counts.by_age_sex, (age, sex), int(n))
        add(counts.by_delay, delay, int(n))
        add(counts.by_area_type, (int(area_id), kind), int(n))
        for flag, value in zip(flags, flag_sums, strict=True):
            add(counts.by_context, flag, int(value or 0))

    counts.rape_reached, counts.rape_not_reached = rape_health_care_from_rows(scope)

    referrals = referrals_of_cases(
        Referral.sector,
        Referral.state,
        answered_seconds().label("to_acceptance"),
        completed_seconds().label("to_completion"),
    ).where(*referral_conditions(scope))
    for sector, state, to_acceptance, to_completion in db.session.execute(referrals):
        add(counts.by_sector_state, (sector, state), 1)
        if to_acceptance is not None:
            add(counts.to_acceptance, duration_bucket(float(to_acceptance)), 1)
        if to_completion is not None:
            add(counts.to_completion, duration_bucket(float(to_completion)), 1)
    counts.overdue = overdue_now(scope)
    return counts


def overdue_now(scope: StatsScope) -> int:
    """Counted referrals of the period waiting for an answer past their deadline now
    (R12's definition of overdue, the inboxes' own)."""
    statement = referrals_of_cases(func.count(Referral.id)).where(
        *referral_conditions(scope), overdue(utcnow())
    )
    return int(db.session.scalar(statement) or 0)


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


def gbv_report(scope: StatsScope, *, oracle: bool = False) -> StatsReport:
    """The GBV report over the whole months of ``scope``, from the kept counts (or, with
    ``oracle``, counted from the rows: the same tables, slowly)."""
    scope = whole_months(scope)
    counts = oracle_counts(scope) if oracle else counters.gbv_counts(scope)
    return report_of(scope, counts)


def report_of(scope: StatsScope, counts: GbvCounts) -> StatsReport:
    threshold = configured_threshold()
    report = StatsReport(scope, threshold)
    types = [(t, str(INCIDENT_TYPE_LABELS[t])) for t in GBV_TYPES]
    sexes = [(s, str(SEX_LABELS[s])) for s in Sex]
    incidents = [(None, _("Incidents"))]

    by_period: dict[tuple[Any, ...], int] = {}
    for (month, kind), n in counts.by_month_type.items():
        key = (period_key(month // 100, month % 100, scope.granularity), kind)
        by_period[key] = by_period.get(key, 0) + n
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
            dict(counts.by_type_sex),
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
            dict(counts.by_age_sex),
            threshold,
        )
    )
    report.tables.append(_area_table(scope, counts, types, threshold))
    report.tables.append(_context_table(counts, threshold))
    delays = [(d, str(DELAY_LABELS[d])) for d in ReportingDelay]
    report.tables.append(
        build_table(
            _("Incidents by reporting delay"),
            _("Reported after"),
            delays,
            incidents,
            {(delay, None): n for delay, n in counts.by_delay.items()},
            threshold,
        )
    )

    health_table, health_figure = _rape_health_care(counts, threshold)
    report.tables.append(health_table)
    report.figures.append(health_figure)

    report.tables.append(_referrals_by_sector_state(counts, threshold))
    report.figures.extend(_referral_figures(counts, threshold))
    return report


def _area_table(
    scope: StatsScope, counts: GbvCounts, types: list[tuple[Any, str]], threshold: int
) -> SafeTable:
    """Incidents by area one level below the chosen one (the top areas when none is)."""
    tree = area_tree()
    by_area: dict[tuple[Any, ...], int] = {}
    for (area_id, kind), count in counts.by_area_type.items():
        row = _ancestor_below(tree, area_id, scope.area_id)
        if row is not None:
            by_area[(row, kind)] = by_area.get((row, kind), 0) + count
    if scope.area_id is None:
        row_ids = [n.id for n in tree.values() if n.parent_id is None]
    else:
        row_ids = [n.id for n in tree.values() if n.parent_id == scope.area_id]
        if any(key[0] == scope.area_id for key in by_area):
            row_ids.append(scope.area_id)
    rows = sorted(((i, tree[i].name) for i in row_ids), key=lambda r: r[1].lower())
    return build_table(_("Incidents by area and type"), _("Area"), rows, types, by_area, threshold)


def _context_table(counts: GbvCounts, threshold: int) -> SafeTable:
    """Case context flags overlap (one incident may carry several): no totals."""
    return build_table(
        _("Incidents by case context (one incident can have several)"),
        _("Context"),
        [(flag, str(CONTEXT_LABELS[flag])) for flag in CONTEXT_LABELS],
        [(None, _("Incidents"))],
        {(flag, None): n for flag, n in counts.by_context.items()},
        threshold,
        totals=False,
    )


def _rape_health_care(counts: GbvCounts, threshold: int) -> tuple[SafeTable, Figure]:
    """Share of rape incidents whose survivor reached health care (a health referral
    accepted) within the PEP window, counted from the incident."""
    hours = pep_hours()
    reached, total = counts.rape_reached, counts.rape_reached + counts.rape_not_reached
    rows = [
        ("yes", _("Reached health care within %(h)d hours", h=hours)),
        ("no", _("Later, or not through a referral")),
    ]
    table = build_table(
        _("Rape incidents: health care within %(h)d hours", h=hours),
        _("Health care"),
        rows,
        [(None, _("Rape incidents"))],
        {("yes", None): reached, ("no", None): total - reached},
        threshold,
    )
    share = safe_share(reached, total, threshold)
    return table, Figure(
        _("Rape survivors reaching health care within %(h)d hours", h=hours),
        percent_text(share),
    )


def _referrals_by_sector_state(counts: GbvCounts, threshold: int) -> SafeTable:
    sectors = [(s, str(SECTOR_LABELS[s])) for s in Sector]
    states = [(s, str(REFERRAL_STATE_LABELS[s])) for s in REFERRAL_STATES]
    return build_table(
        _("Referrals by sector and state"),
        _("Sector"),
        sectors,
        states,
        dict(counts.by_sector_state),
        threshold,
    )


def _in_states(counts: GbvCounts, states: Sequence[ReferralState]) -> int:
    return sum(n for (_sector, state), n in counts.by_sector_state.items() if state in states)


def _median(histogram: dict[int, int], threshold: int) -> float | None:
    median = median_of_histogram(histogram)
    return safe_median_of_middle(median.size, median.middle, threshold)


def _referral_figures(counts: GbvCounts, threshold: int) -> list[Figure]:
    n_accepted = _in_states(counts, ACCEPTED_STATES)
    n_declined = _in_states(counts, (ReferralState.DECLINED,))
    return [
        Figure(
            _("Acceptance rate (accepted of answered referrals)"),
            percent_text(safe_share(n_accepted, n_accepted + n_declined, threshold)),
        ),
        Figure(
            _("Median time to acceptance"),
            duration_text(_median(counts.to_acceptance, threshold)),
        ),
        Figure(
            _("Median time to completion"),
            duration_text(_median(counts.to_completion, threshold)),
        ),
        Figure(
            _("Referrals overdue now (no answer past the deadline)"),
            _cell(counts.overdue, threshold),
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
