"""Retention (R26): purge closed records after their retention period, by crypto-shredding.

Purging one record, in one transaction:

1. destroy its data key (``record_keys.wrapped`` set to NULL, ``destroyed_at`` set; a
   tombstone row is written if it never had one), so every value sealed under it is
   unreadable here and in any copy of the database whose wrapping master key is retired;
2. set its encrypted columns, and those of the rows that share its key (consents,
   notes, referrals...), to NULL; the remaining columns are non-identifying by design
   (R2: everything identifying is encrypted) and stay for the statistics;
3. record a ``retention.purged`` audit event.

A crash loses at most the record in flight (its transaction rolls back) and a new run
picks up where the last one stopped: a record whose key is destroyed is never selected
again. A record under an active legal hold is never purged.

Backups: a backup taken before the purge still holds the record's data key, wrapped
under the master key of that time. The purge makes that copy unreadable once that
master key is retired: run ``keys generate``, put the new key first, ``keys rotate``
(re-wraps the live keys in seconds), take a fresh backup, and remove the old master
key when the backups that needed it have expired. ``retention purge`` prints this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, exists, select, update
from sqlalchemy.orm import Session

from referral.audit import record
from referral.clock import utcnow
from referral.extensions import Base
from referral.lifecycle.keys import new_key_id
from referral.lifecycle.models import LegalHold, RecordKey, Retention
from referral.messages import lazy_gettext as _l
from referral.security.crypto import DataKeyOwner, EncryptedBlob, data_key_owners
from referral.security.policy import Permission, has_permission
from referral.workflow import RuleError

# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class RetainedModel:
    model: type[Any]
    rule: Retention
    hold_permission: Permission | None

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)


def retained_models() -> list[RetainedModel]:
    """Every mapped model declaring ``__retention__``, in a stable order."""
    out = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        rule = cls.__dict__.get("__retention__")
        if isinstance(rule, Retention):
            out.append(RetainedModel(cls, rule, cls.__dict__.get("__hold_permission__")))
    return sorted(out, key=lambda m: m.rule.owner_type)


def retained_model_for(owner_type: str) -> RetainedModel:
    for item in retained_models():
        if item.rule.owner_type == owner_type:
            return item
    raise LookupError(f"no model keeps records of type {owner_type!r}")


@dataclass(frozen=True, slots=True)
class OwnedColumns:
    """Encrypted columns of one table sealed under an owner's key, and how to find them."""

    table: Table
    columns: tuple[Any, ...]
    where: Callable[[int, str], Any]


def owned_columns(owner_type: str) -> list[OwnedColumns]:
    """The tables whose rows share the data key of an ``owner_type`` record."""
    out: list[OwnedColumns] = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = cast(Table, cls.__table__)
        cols = tuple(c for c in table.columns if isinstance(c.type, EncryptedBlob) and c.nullable)
        if not cols:
            continue
        for decl in data_key_owners(cls):
            if decl.owner_type != owner_type:
                continue
            out.append(OwnedColumns(table, cols, _where(mapper, table, decl)))
    return out


def _where(mapper: Any, table: Table, decl: DataKeyOwner) -> Callable[[int, str], Any]:
    """SQL condition selecting the rows of ``table`` under one owner's key."""
    if decl.via is not None:
        relationship = mapper.relationships[decl.via]
        (local,) = relationship.local_columns
        if decl.public_id_attr is None:
            return _pk_where(table.c[local.name], None)
        target = cast(Table, relationship.mapper.class_.__table__)
        target_pk = next(iter(target.primary_key.columns))
        tmapper = relationship.mapper
        pid_col = target.c[tmapper.get_property(decl.public_id_attr).columns[0].name]
        cond = (
            target.c[tmapper.get_property(decl.when[0]).columns[0].name] == decl.when[1]
            if decl.when
            else None
        )
        return lambda _pk, public_id: table.c[local.name].in_(
            select(target_pk).where(pid_col == public_id, *([cond] if cond is not None else []))
        )
    condition = (
        table.c[mapper.get_property(decl.when[0]).columns[0].name] == decl.when[1]
        if decl.when
        else None
    )
    if decl.public_id_attr is not None:
        col = table.c[mapper.get_property(decl.public_id_attr).columns[0].name]
        return _public_id_where(col, condition)
    return _pk_where(next(iter(table.primary_key.columns)), condition)


def _public_id_where(col: Any, condition: Any) -> Callable[[int, str], Any]:
    return lambda _pk, public_id: and_(
        col == public_id, *([condition] if condition is not None else [])
    )


def _pk_where(col: Any, condition: Any) -> Callable[[int, str], Any]:
    return lambda pk, _public_id: and_(col == pk, *([condition] if condition is not None else []))


# --------------------------------------------------------------------------- holds


def active_hold(session: Session, owner_type: str, owner_public_id: str) -> LegalHold | None:
    return session.scalars(
        select(LegalHold)
        .where(LegalHold.in_force(owner_type, owner_public_id))
        .order_by(LegalHold.id.desc())
        .limit(1)
    ).one_or_none()


def may_hold(user: Any, record_obj: Any) -> bool:
    """The role may place holds on this type, and (where the type has an owning
    organisation) the record belongs to the user's organisation."""
    item = _retained_for_instance(record_obj)
    if item.hold_permission is None or not has_permission(user, item.hold_permission):
        return False
    if item.rule.organisation is None:
        return True
    return bool(getattr(record_obj, item.rule.organisation) == user.organisation_id)


def _retained_for_instance(record_obj: Any) -> RetainedModel:
    for item in retained_models():
        if isinstance(record_obj, item.model):
            return item
    raise LookupError(f"{type(record_obj).__name__} declares no retention")


def is_purged(session: Session, owner_type: str, owner_public_id: str) -> bool:
    return (
        session.scalar(
            select(RecordKey.id).where(
                RecordKey.owner_type == owner_type,
                RecordKey.owner_public_id == owner_public_id,
                RecordKey.destroyed_at.is_not(None),
            )
        )
        is not None
    )


def place_hold(session: Session, record_obj: Any, reason: str, actor: Any) -> LegalHold:
    """Place a hold (caller has authorised with :func:`may_hold`). One transaction."""
    item = _retained_for_instance(record_obj)
    owner_type, public_id = item.rule.owner_type, record_obj.public_id
    reason = reason.strip()
    if not reason:
        raise RuleError("reason", _l("A legal hold needs a reason."))
    if is_purged(session, owner_type, public_id):
        raise RuleError("reason", _l("This record was purged; there is nothing left to hold."))
    if active_hold(session, owner_type, public_id) is not None:
        raise RuleError("reason", _l("This record is already under a legal hold."))
    hold = LegalHold(
        owner_type=owner_type, owner_public_id=public_id, reason=reason, placed_by_id=actor.id
    )
    session.add(hold)
    session.flush()
    record(
        "legal_hold.placed",
        obj_type=owner_type,
        obj_id=public_id,
        detail={"hold": hold.public_id},
        actor=actor,
        session=session,
    )
    return hold


def release_hold(session: Session, record_obj: Any, reason: str, actor: Any) -> LegalHold:
    item = _retained_for_instance(record_obj)
    owner_type, public_id = item.rule.owner_type, record_obj.public_id
    reason = reason.strip()
    if not reason:
        raise RuleError("reason", _l("Releasing a legal hold needs a reason."))
    hold = active_hold(session, owner_type, public_id)
    if hold is None:
        raise RuleError("reason", _l("This record is not under a legal hold."))
    hold.released_at = utcnow()
    hold.released_by_id = actor.id
    hold.release_reason = reason
    record(
        "legal_hold.released",
        obj_type=owner_type,
        obj_id=public_id,
        detail={"hold": hold.public_id},
        actor=actor,
        session=session,
    )
    return hold


# --------------------------------------------------------------------------- purge


@dataclass(frozen=True, slots=True)
class Expired:
    owner_type: str
    pk: int
    public_id: str
    closed_at: datetime


@dataclass(slots=True)
class PurgeReport:
    purged: list[Expired] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def retention_days(config: Mapping[str, Any], rule: Retention) -> int:
    days = int(config.get(rule.days_setting, 0) or 0)
    if days < 0:
        raise ValueError(f"{rule.days_setting} must be 0 (keep forever) or a number of days")
    return days


def _eligible(item: RetainedModel, cutoff: datetime) -> list[Any]:
    table = item.table
    closed = table.c[item.model.__mapper__.get_property(item.rule.closed_at).columns[0].name]
    held = exists().where(LegalHold.in_force(item.rule.owner_type, table.c.public_id))
    purged = exists().where(
        RecordKey.owner_type == item.rule.owner_type,
        RecordKey.owner_public_id == table.c.public_id,
        RecordKey.destroyed_at.is_not(None),
    )
    conditions = [closed.is_not(None), closed <= cutoff, ~held, ~purged]
    if item.rule.closed_when is not None:
        attr, value = item.rule.closed_when
        column = table.c[item.model.__mapper__.get_property(attr).columns[0].name]
        conditions.append(column == value)
    return conditions


def find_expired(
    session: Session, config: Mapping[str, Any], *, now: datetime | None = None, batch: int = 500
) -> Iterator[Expired]:
    """Records past retention, not held, not yet purged (keyset batches, bounded memory)."""
    now = now or utcnow()
    for item in retained_models():
        days = retention_days(config, item.rule)
        if days == 0:
            continue
        table = item.table
        pk = next(iter(table.primary_key.columns))
        closed = table.c[item.model.__mapper__.get_property(item.rule.closed_at).columns[0].name]
        cutoff = now - timedelta(days=days)
        last = 0
        while True:
            rows = session.execute(
                select(pk, table.c.public_id, closed)
                .where(pk > last, *_eligible(item, cutoff))
                .order_by(pk)
                .limit(batch)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            for row in rows:
                yield Expired(item.rule.owner_type, row[0], row[1], row[2])


def purge_one(
    session: Session, expired: Expired, config: Mapping[str, Any], *, now: datetime | None = None
) -> bool:
    """Purge one record in its own transaction; False if it no longer qualifies."""
    now = now or utcnow()
    item = retained_model_for(expired.owner_type)
    table = item.table
    pk = next(iter(table.primary_key.columns))
    cutoff = now - timedelta(days=retention_days(config, item.rule))
    # Lock the record, then check again: a hold or a reopening may have landed meanwhile.
    still = session.execute(
        select(pk).where(pk == expired.pk, *_eligible(item, cutoff)).with_for_update()
    ).first()
    if still is None:
        session.rollback()
        return False
    keys = cast(Table, RecordKey.__table__)
    destroyed = session.execute(
        update(keys)
        .where(
            keys.c.owner_type == expired.owner_type,
            keys.c.owner_public_id == expired.public_id,
        )
        .values(wrapped=None, previous_key_id=None, previous_wrapped=None, destroyed_at=now)
    )
    if cast(Any, destroyed).rowcount == 0:  # no key ever: leave a tombstone as the mark
        session.execute(
            keys.insert().values(
                owner_type=expired.owner_type,
                owner_public_id=expired.public_id,
                key_id=new_key_id(),
                created_at=now,
                destroyed_at=now,
            )
        )
    cleared = 0
    for owned in owned_columns(expired.owner_type):
        result = session.execute(
            update(owned.table)
            .where(owned.where(expired.pk, expired.public_id))
            .values({c.name: None for c in owned.columns})
        )
        cleared += cast(Any, result).rowcount
    record(
        "retention.purged",
        obj_type=expired.owner_type,
        obj_id=expired.public_id,
        detail={
            "closed_at": expired.closed_at.isoformat(),
            "retention_days": retention_days(config, item.rule),
            "rows_anonymised": cleared,
        },
        session=session,
    )
    session.commit()
    return True


def purge(
    session: Session,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    progress: Callable[[Expired], None] | None = None,
) -> PurgeReport:
    """Purge every expired record, one transaction each. Safe to interrupt and rerun."""
    now = now or utcnow()
    report = PurgeReport()
    # Collect first (ids only), so the keyset walk is not disturbed by the purges.
    todo = list(find_expired(session, config, now=now))
    session.rollback()
    for expired in todo:
        if purge_one(session, expired, config, now=now):
            report.purged.append(expired)
        else:
            report.skipped.append(expired.public_id)
        if progress is not None:
            progress(expired)
    return report
