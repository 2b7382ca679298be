"""statistics_counts: GBV statistics kept up to date with every change; overdue index

The counts are filled from the rows already stored, with the application's own counting
code (referral.reports.counters), so they start equal to what the reports counted.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 14:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "statistics_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("key_a", sa.String(length=40), nullable=False),
        sa.Column("key_b", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_counts")),
        sa.UniqueConstraint(
            "organisation_id",
            "measure",
            "area_id",
            "period",
            "key_a",
            "key_b",
            name="uq_statistics_counts_key",
        ),
    )
    op.create_index(
        "ix_statistics_counts_deadline",
        "statistics_counts",
        ["organisation_id", "measure", "area_id", "key_a"],
    )
    op.create_index("ix_referrals_state_deadline", "referrals", ["state", "deadline_at"])

    from referral.reports import counters

    counters.rebuild(op.get_bind())


def downgrade():
    op.drop_index("ix_referrals_state_deadline", table_name="referrals")
    op.drop_index("ix_statistics_counts_deadline", table_name="statistics_counts")
    op.drop_table("statistics_counts")
