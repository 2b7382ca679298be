"""users: when the one-time password an administrator set stops working

One-time passwords still waiting to be changed get the configured lifetime
(ONE_TIME_PASSWORD_HOURS) from now.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:50:00

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    from flask import current_app

    # A plain ADD COLUMN: a batch rebuild of users would touch the rows pointing at it.
    op.add_column(
        "users",
        sa.Column("one_time_password_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    hours = int(current_app.config.get("ONE_TIME_PASSWORD_HOURS", 72))
    users = sa.table(
        "users",
        sa.column("must_change_password", sa.Boolean()),
        sa.column("one_time_password_expires_at", sa.DateTime(timezone=True)),
    )
    op.get_bind().execute(
        sa.update(users)
        .where(users.c.must_change_password == sa.true())
        .values(one_time_password_expires_at=datetime.now(UTC) + timedelta(hours=hours))
    )


def downgrade():
    op.execute("ALTER TABLE users DROP COLUMN one_time_password_expires_at")
