"""indexes found by the benchmark: referral queue in index order,
case list stage filter in list order, consents to statistics

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPEN = "state IN ('sent', 'accepted')"
DONE = "state IN ('declined', 'completed', 'closed', 'withdrawn')"
STATISTICS = (
    "source_kind = 'gbv_case' AND kind = 'statistics' AND granted IS true "
    "AND withdrawn_at IS NULL"
)


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_org_stage")
        batch_op.create_index(
            "ix_cases_org_stage_opened",
            ["organisation_id", "stage", "opened_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_statistics",
            ["source_public_id"],
            unique=False,
            sqlite_where=sa.text(STATISTICS),
            postgresql_where=sa.text(STATISTICS),
        )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrals_queue_open",
            ["receiving_organisation_id", "deadline_at", "id"],
            unique=False,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
        batch_op.create_index(
            "ix_referrals_queue_done",
            ["receiving_organisation_id", "deadline_at", "id"],
            unique=False,
            sqlite_where=sa.text(DONE),
            postgresql_where=sa.text(DONE),
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_org_stage_opened")
        batch_op.create_index("ix_cases_org_stage", ["organisation_id", "stage"], unique=False)
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_consents_statistics",
            sqlite_where=sa.text(STATISTICS),
            postgresql_where=sa.text(STATISTICS),
        )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_referrals_queue_done", sqlite_where=sa.text(DONE), postgresql_where=sa.text(DONE)
        )
        batch_op.drop_index(
            "ix_referrals_queue_open", sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)
        )
