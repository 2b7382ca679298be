"""cases: the supervisor's answers to a closure (why it was refused) and the reopening of
a closed case (when, why)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closure_refused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closure_refusal_reason", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reopen_reason", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("reopen_reason")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("closure_refusal_reason")
        batch_op.drop_column("closure_refused_at")
