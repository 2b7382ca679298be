"""referrals: partial index of accepted case-management referrals (the inbox's referrals
waiting for a case), in the inbox's order

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 14:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

WHERE = "state = 'accepted' AND sector = 'gbv_case_management'"


def upgrade():
    op.create_index(
        "ix_referrals_accepted_case_management",
        "referrals",
        ["receiving_organisation_id", "responded_at", "id"],
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade():
    op.drop_index("ix_referrals_accepted_case_management", table_name="referrals")
