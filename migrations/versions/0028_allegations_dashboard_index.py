"""allegations: index covering the coordinator's counts by state and overdue

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 14:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_allegations_dashboard",
        "allegations",
        ["state", "route_due_at", "acknowledge_due_at"],
    )


def downgrade():
    op.drop_index("ix_allegations_dashboard", table_name="allegations")
