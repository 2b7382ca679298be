"""incidents: the incident-time index also carries the type and public id (PostgreSQL)

The inbox's open clinical windows read an incident's time, type, case and public id.
With only the time and case in the index, PostgreSQL combined it with the index on the
type (some 28,000 entries at 100,000 cases) to save reading table rows; carrying the
other two columns lets it answer from this index alone.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 13:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_incidents_incident_at", table_name="incidents")
    op.create_index(
        "ix_incidents_incident_at",
        "incidents",
        ["incident_at", "case_id"],
        postgresql_include=["incident_type", "public_id"],
    )


def downgrade():
    op.drop_index("ix_incidents_incident_at", table_name="incidents")
    op.create_index("ix_incidents_incident_at", "incidents", ["incident_at", "case_id"])
