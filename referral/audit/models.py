"""The audit trail: an append-only, keyed hash chain and its one-row chain head.

Each event's ``hash`` is an HMAC-SHA256, under the audit key named by its ``key_id``,
of the previous event's hash and a canonical JSON form of the event (its id included),
so editing, deleting or reordering events breaks the chain, and the chain head (last id
and hash) catches a removed tail. The audit key lives in configuration, never in the
database (``referral.security.crypto.audit_keys``): the database's owner can delete rows
and recompute plain hashes, not MACs. Signed checkpoints of the head, kept off the
database, catch a tail removed together with the head's update. Ids are assigned from
the chain head under its lock, so they are contiguous: a gap is a missing event. The
database refuses UPDATE and DELETE on ``audit_events`` (triggers created by the
migration, and by ``create_all`` for tests), and the application's own database role may
only read and append (:func:`app_role_statements`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import UTCDateTime
from referral.extensions import db
from referral.security.crypto import ChainMac

GENESIS_HASH = "0" * 64


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


class AuditEvent(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at_id", "occurred_at", "id"),
        Index("ix_audit_events_actor_id_id", "actor_id", "id"),
        Index("ix_audit_events_org_id_id", "org_id", "id"),
        Index("ix_audit_events_action_id", "action", "id"),
        Index("ix_audit_events_outcome_id", "outcome", "id"),
        Index("ix_audit_events_obj", "obj_type", "obj_id", "id"),
    )

    # Assigned from the chain head (last_id + 1), never by the database.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # users.id, no FK: the log outlives
    actor_public_id: Mapped[str | None] = mapped_column(String(24))
    actor_role: Mapped[str | None] = mapped_column(String(30))
    org_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    obj_type: Mapped[str | None] = mapped_column(String(40))
    obj_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    fields_revealed: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # The audit key whose MAC ``hash`` is; never NULL for an event the chain accepts.
    key_id: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.outcome}>"


# The fields covered by the hash, in the order of the table's columns.
CHAIN_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_public_id",
    "actor_role",
    "org_id",
    "action",
    "obj_type",
    "obj_id",
    "outcome",
    "request_id",
    "client_address",
    "fields_revealed",
    "detail",
)


def canonical(fields: dict[str, Any]) -> bytes:
    """Canonical JSON of an event's chained fields (timestamps as UTC ISO-8601)."""
    out = dict(fields)
    when = out["occurred_at"]
    if isinstance(when, datetime):
        out["occurred_at"] = when.isoformat(timespec="microseconds")
    return json.dumps(
        out, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def link_message(prev_hash: str, fields: dict[str, Any]) -> bytes:
    """What a chain link authenticates: the previous hash and the event."""
    return prev_hash.encode("ascii") + b"\n" + canonical(fields)


def chain_mac(mac: ChainMac, prev_hash: str, fields: dict[str, Any]) -> str:
    """The keyed hash of an event (what ``audit_events.hash`` holds)."""
    return mac.hexdigest(link_message(prev_hash, fields))


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The unkeyed SHA-256 link of the chain's first form (before audit keys): what
    anyone can compute, kept to check such a chain before it is re-keyed."""
    return hashlib.sha256(link_message(prev_hash, fields)).hexdigest()


class AuditChainHead(db.Model):  # type: ignore[name-defined]
    """One row: the id and hash of the last event. Locked for every append."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=False
    )
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


# --- database-side protection ------------------------------------------------------------
# The same statements are in the Alembic revision; these hooks give ``create_all`` (tests)
# the identical protection.

SQLITE_EVENTS_TRIGGERS: tuple[str, ...] = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
SQLITE_HEAD_TRIGGERS: tuple[str, ...] = (
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END",
)
POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || "
    "' refused: the audit trail is append-only', ERRCODE = 'insufficient_privilege'; END $$"
)
POSTGRESQL_EVENTS_TRIGGERS: tuple[str, ...] = (
    POSTGRESQL_FUNCTION,
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
)
POSTGRESQL_HEAD_TRIGGERS: tuple[str, ...] = (
    POSTGRESQL_FUNCTION,
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
)
SEED_CHAIN_HEAD = (
    f"INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (1, 0, '{GENESIS_HASH}')"  # noqa: S608 - constant
)


def _attach(table: Any, statements: tuple[str, ...], dialect: str) -> None:
    for statement in statements:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))  # type: ignore[no-untyped-call]


_attach(AuditEvent.__table__, SQLITE_EVENTS_TRIGGERS, "sqlite")
_attach(AuditEvent.__table__, POSTGRESQL_EVENTS_TRIGGERS, "postgresql")
_attach(AuditChainHead.__table__, SQLITE_HEAD_TRIGGERS, "sqlite")
_attach(AuditChainHead.__table__, POSTGRESQL_HEAD_TRIGGERS, "postgresql")
event.listen(AuditChainHead.__table__, "after_create", DDL(SEED_CHAIN_HEAD))  # type: ignore[no-untyped-call]
