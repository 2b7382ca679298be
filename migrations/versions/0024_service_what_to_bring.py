"""services: what a survivor should bring (printed on the referral slip)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 02:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("what_to_bring", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.alter_column("what_to_bring", server_default=None)


def downgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("what_to_bring")
