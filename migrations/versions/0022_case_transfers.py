"""case transfers: a case proposed to another organisation, with the survivor's consent

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_organisation_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("proposed", "accepted", "declined", "withdrawn", name="transferstate",
                    native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("new_owner_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_transfers_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["consent_id"], ["consents.id"],
                                name=op.f("fk_case_transfers_consent_id_consents")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_case_transfers_decided_by_id_users")),
        sa.ForeignKeyConstraint(["from_organisation_id"], ["organisations.id"],
                                name=op.f("fk_case_transfers_from_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["new_owner_id"], ["users.id"],
                                name=op.f("fk_case_transfers_new_owner_id_users")),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["users.id"],
                                name=op.f("fk_case_transfers_proposed_by_id_users")),
        sa.ForeignKeyConstraint(["to_organisation_id"], ["organisations.id"],
                                name=op.f("fk_case_transfers_to_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_case_transfers_public_id")),
    )
    with op.batch_alter_table("case_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_transfers_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_transfers_consent_id"), ["consent_id"],
                              unique=False)
        batch_op.create_index("ix_case_transfers_to_state",
                              ["to_organisation_id", "state", "proposed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("case_transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_case_transfers_to_state")
        batch_op.drop_index(batch_op.f("ix_case_transfers_consent_id"))
        batch_op.drop_index(batch_op.f("ix_case_transfers_case_id"))
    op.drop_table("case_transfers")
