"""audit trail and encrypted TOTP secret

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:20:00

- audit_events (append-only, hash-chained) and audit_chain_head (one row, locked on
  append); triggers refuse UPDATE and DELETE on audit_events (and TRUNCATE on
  PostgreSQL) and DELETE of the chain head.
- users.totp_secret becomes an AES-256-GCM value (bytes) bound to users.totp_secret
  and the user's public_id; existing secrets are encrypted with the app's current key.

Production runs the app as a role that may only INSERT and SELECT on audit_events
(and SELECT/UPDATE on audit_chain_head); migrations run as the owner. See
docs in referral/audit/models.py.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

SQLITE_UP = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_chain_head_no_delete",
]
POSTGRESQL_UP = [
    "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || "
    "' refused: the audit trail is append-only', ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_chain_head_no_delete ON audit_chain_head",
    "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _statements(up: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if dialect == "postgresql":
        return POSTGRESQL_UP if up else POSTGRESQL_DOWN
    raise RuntimeError(f"no audit triggers for {dialect}")


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_public_id", sa.String(length=24), nullable=True),
        sa.Column("actor_role", sa.String(length=30), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("obj_type", sa.String(length=40), nullable=True),
        sa.Column("obj_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("fields_revealed", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    for name, columns in (
        ("ix_audit_events_occurred_at_id", ["occurred_at", "id"]),
        ("ix_audit_events_actor_id_id", ["actor_id", "id"]),
        ("ix_audit_events_org_id_id", ["org_id", "id"]),
        ("ix_audit_events_action_id", ["action", "id"]),
        ("ix_audit_events_outcome_id", ["outcome", "id"]),
        ("ix_audit_events_obj", ["obj_type", "obj_id", "id"]),
    ):
        op.create_index(name, "audit_events", columns)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", _ID, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.execute(
        f"INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (1, 0, '{GENESIS_HASH}')"
    )
    for statement in _statements(up=True):
        op.execute(statement)
    _encrypt_totp_secrets()


def downgrade():
    _decrypt_totp_secrets()
    for statement in _statements(up=False):
        op.execute(statement)
    op.drop_table("audit_chain_head")
    for name in (
        "ix_audit_events_obj",
        "ix_audit_events_outcome_id",
        "ix_audit_events_action_id",
        "ix_audit_events_org_id_id",
        "ix_audit_events_actor_id_id",
        "ix_audit_events_occurred_at_id",
    ):
        op.drop_index(name, table_name="audit_events")
    op.drop_table("audit_events")


# --- users.totp_secret: text -> sealed bytes ---------------------------------------------
# Data migration: needs the app's key ring (Flask-Migrate runs inside the app context).


def _encrypt_totp_secrets():
    from referral.security.crypto import Binding, current_keyring

    # Plain ALTERs (SQLite >= 3.35 has DROP/RENAME COLUMN): a batch rebuild of users
    # would cascade-delete recovery codes and sessions while foreign keys are on.
    op.add_column("users", sa.Column("totp_secret_new", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer()),
        sa.column("public_id", sa.String()),
        sa.column("totp_secret", sa.String()),
        sa.column("totp_secret_new", sa.LargeBinary()),
    )
    rows = bind.execute(
        sa.select(users.c.id, users.c.public_id, users.c.totp_secret).where(
            users.c.totp_secret.is_not(None)
        )
    ).all()
    if rows:
        keyring = current_keyring()
        for user_id, public_id, secret in rows:
            sealed = keyring.seal(secret.encode(), Binding("users", "totp_secret", public_id))
            bind.execute(
                sa.update(users).where(users.c.id == user_id).values(totp_secret_new=sealed.raw)
            )
    op.execute("ALTER TABLE users DROP COLUMN totp_secret")
    op.execute("ALTER TABLE users RENAME COLUMN totp_secret_new TO totp_secret")


def _decrypt_totp_secrets():
    from referral.security.crypto import Binding, Sealed, current_keyring

    op.add_column("users", sa.Column("totp_secret_old", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer()),
        sa.column("public_id", sa.String()),
        sa.column("totp_secret", sa.LargeBinary()),
        sa.column("totp_secret_old", sa.String()),
    )
    rows = bind.execute(
        sa.select(users.c.id, users.c.public_id, users.c.totp_secret).where(
            users.c.totp_secret.is_not(None)
        )
    ).all()
    if rows:
        keyring = current_keyring()
        for user_id, public_id, raw in rows:
            secret = keyring.open(Sealed(bytes(raw)), Binding("users", "totp_secret", public_id))
            bind.execute(
                sa.update(users).where(users.c.id == user_id).values(totp_secret_old=secret.decode())
            )
    op.execute("ALTER TABLE users DROP COLUMN totp_secret")
    op.execute("ALTER TABLE users RENAME COLUMN totp_secret_old TO totp_secret")
