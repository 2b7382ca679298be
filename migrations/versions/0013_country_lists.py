"""country-adapted lists of the GBVIMS intake (ethnicity, location types, referred from,
occupations): items with stable codes

A list with no rows offers its built-in defaults, so nothing is seeded here. Incident
location types were an enumeration stored by value in a VARCHAR(40); the same values are
the codes of the default location-type list, so the column keeps its data unchanged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "country_list_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "list_name",
            sa.Enum("ethnicity", "location_type", "referred_from", "occupation",
                    name="countrylist", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_name", "code"),
    )
    with op.batch_alter_table("country_list_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_country_list_items_list_name"), ["list_name"], unique=False
        )


def downgrade():
    with op.batch_alter_table("country_list_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_country_list_items_list_name"))
    op.drop_table("country_list_items")
