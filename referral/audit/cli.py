"""`keys generate` and `audit verify|export` commands (`keys rotate|check`: lifecycle)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO

import click
from flask.cli import with_appcontext

from referral.audit import services
from referral.extensions import db
from referral.security.crypto import generate_key_entry


@click.group("keys", help="Encryption keys.")
def keys_group() -> None:
    pass


@keys_group.command("generate")
@click.option("--id", "key_id", default=None, help="Key id (default: date and random suffix).")
def generate_key(key_id: str | None) -> None:
    """Print a new key entry 'keyid:key'. Put it FIRST in REFERRAL_ENCRYPTION_KEYS (or the
    key file), keep the old keys after it, then run `keys rotate`."""
    click.echo(generate_key_entry(key_id))


@click.group("audit", help="The audit trail.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@with_appcontext
def verify() -> None:
    """Check the whole hash chain; name the first broken or missing link."""
    result = services.verify_chain(db.session())
    db.session.rollback()
    if not result.ok:
        raise click.ClickException(result.message())
    click.echo(result.message())


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@audit_group.command("export")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="UTC date (or date and time) of the first event to export.",
)
@click.option(
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="File to write (default: standard output).",
)
@with_appcontext
def export(since: datetime, output: IO[str]) -> None:
    """Write events as JSON lines, oldest first, for shipping off-host."""
    flt = services.AuditFilter(since=_as_utc(since))
    count = 0
    for line in services.json_lines(services.iter_events(db.session(), flt)):
        output.write(line)
        count += 1
    services.record("audit.export", detail={"format": "jsonl", "count": count, **flt.as_detail()})
    db.session.commit()
    click.echo(f"Exported {count} events.", err=True)
