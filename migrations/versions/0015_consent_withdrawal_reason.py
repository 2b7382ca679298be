"""consents: the reason a consent was withdrawn, encrypted

Until now the reason reached only the referrals a withdrawal stopped; a consent
withdrawn while nothing was pending kept no reason at all.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_reason", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("withdrawal_reason")
