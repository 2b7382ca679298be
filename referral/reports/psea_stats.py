"""PSEA statistics for the PSEA network coordinator (R17-R21, R24).

A network-wide (shared) report: allegations are counted by entity *type* and personnel
category, never by organisation. Counts are GROUP BYs in the database; every table goes
through ``suppress`` and every derived figure through ``safe_share`` / ``safe_median``.
Assistance referrals are the referral engine's referrals from victim-assistance records.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from sqlalchemy import ColumnElement, Integer, and_, case, cast, extract, func, select

from referral.directory.labels import SECTOR_LABELS
from referral.directory.models import Sector
from referral.extensions import db
from referral.psea.labels import (
    CATEGORY_LABELS,
    ENTITY_TYPE_LABELS,
    OUTCOME_LABELS,
    PERSONNEL_LABELS,
    SURVIVOR_AGE_LABELS,
    SURVIVOR_SEX_LABELS,
)
from referral.psea.models import (
    Allegation,
    Category,
    EntityType,
    Outcome,
    PersonnelCategory,
    SurvivorAgeGroup,
    SurvivorGroup,
    SurvivorSex,
)
from referral.referrals.models import Referral, ReferralState, SourceKind
from referral.reports.labels import REFERRAL_STATE_LABELS, REFERRAL_STATES
from referral.reports.services import (
    Figure,
    StatsReport,
    StatsScope,
    build_table,
    duration_text,
    in_area,
    percent_text,
    period_key,
    period_label,
    periods_of,
    seconds_between,
)
from referral.reports.suppression import configured_threshold, safe_median, safe_share

MEDIAN_SAMPLE_LIMIT = 50_000


def _(text: str, **variables: Any) -> str:
    return str(gettext(text, **variables))


def _conditions(scope: StatsScope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Allegation.received_at >= scope.start_at,
        Allegation.received_at < scope.end_before,
    ]
    if scope.area_id is not None:
        conditions.append(in_area(Allegation.area_id, scope.area_id))
    return conditions


def _counts(scope: StatsScope, *columns: Any) -> dict[tuple[Any, ...], int]:
    statement = (
        select(*columns, func.count(Allegation.id)).where(*_conditions(scope)).group_by(*columns)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(statement)}


def psea_report(scope: StatsScope) -> StatsReport:
    """The same report shape as the GBV one: suppressed tables and safe figures."""
    threshold = configured_threshold()
    report = StatsReport(scope, threshold)
    categories = [(c, str(CATEGORY_LABELS[c])) for c in Category]
    allegations = [(None, _("Allegations"))]

    year = cast(extract("year", Allegation.received_at), Integer)
    month = cast(extract("month", Allegation.received_at), Integer)
    by_period: dict[tuple[Any, ...], int] = {}
    for (y, m, category), count in _counts(scope, year, month, Allegation.category).items():
        key = (period_key(int(y), int(m), scope.granularity), category)
        by_period[key] = by_period.get(key, 0) + count
    periods = [(p, period_label(p, scope.granularity)) for p in periods_of(scope)]
    report.tables.append(
        build_table(
            _("Allegations by month received and category"),
            _("Period"),
            periods,
            categories,
            by_period,
            threshold,
        )
    )

    personnel = [(p, str(PERSONNEL_LABELS[p])) for p in PersonnelCategory]
    report.tables.append(
        build_table(
            _("Allegations by personnel category and category"),
            _("Personnel"),
            personnel,
            categories,
            _counts(scope, Allegation.personnel_category, Allegation.category),
            threshold,
        )
    )

    entities = [(e, str(ENTITY_TYPE_LABELS[e])) for e in EntityType]
    by_entity = {(e, None): n for (e,), n in _counts(scope, Allegation.entity_type).items()}
    report.tables.append(
        build_table(
            _("Allegations by type of entity"),
            _("Entity type"),
            entities,
            allegations,
            by_entity,
            threshold,
        )
    )

    report.tables.append(_survivors(scope, threshold))

    outcomes: list[tuple[Any, str]] = [(o, str(OUTCOME_LABELS[o])) for o in Outcome]
    outcomes.append((None, _("No outcome reported yet")))
    by_outcome = {(o, None): n for (o,), n in _counts(scope, Allegation.outcome).items()}
    report.tables.append(
        build_table(
            _("Allegations by outcome category reported by the entity"),
            _("Outcome"),
            outcomes,
            allegations,
            by_outcome,
            threshold,
        )
    )

    routing_table, routing_figures = _routing(scope, threshold)
    report.tables.append(routing_table)
    report.figures.extend(routing_figures)
    report.tables.append(_assistance_referrals(scope, threshold))
    return report


def _survivors(scope: StatsScope, threshold: int) -> Any:
    """Survivors (not allegations) by age group and sex: the sum of the survivor groups."""
    statement = (
        select(SurvivorGroup.age_group, SurvivorGroup.sex, func.sum(SurvivorGroup.count))
        .join(Allegation, Allegation.id == SurvivorGroup.allegation_id)
        .where(*_conditions(scope))
        .group_by(SurvivorGroup.age_group, SurvivorGroup.sex)
    )
    counts = {(a, s): int(n or 0) for a, s, n in db.session.execute(statement)}
    return build_table(
        _("Survivors by age group and sex"),
        _("Age group"),
        [(a, str(SURVIVOR_AGE_LABELS[a])) for a in SurvivorAgeGroup],
        [(s, str(SURVIVOR_SEX_LABELS[s])) for s in SurvivorSex],
        counts,
        threshold,
    )


def _routing(scope: StatsScope, threshold: int) -> tuple[Any, list[Figure]]:
    """R19: routed and acknowledged within their deadlines; median routing time."""
    routed_in_time = func.sum(
        case(
            (
                and_(
                    Allegation.routed_at.is_not(None),
                    Allegation.routed_at <= Allegation.route_due_at,
                ),
                1,
            ),
            else_=0,
        )
    )
    routed = func.sum(case((Allegation.routed_at.is_not(None), 1), else_=0))
    acknowledged_in_time = func.sum(
        case(
            (
                and_(
                    Allegation.acknowledged_at.is_not(None),
                    Allegation.acknowledged_at <= Allegation.acknowledge_due_at,
                ),
                1,
            ),
            else_=0,
        )
    )
    acknowledgeable = func.sum(case((Allegation.acknowledge_due_at.is_not(None), 1), else_=0))
    row = db.session.execute(
        select(
            func.count(Allegation.id), routed, routed_in_time, acknowledgeable, acknowledged_in_time
        ).where(*_conditions(scope))
    ).one()
    total, n_routed, n_routed_in_time, n_ackable, n_acked_in_time = (int(v or 0) for v in row)
    durations = [
        float(value)
        for value in db.session.scalars(
            select(seconds_between(Allegation.received_at, Allegation.routed_at))
            .where(*_conditions(scope), Allegation.routed_at.is_not(None))
            .order_by(Allegation.received_at.desc())
            .limit(MEDIAN_SAMPLE_LIMIT)
        )
        if value is not None
    ]
    table = build_table(
        _("Allegations by routing"),
        _("Routing"),
        [
            ("in_time", _("Routed within the deadline")),
            ("late", _("Routed after the deadline")),
            ("not_yet", _("Not routed yet")),
        ],
        [(None, _("Allegations"))],
        {
            ("in_time", None): n_routed_in_time,
            ("late", None): n_routed - n_routed_in_time,
            ("not_yet", None): total - n_routed,
        },
        threshold,
    )
    figures = [
        Figure(
            _("Routed within the deadline (of routed allegations)"),
            percent_text(safe_share(n_routed_in_time, n_routed, threshold)),
        ),
        Figure(
            _("Acknowledged by the entity within the deadline (of routed allegations)"),
            percent_text(safe_share(n_acked_in_time, n_ackable, threshold)),
        ),
        Figure(
            _("Median time from receipt to routing"),
            duration_text(safe_median(durations, threshold)),
        ),
    ]
    return table, figures


def _assistance_referrals(scope: StatsScope, threshold: int) -> Any:
    """R21: victim-assistance referrals into GBV services, by sector and state."""
    statement = (
        select(Referral.sector, Referral.state, func.count(Referral.id))
        .where(
            Referral.source_kind == SourceKind.ASSISTANCE,
            Referral.state != ReferralState.DRAFT,
            Referral.sent_at >= scope.start_at,
            Referral.sent_at < scope.end_before,
        )
        .group_by(Referral.sector, Referral.state)
    )
    counts = {(sector, state): int(n) for sector, state, n in db.session.execute(statement)}
    return build_table(
        _("Assistance referrals by sector and outcome"),
        _("Sector"),
        [(s, str(SECTOR_LABELS[s])) for s in Sector],
        [(s, str(REFERRAL_STATE_LABELS[s])) for s in REFERRAL_STATES],
        counts,
        threshold,
    )
