"""`referral statistics rebuild | check`: the kept GBV statistics counts."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from referral.audit.services import record
from referral.cases.models import Case, Incident
from referral.extensions import db
from referral.referrals.models import Referral
from referral.reports import counters
from referral.reports.counted import Granularity, StatsScope, whole_months
from referral.reports.services import oracle_counts


@click.group("statistics", help="The GBV statistics counts kept with every change.")
def statistics_group() -> None:
    pass


@statistics_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Count everything again from the incidents and referrals (after a bulk load, a
    restore, or a change of the PEP window)."""
    rows = counters.rebuild(db.session.connection())
    record("statistics.rebuilt", detail={"count_rows": rows})
    db.session.commit()
    click.echo(f"Statistics counts rebuilt: {rows:,} rows.")


@statistics_group.command("check")
@with_appcontext
def check_command() -> None:
    """Compare the kept counts with counting from the rows, for every organisation
    together and for each one, over every month that holds data."""
    sent = db.session.scalar(select(func.min(Referral.sent_at)))
    days = [db.session.scalar(select(func.min(Incident.reported_on))), sent and sent.date()]
    known = [day for day in days if day is not None]
    if not known:
        click.echo("No incidents or referrals: nothing to check.")
        return
    first = min(known)
    last = date(9000, 1, 31)  # every month that can hold data
    organisations = [None, *db.session.scalars(select(Case.organisation_id).distinct())]
    differing = []
    for organisation in organisations:
        scope = whole_months(StatsScope(first, last, Granularity.MONTH, organisation))
        if counters.gbv_counts(scope) != oracle_counts(scope):
            differing.append("all organisations" if organisation is None else str(organisation))
    db.session.rollback()
    if differing:
        raise click.ClickException(
            "the kept counts differ from the rows for: "
            + ", ".join(differing)
            + " (run `referral statistics rebuild`)"
        )
    click.echo(f"Statistics counts agree with the rows ({len(organisations)} scopes).")
