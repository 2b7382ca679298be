"""Consistent backups while the application runs, and restore into an empty database.

SQLite: the ``sqlite3`` online backup API copies a consistent snapshot page by page
while other connections keep reading and writing.

PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot in one transaction;
writers are not blocked) and ``pg_restore`` into an empty database. The password, if
any, goes to the tools through ``PGPASSWORD``, never on the command line. Restore runs
``--exit-on-error --single-transaction``: it either restores everything or nothing.
Both tools must be the server's major version or newer.

Keys are never in a backup: the master keys live in the configuration. A backup is
only readable with the master keys that wrapped its record data keys (keep them as
long as you keep the backup; retire them to shred purged records in old backups).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine, make_url


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


def _sqlite_path(url: URL) -> str:
    database = url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return database


def _pg_command(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise BackupError(f"{tool} is not installed (apt-get install postgresql-client)")
    return found


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection options without the password, and the environment with it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    conninfo = plain.render_as_string(hide_password=False)
    return [f"--dbname={conninfo}"], env


def backup(engine: Engine, path: str | os.PathLike[str]) -> Path:
    """Write a consistent backup of the database to ``path`` (which must not exist)."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    url = engine.url
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    sqlite_source = _sqlite_path(url) if url.get_backend_name() == "sqlite" else ""
    # Readable by this user alone from the first byte written.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if sqlite_source:
        source = sqlite3.connect(sqlite_source, timeout=30)
        try:
            dest = sqlite3.connect(target)
            try:
                with dest:
                    source.backup(dest, pages=1024)
            finally:
                dest.close()
        finally:
            source.close()
        return target
    if url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        result = subprocess.run(  # noqa: S603 - fixed tool, no shell
            [
                _pg_command("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            target.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return target


def is_empty(engine: Engine) -> bool:
    """True if the database has no table at all (alembic_version included)."""
    return not inspect(engine).get_table_names()


def restore(engine: Engine, path: str | os.PathLike[str]) -> None:
    """Restore ``path`` into the database of ``engine``, which must be empty."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if not is_empty(engine):
        raise BackupError(
            "the target database is not empty; restore only into a new, empty database "
            "(nothing was changed)"
        )
    url = engine.url
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        engine.dispose()
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if src.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"{source} is not a sound SQLite database")
            dest = sqlite3.connect(target, timeout=30)
            try:
                with dest:
                    src.backup(dest)
            finally:
                dest.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite database: {exc}") from exc
        finally:
            src.close()
        return
    if url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        engine.dispose()
        result = subprocess.run(  # noqa: S603 - fixed tool, no shell
            [
                _pg_command("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                *args,
                str(source),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        return
    raise BackupError(f"restores into {url.get_backend_name()} databases are not supported")


def describe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
