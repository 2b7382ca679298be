"""referrals: the receiver's short feedback note to the sender (encrypted)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_note", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("feedback_note")
