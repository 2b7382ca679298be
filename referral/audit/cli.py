"""`keys generate`, `audit verify|checkpoint|export` and `db grant-app-role` commands
(`keys rotate|check`: lifecycle)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO

import click
from flask.cli import with_appcontext

from referral.audit import app_role, services
from referral.extensions import db
from referral.security.crypto import generate_key_entry


@click.group("keys", help="Encryption keys.")
def keys_group() -> None:
    pass


@keys_group.command("generate")
@click.option("--id", "key_id", default=None, help="Key id (default: date and random suffix).")
def generate_key(key_id: str | None) -> None:
    """Print a new key entry 'keyid:key'. A master key: put it FIRST in
    REFERRAL_ENCRYPTION_KEYS (or the key file), keep the old keys after it, then run
    `keys rotate`. An audit key: put it first in REFERRAL_AUDIT_KEYS, keep the old ones."""
    click.echo(generate_key_entry(key_id))


@click.group("audit", help="The audit trail.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@click.option(
    "--checkpoints",
    "checkpoint_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="File of signed checkpoints (`audit checkpoint`) kept off the database: the "
    "chain must still hold every event they name, unchanged.",
)
@with_appcontext
def verify(checkpoint_file: IO[str] | None) -> None:
    """Check the whole keyed hash chain; name the first broken or missing link."""
    try:
        checkpoints = services.read_checkpoints(checkpoint_file) if checkpoint_file else []
    except services.CheckpointError as error:
        raise click.ClickException(str(error)) from error
    result = services.verify_chain(db.session(), checkpoints=checkpoints)
    db.session.rollback()
    if not result.ok:
        raise click.ClickException(result.message())
    click.echo(result.message())


@audit_group.command("checkpoint")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Append the checkpoint to this file (default: standard output, e.g. for "
    "shipping off-host). Keep it away from the database and its owner.",
)
@with_appcontext
def checkpoint(out: str | None) -> None:
    """Verify the chain, then write its head (last event id and hash) signed with the
    audit key, one JSON line. `audit verify --checkpoints FILE` later finds any event
    removed or changed up to it, head moved back included."""
    result = services.verify_chain(db.session())
    db.session.rollback()
    if not result.ok:
        raise click.ClickException(f"not checkpointed: {result.message()}")
    line = services.sign_checkpoint(result).to_line()
    if out is None:
        click.echo(line, nl=False)
    else:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(line)
        click.echo(f"Checkpoint of event {result.last_id} appended to {out}.", err=True)
    services.record("audit.checkpoint", detail={"last_id": result.last_id})
    db.session.commit()


@click.command("grant-app-role")
@click.argument("role")
@click.option("--create/--no-create", default=True, help="Create the role if it is missing.")
@click.option("--print-sql", is_flag=True, help="Print the statements instead of running them.")
@with_appcontext
def grant_app_role(role: str, create: bool, print_sql: bool) -> None:
    """PostgreSQL: give ROLE, the role the application runs as, read and write rights on
    every table but the audit trail, where it may only read and append. Run it as the
    database owner after every `db upgrade`; the migrations keep running as the owner."""
    try:
        grants = app_role.plan(db.session(), role, create=create)
    except app_role.RoleError as error:
        raise click.ClickException(str(error)) from error
    if print_sql:
        db.session.rollback()
        for statement in grants:
            click.echo(statement + ";")
        return
    app_role.apply(db.session(), grants)
    db.session.commit()
    click.echo(
        f"{role}: read and write on the application's tables, read and append only on "
        "the audit trail. Give it a password in psql with \\password {role} (sends only "
        "a hash), run the application as this role and the migrations as the owner."
    )


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
