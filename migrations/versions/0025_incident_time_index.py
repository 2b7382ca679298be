"""incidents: index on the incident time (the inbox's open clinical windows)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 02:25:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_incidents_incident_at", "incidents", ["incident_at", "case_id"])


def downgrade():
    op.drop_index("ix_incidents_incident_at", table_name="incidents")
