"""Record data keys: the app's data key store, master-key rewrap, full
re-encryption under new data keys, and a check that every value still opens.

Unwrapped data keys live only in the session that needed them (``session.info``) and
are forgotten at commit or rollback, so a key destroyed by a purge is not kept alive
in some process's memory.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from sqlalchemy import Table, bindparam, event, or_, select, text, update
from sqlalchemy.orm import Session

from referral.clock import utcnow
from referral.lifecycle.models import RecordKey, wrap_binding
from referral.security.crypto import (
    KEY_SIZE,
    KIND_DATA_KEY,
    DecryptionError,
    EncryptedColumnRef,
    EncryptionError,
    KeyRing,
    Sealed,
    ShreddedError,
    current_keyring,
    encrypted_columns,
    install_data_key_store,
    value_batches,
)

_KEYS = "referral_data_keys"  # key id -> key bytes
_OWNERS = "referral_data_key_owners"  # (owner type, public id) -> key id
Progress = Callable[[int], None]


def new_key_id() -> str:
    return "rk-" + secrets.token_hex(12)


def _cache(session: Session) -> dict[str, bytes]:
    return cast(dict[str, bytes], session.info.setdefault(_KEYS, {}))


def _owners(session: Session) -> dict[tuple[str, str], str]:
    return cast(dict[tuple[str, str], str], session.info.setdefault(_OWNERS, {}))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_keys(session: Session, *_: Any) -> None:
    session.info.pop(_KEYS, None)
    session.info.pop(_OWNERS, None)


def _unwrap(keyring: KeyRing, row: Any, *, previous: bool = False) -> bytes:
    key_id = row.previous_key_id if previous else row.key_id
    wrapped = row.previous_wrapped if previous else row.wrapped
    if wrapped is None:
        raise ShreddedError(f"record data key {key_id!r} was destroyed")
    binding = wrap_binding(row.owner_type, row.owner_public_id, key_id)
    return keyring.unwrap_data_key(Sealed(bytes(wrapped)), binding)


class RecordKeyStore:
    """The app's :class:`~referral.security.crypto.DataKeyStore`: data keys in ``record_keys``,
    wrapped by the master key."""

    def key_for(self, session: Session, owner_type: str, owner_public_id: str) -> tuple[str, bytes]:
        owners, cache = _owners(session), _cache(session)
        known = owners.get((owner_type, owner_public_id))
        if known is not None and known in cache:
            return known, cache[known]
        keyring = current_keyring()
        stmt = select(RecordKey).where(
            RecordKey.owner_type == owner_type, RecordKey.owner_public_id == owner_public_id
        )
        if session.get_bind().dialect.name == "postgresql":
            # A full re-encryption renews keys under FOR UPDATE: never seal with a key
            # that is being replaced.
            stmt = stmt.with_for_update(read=True)
        with session.no_autoflush:
            row = session.scalars(stmt).one_or_none()
        if row is None:
            key = AESGCM.generate_key(bit_length=KEY_SIZE * 8)
            key_id = new_key_id()
            wrapped = keyring.wrap_data_key(key, wrap_binding(owner_type, owner_public_id, key_id))
            session.add(
                RecordKey(
                    owner_type=owner_type,
                    owner_public_id=owner_public_id,
                    key_id=key_id,
                    wrapped=wrapped.raw,
                    master_key_id=keyring.current_key_id,
                )
            )
        else:
            if row.destroyed_at is not None or row.wrapped is None:
                raise EncryptionError(
                    f"{owner_type} {owner_public_id} was purged; nothing can be stored for it"
                )
            key_id, key = row.key_id, _unwrap(keyring, row)
        owners[(owner_type, owner_public_id)] = key_id
        cache[key_id] = key
        return key_id, key

    def resolve(self, session: Session, key_id: str) -> bytes:
        return resolve_in(session, current_keyring(), key_id)


def resolve_in(session: Session, keyring: KeyRing, key_id: str) -> bytes:
    """The data key ``key_id`` (current or, during a full rotation, previous)."""
    cache = _cache(session)
    if key_id in cache:
        return cache[key_id]
    table = cast(Table, RecordKey.__table__)
    row = session.execute(
        select(table).where(or_(table.c.key_id == key_id, table.c.previous_key_id == key_id))
    ).one_or_none()
    if row is None:
        raise LookupError(f"no record data key {key_id!r}")
    key = _unwrap(keyring, row, previous=row.key_id != key_id)
    cache[key_id] = key
    return key


def prefetch_keys(session: Session, keyring: KeyRing, key_ids: set[str]) -> None:
    """Unwrap the given data keys into the session cache with one query (batch work)."""
    cache = _cache(session)
    wanted = [k for k in key_ids if k not in cache]
    if not wanted:
        return
    table = cast(Table, RecordKey.__table__)
    rows = session.execute(
        select(table).where(or_(table.c.key_id.in_(wanted), table.c.previous_key_id.in_(wanted)))
    )
    for row in rows:
        for previous in (False, True):
            key_id = row.previous_key_id if previous else row.key_id
            wrapped = row.previous_wrapped if previous else row.wrapped
            if key_id in key_ids and wrapped is not None:
                # a key that fails is left out: resolve_in reports it for each value
                with contextlib.suppress(DecryptionError):
                    cache[key_id] = _unwrap(keyring, row, previous=previous)


def init_record_keys(app: Flask) -> None:
    """Install the record key table as the app's data key store."""
    install_data_key_store(app, RecordKeyStore())


# --------------------------------------------------------------------------- rewrap


@dataclass(slots=True)
class RewrapReport:
    rewrapped: dict[str, int] = field(default_factory=dict)
    already_current: int = 0
    failures: list[str] = field(default_factory=list)


def count_record_keys(session: Session) -> int:
    from sqlalchemy import func

    return int(
        session.execute(
            select(func.count()).select_from(RecordKey).where(RecordKey.wrapped.is_not(None))
        ).scalar_one()
    )


def _key_batches(session: Session, batch_size: int, *where: Any) -> Iterator[list[Any]]:
    table = cast(Table, RecordKey.__table__)
    last = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.id > last, *where).order_by(table.c.id).limit(batch_size)
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id


def rewrap_data_keys(
    session: Session, keyring: KeyRing, *, batch_size: int = 1000, progress: Progress | None = None
) -> RewrapReport:
    """Re-wrap every live data key under the current master key (values are untouched).

    One transaction per batch; a row is only updated if it still carries the master key
    id that was read (compare-and-set), so an interrupted run is simply run again.
    """
    table = cast(Table, RecordKey.__table__)
    report = RewrapReport()
    for rows in _key_batches(session, batch_size, table.c.wrapped.is_not(None)):
        params: list[dict[str, Any]] = []
        for row in rows:
            if row.master_key_id == keyring.current_key_id:
                report.already_current += 1
                continue
            try:
                key = _unwrap(keyring, row)
                binding = wrap_binding(row.owner_type, row.owner_public_id, row.key_id)
                previous = row.previous_wrapped
                if previous is not None:
                    old = _unwrap(keyring, row, previous=True)
                    pb = wrap_binding(row.owner_type, row.owner_public_id, row.previous_key_id)
                    previous = keyring.wrap_data_key(old, pb).raw
            except DecryptionError as exc:
                report.failures.append(f"record key {row.key_id}: {exc}")
                continue
            params.append(
                {
                    "b_id": row.id,
                    "b_old_master": row.master_key_id,
                    "b_wrapped": keyring.wrap_data_key(key, binding).raw,
                    "b_previous_wrapped": previous,
                }
            )
            old_id = str(row.master_key_id)
            report.rewrapped[old_id] = report.rewrapped.get(old_id, 0) + 1
        if params:  # compare-and-set on the master key id that was read
            session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .where(table.c.master_key_id == bindparam("b_old_master"))
                .values(
                    master_key_id=keyring.current_key_id,
                    wrapped=bindparam("b_wrapped"),
                    previous_wrapped=bindparam("b_previous_wrapped"),
                )
                .execution_options(synchronize_session=False),
                params,
            )
        session.commit()
        if progress is not None:
            progress(len(rows))
    return report


# --------------------------------------------------------------------------- full rotation


@dataclass(slots=True)
class ReencryptReport:
    keys_renewed: int = 0
    values_moved: int = 0
    master_values_moved: int = 0
    failures: list[str] = field(default_factory=list)


def renew_data_keys(
    session: Session, keyring: KeyRing, *, batch_size: int = 1000, progress: Progress | None = None
) -> int:
    """Phase 1 of a full rotation: give every live record a new data key.

    The key being replaced moves to ``previous_*`` so its values stay readable. Rows
    that already hold a previous key were renewed by an interrupted run and are skipped.
    """
    table = cast(Table, RecordKey.__table__)
    renewed = 0
    postgres = session.get_bind().dialect.name == "postgresql"
    for rows in _key_batches(
        session, batch_size, table.c.wrapped.is_not(None), table.c.previous_key_id.is_(None)
    ):
        ids = [r.id for r in rows]
        stmt = select(table).where(table.c.id.in_(ids), table.c.previous_key_id.is_(None))
        if postgres:
            stmt = stmt.with_for_update()
        params = []
        for row in session.execute(stmt.order_by(table.c.id)):
            old = _unwrap(keyring, row)
            key_id = new_key_id()
            new = AESGCM.generate_key(bit_length=KEY_SIZE * 8)
            params.append(
                {
                    "id": row.id,
                    "key_id": key_id,
                    "wrapped": keyring.wrap_data_key(
                        new, wrap_binding(row.owner_type, row.owner_public_id, key_id)
                    ).raw,
                    "previous_key_id": row.key_id,
                    "previous_wrapped": keyring.wrap_data_key(
                        old, wrap_binding(row.owner_type, row.owner_public_id, row.key_id)
                    ).raw,
                    "master_key_id": keyring.current_key_id,
                    "created_at": utcnow(),
                }
            )
        if params:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values({name: bindparam(f"b_{name}") for name in params[0] if name != "id"}),
                [{f"b_{k}": v for k, v in values.items()} for values in params],
            )
        session.commit()
        renewed += len(params)
        if progress is not None:
            progress(len(rows))
    return renewed


def _previous_to_current(session: Session, keyring: KeyRing, key_ids: set[str]) -> dict[str, Any]:
    """For values under ``key_ids`` (previous keys): key id -> (new id, new key, old key)."""
    table = cast(Table, RecordKey.__table__)
    out: dict[str, Any] = {}
    if not key_ids:
        return out
    for row in session.execute(select(table).where(table.c.previous_key_id.in_(key_ids))):
        out[row.previous_key_id] = (
            row.key_id,
            _unwrap(keyring, row),
            _unwrap(keyring, row, previous=True),
        )
    return out


def _constant(key: bytes) -> Callable[[str], bytes]:
    return lambda _key_id: key


def _update_values(
    session: Session, ref: EncryptedColumnRef, updates: list[tuple[Any, Sealed, Sealed]]
) -> None:
    """Write re-encrypted values, each only if the stored value is still the old one.

    PostgreSQL: one ``UPDATE ... FROM unnest(arrays)`` per batch (an executemany costs
    a round trip per row); elsewhere an executemany.
    """
    if session.get_bind().dialect.name == "postgresql":
        preparer = session.get_bind().dialect.identifier_preparer
        table = preparer.format_table(ref.table)
        col, pk = preparer.quote(ref.column.name), preparer.quote(ref.primary_key.name)
        session.execute(
            text(
                f"UPDATE {table} AS t SET {col} = u.new "  # noqa: S608 - names from metadata
                "FROM unnest(CAST(:pks AS bigint[]), CAST(:olds AS bytea[]), "
                "CAST(:news AS bytea[])) AS u(pk, old, new) "
                f"WHERE t.{pk} = u.pk AND t.{col} = u.old"
            ),
            {
                "pks": [pk_ for pk_, _, _ in updates],
                "olds": [old.raw for _, old, _ in updates],
                "news": [new.raw for _, _, new in updates],
            },
        )
        return
    session.execute(
        update(ref.table)
        .where(ref.primary_key == bindparam("b_pk"), ref.column == bindparam("b_old"))
        .values({ref.column.name: bindparam("b_new", type_=ref.column.type)}),
        [{"b_pk": pk, "b_old": old, "b_new": new} for pk, old, new in updates],
    )


def reseal_values(
    session: Session,
    keyring: KeyRing,
    ref: EncryptedColumnRef,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
    report: ReencryptReport,
) -> None:
    """Phase 2, one column: move data-key values from previous keys to the new keys,
    and master-key values to the current master key. Bounded memory: keyset batches."""
    for rows in value_batches(session, ref, batch_size):
        wanted = {s.key_id for *_, s in rows if s.kind == KIND_DATA_KEY}
        renewals = _previous_to_current(session, keyring, wanted)
        updates: list[tuple[Any, Sealed, Sealed]] = []
        for pk, public_id, owner, sealed in rows:
            binding = ref.binding(public_id, owner)
            try:
                if sealed.kind == KIND_DATA_KEY:
                    renewal = renewals.get(sealed.key_id)
                    if renewal is None:
                        continue  # already under a current data key (or purged)
                    new_id, new_key, old_key = renewal
                    plaintext = keyring.open(sealed, binding, data_keys=_constant(old_key))
                    new = keyring.seal_with_data_key(plaintext, binding, new_id, new_key)
                    report.values_moved += 1
                elif keyring.needs_rotation(sealed):
                    new = keyring.reseal(sealed, binding)
                    report.master_values_moved += 1
                else:
                    continue
            except DecryptionError as exc:
                report.failures.append(f"{ref.label} {public_id}: {exc}")
                continue
            updates.append((pk, sealed, new))
        if updates:  # compare-and-set: a value edited meanwhile is kept
            _update_values(session, ref, updates)
        session.commit()
        if progress is not None:
            progress(len(rows))


def forget_previous_keys(session: Session, *, batch_size: int = 5000) -> None:
    """Phase 3: every value is under a new key; drop the replaced keys."""
    table = cast(Table, RecordKey.__table__)
    for rows in _key_batches(session, batch_size, table.c.previous_key_id.is_not(None)):
        session.execute(
            update(table)
            .where(table.c.id.in_([r.id for r in rows]))
            .values(previous_key_id=None, previous_wrapped=None)
        )
        session.commit()


def reencrypt_everything(
    session: Session,
    keyring: KeyRing,
    metadata: Any,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> ReencryptReport:
    """Full rotation: new data keys for every record, every value re-encrypted.

    Resumable: run it again after an interruption. Phase 1 skips rows already renewed,
    phase 2 skips values already under their record's new key, phase 3 runs only once
    phase 2 has finished without failures (otherwise the previous keys are kept).
    """
    report = ReencryptReport()
    report.keys_renewed = renew_data_keys(session, keyring, batch_size=batch_size)
    for ref in encrypted_columns(metadata):
        reseal_values(
            session, keyring, ref, batch_size=batch_size, progress=progress, report=report
        )
    if not report.failures:
        forget_previous_keys(session)
    return report


# --------------------------------------------------------------------------- owner binding


@dataclass(slots=True)
class OwnerBindingReport:
    rebound: int = 0
    already: int = 0
    failures: list[str] = field(default_factory=list)


def bind_values_to_owners(
    session: Session,
    keyring: KeyRing,
    metadata: Any,
    *,
    unbind: bool = False,
    batch_size: int = 1000,
    progress: Progress | None = None,
    tables: Collection[str] | None = None,
) -> OwnerBindingReport:
    """Re-seal every value of a row that has an owner record so that it is bound to that
    owner as well (``unbind``: back to the binding without owner, for a downgrade).

    For values written before owners were bound. Each value stays under the key it was
    sealed with; a value that already opens under the wanted binding is skipped, so an
    interrupted run is simply run again. Updates are compare-and-set, like a rotation.
    """
    report = OwnerBindingReport()

    def data_keys(key_id: str) -> bytes:
        return resolve_in(session, keyring, key_id)

    for ref in encrypted_columns(metadata):
        if ref.owner is None:
            continue
        if tables is not None and ref.table.name not in tables:
            continue  # a table a later migration creates (``tables``: those there now)
        for rows in value_batches(session, ref, batch_size):
            prefetch_keys(session, keyring, {s.key_id for *_, s in rows if s.kind == KIND_DATA_KEY})
            updates: list[tuple[Any, Sealed, Sealed]] = []
            for pk, public_id, owner, sealed in rows:
                bound = ref.binding(public_id, owner)
                wanted, given = (bound.unowned(), bound) if unbind else (bound, bound.unowned())
                try:
                    try:
                        keyring.open(sealed, wanted, data_keys=data_keys, quiet=True)
                        report.already += 1
                        continue
                    except ShreddedError:
                        continue  # purged (R26): nothing left to bind
                    except DecryptionError:
                        plaintext = keyring.open(sealed, given, data_keys=data_keys)
                    if sealed.kind == KIND_DATA_KEY:
                        key = data_keys(sealed.key_id)
                        new = keyring.seal_with_data_key(plaintext, wanted, sealed.key_id, key)
                    else:
                        new = keyring.seal(plaintext, wanted)
                except DecryptionError as exc:
                    report.failures.append(f"{ref.label} {public_id}: {exc}")
                    continue
                updates.append((pk, sealed, new))
            if updates:
                _update_values(session, ref, updates)
                report.rebound += len(updates)
            session.info.pop(_KEYS, None)  # bounded memory
            if progress is not None:
                progress(len(rows))
    return report


# --------------------------------------------------------------------------- check


@dataclass(slots=True)
class CheckReport:
    opened: int = 0
    shredded: int = 0
    failures: list[str] = field(default_factory=list)


def check_values(
    session: Session,
    keyring: KeyRing,
    metadata: Any,
    *,
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> CheckReport:
    """Try to open every encrypted value and every wrapped data key; report failures.

    Values whose data key was destroyed by a purge count as shredded, not failures.
    """
    report = CheckReport()
    for rows in _key_batches(session, batch_size):
        for row in rows:
            try:
                if row.wrapped is not None:
                    _unwrap(keyring, row)
                if row.previous_wrapped is not None:
                    _unwrap(keyring, row, previous=True)
            except DecryptionError as exc:
                report.failures.append(f"record key {row.key_id}: {exc}")
    for ref in encrypted_columns(metadata):
        for rows in value_batches(session, ref, batch_size):
            prefetch_keys(session, keyring, {s.key_id for *_, s in rows if s.kind == KIND_DATA_KEY})
            for _pk, public_id, owner, sealed in rows:
                binding = ref.binding(public_id, owner)
                try:
                    keyring.open(
                        sealed, binding, data_keys=lambda k: resolve_in(session, keyring, k)
                    )
                    report.opened += 1
                except ShreddedError:
                    report.shredded += 1
                except DecryptionError as exc:
                    report.failures.append(f"{ref.label} {public_id}: {exc}")
            session.info.pop(_KEYS, None)  # bounded memory
            if progress is not None:
                progress(len(rows))
    session.rollback()
    return report
