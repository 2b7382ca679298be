"""Master-key rotation: every encrypted column found from the metadata, walked in
keyset batches and re-encrypted under the current master key, resumably."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Column, FromClause, MetaData, Table, func, null, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from referral.security.crypto.errors import DecryptionError, EncryptionError
from referral.security.crypto.fields import EncryptedBlob
from referral.security.crypto.keyring import KeyRing
from referral.security.crypto.owners import owner_sql
from referral.security.crypto.sealed import KIND_DATA_KEY, Binding, Sealed


@dataclass(frozen=True, slots=True)
class EncryptedColumnRef:
    table: Table
    column: Column[Any]
    primary_key: Column[Any]
    public_id: Column[Any]
    # Each row's owner record in SQL (None: the table's rows have none), and the table
    # joined with what that expression reads.
    owner: ColumnElement[str] | None = None
    source: FromClause | None = None

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column.name}"

    def binding(self, public_id: str, owner: str | None) -> Binding:
        return Binding(self.table.name, self.column.name, public_id, owner)


@dataclass(slots=True)
class RotationReport:
    moved: dict[str, int] = field(default_factory=dict)
    already_current: int = 0
    data_key_values: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def total_moved(self) -> int:
        return sum(self.moved.values())


def encrypted_columns(metadata: MetaData) -> list[EncryptedColumnRef]:
    """Every column of type :class:`EncryptedBlob` in the metadata, with its binding columns."""
    refs: list[EncryptedColumnRef] = []
    for table in metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, EncryptedBlob)]
        if not cols:
            continue
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or "public_id" not in table.c:
            raise EncryptionError(
                f"table {table.name} has encrypted columns but no single-column primary "
                "key and public_id"
            )
        owner, source = owner_sql(table)
        refs.extend(
            EncryptedColumnRef(table, c, pk[0], table.c.public_id, owner, source) for c in cols
        )
    return refs


def count_encrypted_values(session: Session, metadata: MetaData) -> int:
    total = 0
    for ref in encrypted_columns(metadata):
        stmt = select(func.count()).select_from(ref.table).where(ref.column.is_not(None))
        total += session.execute(stmt).scalar_one()
    return total


def value_batches(
    session: Session, ref: EncryptedColumnRef, batch_size: int
) -> Iterator[list[tuple[Any, str, str | None, Sealed]]]:
    """The column's non-empty values as (primary key, public id, owner, sealed value), in
    keyset batches over the primary key: bounded memory, safe to commit between batches."""
    last: Any = None
    owner = ref.owner if ref.owner is not None else null()
    while True:
        stmt = (
            select(ref.primary_key, ref.public_id, owner, ref.column)
            .select_from(ref.source if ref.source is not None else ref.table)
            .where(ref.column.is_not(None))
            .order_by(ref.primary_key)
            .limit(batch_size)
        )
        if last is not None:
            stmt = stmt.where(ref.primary_key > last)
        rows = [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rotate_keys(
    session: Session,
    keyring: KeyRing,
    metadata: MetaData,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> RotationReport:
    """Re-encrypt every master-key value under the current key.

    Walks each encrypted column by keyset over the primary key and commits per batch.
    Each value names its key, so an interrupted run is simply run again: values
    already under the current key are skipped. An update only lands if the stored
    value is still the one that was read (compare-and-set), so a concurrent edit is
    never overwritten. ``progress`` receives the number of values examined per batch.
    Values under record data keys are left alone: their data keys are re-wrapped
    instead (``referral.lifecycle.keys``).
    """
    report = RotationReport()
    for ref in encrypted_columns(metadata):
        for rows in value_batches(session, ref, batch_size):
            for pk, public_id, owner, sealed in rows:
                try:
                    if sealed.kind == KIND_DATA_KEY:
                        report.data_key_values += 1
                        continue
                    if not keyring.needs_rotation(sealed):
                        report.already_current += 1
                        continue
                    old_id = sealed.key_id
                    new = keyring.reseal(sealed, ref.binding(public_id, owner))
                except DecryptionError as exc:
                    report.failures.append(f"{ref.label} {public_id}: {exc}")
                    continue
                result = session.execute(
                    update(ref.table)
                    .where(ref.primary_key == pk, ref.column == sealed)
                    .values({ref.column: new})
                )
                if cast("Any", result).rowcount == 1:
                    report.moved[old_id] = report.moved.get(old_id, 0) + 1
            session.commit()
            if progress is not None:
                progress(len(rows))
    return report
