"""referral queue order index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 06:05:00

The receiving organisation's queue lists referrals earliest deadline first and pages by
keyset on (deadline_at, id); this index serves that order without a sort.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrals_queue_order",
            ["receiving_organisation_id", "deadline_at", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_queue_order")
