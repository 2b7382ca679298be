"""`keys generate|rotate` and `audit verify|export` commands."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext

from referral.audit import services
from referral.audit.models import Outcome
from referral.extensions import db
from referral.security.crypto import (
    KEYRING_EXTENSION,
    KeyRing,
    count_encrypted_values,
    generate_key_entry,
    rotate_keys,
)


@click.group("keys", help="Encryption keys.")
def keys_group() -> None:
    pass


@keys_group.command("generate")
@click.option("--id", "key_id", default=None, help="Key id (default: date and random suffix).")
def generate_key(key_id: str | None) -> None:
    """Print a new key entry 'keyid:key'. Put it FIRST in REFERRAL_ENCRYPTION_KEYS (or the
    key file), keep the old keys after it, then run `keys rotate`."""
    click.echo(generate_key_entry(key_id))


@keys_group.command("rotate")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def rotate(batch_size: int) -> None:
    """Re-encrypt every value under the newest key. Safe to interrupt and run again."""
    keyring: KeyRing = current_app.extensions[KEYRING_EXTENSION]
    total = count_encrypted_values(db.session(), db.metadata)
    click.echo(f"Current key: {keyring.current_key_id}; {total} encrypted values to check.")
    with click.progressbar(length=total, label="Re-encrypting", file=sys.stderr) as bar:
        report = rotate_keys(
            db.session(), keyring, db.metadata, batch_size=batch_size, progress=bar.update
        )
    for key_id, count in sorted(report.moved.items()):
        click.echo(f"  moved from {key_id}: {count}")
    click.echo(f"  already under {keyring.current_key_id}: {report.already_current}")
    if report.data_key_values:
        click.echo(f"  under record data keys (not touched): {report.data_key_values}")
    services.record(
        "keys.rotate",
        outcome=Outcome.ERROR if report.failures else Outcome.ALLOWED,
        detail={
            "moved": report.moved,
            "current": keyring.current_key_id,
            "failures": len(report.failures),
        },
    )
    db.session.commit()
    if report.failures:
        for failure in report.failures[:20]:
            click.echo(f"  FAILED {failure}", err=True)
        raise click.ClickException(
            f"{len(report.failures)} values could not be decrypted; they keep their old key. "
            "Do not remove old keys until this is resolved."
        )
    click.echo(
        "Done. Old keys may be removed from the configuration once every "
        "instance runs with the new key first."
    )


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
