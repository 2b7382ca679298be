"""Users remember an administrator's password or two-factor reset until told of it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 02:00:00

Plain ADD/DROP COLUMN (no batch rebuild of users, which would cascade to its children).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COLUMNS = ("password_reset_by_admin_at", "two_factor_reset_by_admin_at")


def upgrade():
    for name in COLUMNS:
        op.add_column("users", sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade():
    for name in COLUMNS:
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
