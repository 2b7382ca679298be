"""`keys rotate [--full]`, `keys check`, `retention purge [--dry-run]`, `backup`, `restore`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from referral.audit import record
from referral.audit.cli import keys_group
from referral.audit.models import Outcome
from referral.audit.services import verify_chain
from referral.extensions import db
from referral.lifecycle import backup as backups
from referral.lifecycle import keys, retention
from referral.security.crypto import (
    KEYRING_EXTENSION,
    KeyRing,
    count_encrypted_values,
    rotate_keys,
)


def _keyring() -> KeyRing:
    ring: KeyRing = current_app.extensions[KEYRING_EXTENSION]
    return ring


def _fail_on(failures: list[str], what: str) -> None:
    if failures:
        for failure in failures[:20]:
            click.echo(f"  FAILED {failure}", err=True)
        raise click.ClickException(
            f"{len(failures)} {what} could not be decrypted; they keep their old key. "
            "Do not remove old keys until this is resolved."
        )


@keys_group.command("rotate")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--full",
    is_flag=True,
    help="Also give every record a new data key and re-encrypt every value (slow).",
)
@with_appcontext
def rotate(batch_size: int, full: bool) -> None:
    """Move everything to the newest master key. Safe to interrupt and run again.

    Default: re-wrap the record data keys (fast) and re-encrypt the few values sealed
    directly under a master key. --full: new data keys and every value re-encrypted.
    """
    keyring = _keyring()
    session = db.session()
    click.echo(f"Current key: {keyring.current_key_id}.")
    total_keys = keys.count_record_keys(session)
    with click.progressbar(
        length=total_keys, label="Re-wrapping data keys", file=sys.stderr
    ) as bar:
        rewrap = keys.rewrap_data_keys(session, keyring, batch_size=batch_size, progress=bar.update)
    for key_id, count in sorted(rewrap.rewrapped.items()):
        click.echo(f"  data keys re-wrapped from {key_id}: {count}")
    detail: dict[str, object] = {
        "current": keyring.current_key_id,
        "full": full,
        "rewrapped": rewrap.rewrapped,
    }
    failures = list(rewrap.failures)
    total = count_encrypted_values(session, db.metadata)
    if full:
        with click.progressbar(length=total, label="Re-encrypting", file=sys.stderr) as bar:
            report = keys.reencrypt_everything(
                session, keyring, db.metadata, batch_size=batch_size, progress=bar.update
            )
        click.echo(f"  new data keys: {report.keys_renewed}")
        click.echo(f"  values re-encrypted under new data keys: {report.values_moved}")
        click.echo(f"  values moved to {keyring.current_key_id}: {report.master_values_moved}")
        detail.update(keys_renewed=report.keys_renewed, values_moved=report.values_moved)
        failures += report.failures
    else:
        with click.progressbar(length=total, label="Re-encrypting", file=sys.stderr) as bar:
            moved = rotate_keys(
                session, keyring, db.metadata, batch_size=batch_size, progress=bar.update
            )
        for key_id, count in sorted(moved.moved.items()):
            click.echo(f"  moved from {key_id}: {count}")
        click.echo(f"  already under {keyring.current_key_id}: {moved.already_current}")
        if moved.data_key_values:
            click.echo(f"  under record data keys (their keys re-wrapped): {moved.data_key_values}")
        detail["moved"] = moved.moved
        failures += moved.failures
    detail["failures"] = len(failures)
    record("keys.rotate", outcome=Outcome.ERROR if failures else Outcome.ALLOWED, detail=detail)
    db.session.commit()
    _fail_on(failures, "values or data keys")
    click.echo(
        "Done. Old keys may be removed from the configuration once every instance runs "
        "with the new key first and no backup you keep still needs them."
    )


@keys_group.command("check")
@with_appcontext
def check() -> None:
    """Try to decrypt every encrypted value and data key; list what fails."""
    keyring = _keyring()
    session = db.session()
    total = count_encrypted_values(session, db.metadata)
    with click.progressbar(length=total, label="Checking", file=sys.stderr) as bar:
        report = keys.check_values(session, keyring, db.metadata, progress=bar.update)
    click.echo(f"{report.opened} values decrypt with the configured keys.")
    if report.shredded:
        click.echo(f"{report.shredded} values belong to purged records (keys destroyed).")
    if report.failures:
        for failure in report.failures[:50]:
            click.echo(f"  FAILED {failure}", err=True)
        raise click.ClickException(f"{len(report.failures)} values or keys do not decrypt.")


@click.group("retention", help="Retention of closed records (R26).")
def retention_group() -> None:
    pass


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
@with_appcontext
def purge(dry_run: bool) -> None:
    """Destroy the data keys of records past their retention period and anonymise them.

    One transaction per record: safe to interrupt and run again. Held records stay.
    """
    session = db.session()
    config = current_app.config
    for item in retention.retained_models():
        days = retention.retention_days(config, item.rule)
        click.echo(
            f"{item.rule.owner_type}: "
            + (f"kept {days} days after closure" if days else "kept forever (0 days)")
        )
    if dry_run:
        count = 0
        for expired in retention.find_expired(session, config):
            click.echo(
                f"  would purge {expired.owner_type} {expired.public_id} "
                f"(closed {expired.closed_at:%Y-%m-%d})"
            )
            count += 1
        session.rollback()
        click.echo(f"{count} records would be purged (dry run: nothing changed).")
        return
    report = retention.purge(
        session, config, progress=lambda e: click.echo(f"  purged {e.owner_type} {e.public_id}")
    )
    click.echo(f"{len(report.purged)} records purged.")
    if report.skipped:
        click.echo(f"{len(report.skipped)} skipped (held or changed meanwhile).")
    if report.purged:
        click.echo(
            "Backups taken before now still hold these records' keys, wrapped under master "
            f"key {_keyring().current_key_id}. To make those copies unreadable: `keys generate`, "
            "put the new key first, `keys rotate`, take a new backup, then remove the old "
            "key once the older backups are gone."
        )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent backup of the running database to PATH (a new file)."""
    try:
        backups.backup(db.engine, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    record("backup.created", detail={"engine": db.engine.dialect.name, "file": path.name})
    db.session.commit()
    click.echo(f"Backup written to {path}. Keep it with the master keys it needs, apart.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore PATH into the configured database, which must be empty; then verify it."""
    try:
        backups.restore(db.engine, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.remove()
    session = db.session()
    chain = verify_chain(session)
    session.rollback()
    click.echo(chain.message())
    report = keys.check_values(session, _keyring(), db.metadata)
    click.echo(
        f"{report.opened} encrypted values decrypt; {report.shredded} belong to purged records."
    )
    if not chain.ok or report.failures:
        for failure in report.failures[:50]:
            click.echo(f"  FAILED {failure}", err=True)
        raise click.ClickException(
            "restored, but the audit chain or some encrypted values do not check out"
        )
    record("backup.restored", detail={"file": path.name})
    db.session.commit()
    click.echo(f"Restored {path} into {backups.describe_url(str(db.engine.url))}.")
