"""incidents: previously reported (no / to a GBVIMS organisation / to another) replaces
the yes-no "reported elsewhere"

An incident recorded before as reported elsewhere does not say to whom; it becomes
"to a GBVIMS organisation" so the statistics keep leaving it out (counting it could
count it twice). The downgrade keeps only whether it was reported.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "previously_reported",
                sa.Enum("no", "gbvims_org", "non_gbvims_org", name="previouslyreported",
                        native_enum=False, length=40),
                nullable=False,
                server_default="no",
            )
        )
    op.execute(
        "UPDATE incidents SET previously_reported = 'gbvims_org' WHERE reported_elsewhere = true"
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.alter_column("previously_reported", server_default=None)
        batch_op.drop_column("reported_elsewhere")


def downgrade():
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reported_elsewhere", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE incidents SET reported_elsewhere = true WHERE previously_reported <> 'no'"
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.alter_column("reported_elsewhere", server_default=None)
        batch_op.drop_column("previously_reported")
