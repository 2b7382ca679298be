"""incidents: several per case (numbered); a referral names the incident it concerns

A returning survivor's new incident is recorded on the same case. Every existing
incident becomes number 1 of its case, and every referral made from a case that had an
incident names that incident (it was the only one). The downgrade keeps the first
incident of each case only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("number", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_incidents_case_id", type_="unique")
        batch_op.create_unique_constraint("uq_incidents_case_number", ["case_id", "number"])
        batch_op.alter_column("number", server_default=None)
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_public_id", sa.String(length=24), nullable=True))
    op.execute(
        "UPDATE referrals SET incident_public_id = ("
        " SELECT incidents.public_id FROM incidents JOIN cases ON cases.id = incidents.case_id"
        " WHERE cases.public_id = referrals.source_public_id)"
        " WHERE source_kind = 'gbv_case'"
    )


def downgrade():
    op.execute("DELETE FROM incidents WHERE number <> 1")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("incident_public_id")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_incidents_case_number", type_="unique")
        batch_op.create_unique_constraint("uq_incidents_case_id", ["case_id"])
        batch_op.drop_column("number")
