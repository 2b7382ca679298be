"""Audit chain keyed: each event's hash becomes an HMAC under an audit key

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 01:00:00

``audit_events.key_id`` names the audit key (configuration: REFERRAL_AUDIT_KEYS or
REFERRAL_AUDIT_KEY_FILE, never the database) whose HMAC-SHA256 the event's ``hash`` is.
The existing chain of plain SHA-256 links is checked first, then every event is chained
again under the current audit key and the chain head moved to the new last hash, with
the append-only trigger lifted for this rewrite only. A broken chain is never re-keyed:
the upgrade stops and names the first broken link. The downgrade does the reverse
(checks the keyed chain, writes plain links, drops the column).

Checkpoints taken before a re-key name the old hashes; take a new one afterwards.
"""
import hashlib
import json
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
BATCH = 5_000
CHAIN_FIELDS = (
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
SQLITE_UPDATE_TRIGGER = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)

events = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer()),
    sa.column("actor_public_id", sa.String()),
    sa.column("actor_role", sa.String()),
    sa.column("org_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("obj_type", sa.String()),
    sa.column("obj_id", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("request_id", sa.String()),
    sa.column("client_address", sa.String()),
    sa.column("fields_revealed", sa.JSON()),
    sa.column("detail", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
    sa.column("key_id", sa.String()),
)
head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("last_id", sa.BigInteger()),
    sa.column("last_hash", sa.String()),
)


def _message(prev_hash, row):
    """The chain link's bytes, as referral.audit.models.link_message builds them."""
    fields = {name: getattr(row, name) for name in CHAIN_FIELDS}
    when = fields["occurred_at"]
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    fields["occurred_at"] = when.isoformat(timespec="microseconds")
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return prev_hash.encode("ascii") + b"\n" + text.encode("utf-8")


def _plain(message, key_id):
    return hashlib.sha256(message).hexdigest()


def _keyed(keys):
    def link(message, key_id):
        mac = keys.chain_mac(key_id) if key_id else None
        return None if mac is None else mac.hexdigest(message)

    return link


def _rechain(old_link, new_link, new_key_id):
    """Check the chain under ``old_link`` and write it again under ``new_link``."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    columns = [events.c[name] for name in (*CHAIN_FIELDS, "prev_hash", "hash", "key_id")]
    update = (
        sa.update(events)
        .where(events.c.id == sa.bindparam("b_id"))
        .values(prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash"), key_id=new_key_id)
    )
    old_prev, new_prev, last = GENESIS_HASH, GENESIS_HASH, 0
    while True:
        rows = bind.execute(
            sa.select(*columns).where(events.c.id > last).order_by(events.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        changes = []
        for row in rows:
            if (
                row.id != last + 1
                or row.prev_hash != old_prev
                or old_link(_message(old_prev, row), row.key_id) != row.hash
            ):
                raise RuntimeError(
                    f"the audit chain is broken at event {last + 1}: it is not re-chained. "
                    "Run `referral audit verify` on the previous release to see why."
                )
            digest = new_link(_message(new_prev, row), new_key_id)
            changes.append({"b_id": row.id, "b_prev": new_prev, "b_hash": digest})
            old_prev, new_prev, last = row.hash, digest, row.id
        bind.execute(update, changes)
    last_id, last_hash = bind.execute(
        sa.select(head.c.last_id, head.c.last_hash).where(head.c.id == 1)
    ).one()
    if last_id != last or last_hash != old_prev:
        raise RuntimeError(
            f"the audit chain head expects {last_id} events, found {last}: not re-chained"
        )
    bind.execute(sa.update(head).where(head.c.id == 1).values(last_hash=new_prev))
    if dialect == "sqlite":
        op.execute(SQLITE_UPDATE_TRIGGER)
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")


def upgrade():
    from referral.security.crypto import current_audit_keys

    op.add_column("audit_events", sa.Column("key_id", sa.String(length=64), nullable=True))
    keys = current_audit_keys()
    _rechain(_plain, _keyed(keys), keys.current_key_id)


def downgrade():
    from referral.security.crypto import current_audit_keys

    _rechain(_keyed(current_audit_keys()), _plain, None)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE audit_events DROP COLUMN key_id")
    else:
        op.drop_column("audit_events", "key_id")
