"""the GBVIMS intake data dictionary: survivor ethnicity, country of origin, marital
status, disability type and separation status; per incident the survivor's age then,
the incident's area, stage of displacement, harmful traditional practice, type of
abduction, previous incidents, wants legal action, the Incident Recorder's answer per
sector, two more context flags, and its alleged perpetrators as a list

Data kept: a "no" disability, separation or abduction becomes the GBVIMS "no"/"none";
a "yes" recorded before stays yes with its type not recorded (NULL). Each existing
incident gets one primary perpetrator from its summary columns (sex; relationship where
the GBVIMS one is certain; age band unknown: "under 18"/"adult" does not give a band, the
summary keeps it). "Referred by" becomes a code of the country-adapted list. The
downgrade drops what was added.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 01:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=40)


RELATIONS = {
    "intimate_partner": "intimate_partner",
    "caregiver": "primary_caregiver",
    "family_member": "family_other",
    "aid_worker": "service_provider",
    "community_member": "community_member",
    "stranger": "no_relation",
    "other": "other",
}


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ethnicity", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("country_of_origin", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column(
                "marital_status",
                _enum("maritalstatus", "single", "married_cohabiting", "divorced_separated",
                      "widowed"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "disability_type",
                _enum("disabilitytype", "none", "mental", "physical", "both"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "separation_status",
                _enum("separationstatus", "no", "unaccompanied", "separated",
                      "other_vulnerable"),
                nullable=True,
            )
        )
    op.execute("UPDATE cases SET disability_type = 'none' WHERE has_disability = false")
    op.execute(
        "UPDATE cases SET separation_status = 'no' WHERE unaccompanied_or_separated = false"
    )
    op.execute("UPDATE cases SET referred_by = 'self_referral' WHERE referred_by = 'self'")
    op.execute(
        "UPDATE cases SET referred_by = 'other_humanitarian' "
        "WHERE referred_by = 'victim_assistance'"
    )

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survivor_age", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "displacement_stage",
                _enum("displacementstage", "not_displaced", "pre_displacement",
                      "during_flight", "during_refuge", "during_return", "post_displacement"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "harmful_practice",
                _enum("harmfulpractice", "no", "fgm_c", "child_marriage", "honour_crime",
                      "widow_inheritance", "denial_of_education", "other"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "abduction_type",
                _enum("abductiontype", "none", "forced_conscription", "trafficked", "other"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("previous_incidents", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "wants_legal_action",
                _enum("legalaction", "yes", "no", "undecided"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("sector_answers", sa.String(length=300), nullable=False,
                      server_default="")
        )
        batch_op.add_column(
            sa.Column("possible_sexual_slavery", sa.Boolean(), nullable=False,
                      server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("harmful_traditional_practice", sa.Boolean(), nullable=False,
                      server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_incidents_area_id"), ["area_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_incidents_area_id_areas"), "areas", ["area_id"], ["id"]
        )
    op.execute("UPDATE incidents SET abduction_type = 'none' WHERE abduction = false")
    op.execute(
        "UPDATE incidents SET possible_sexual_slavery = true "
        "WHERE abduction = true AND incident_type IN ('rape', 'sexual_assault')"
    )

    op.create_table(
        "incident_perpetrators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.Column("sex", _enum("perpetratorsex", "female", "male", "both", "unknown"),
                  nullable=False),
        sa.Column(
            "age_band",
            _enum("ageband", "0-11", "12-17", "18-25", "26-40", "41-60", "61+", "unknown"),
            nullable=False,
        ),
        sa.Column(
            "relation",
            _enum("gbvimsrelationship", "intimate_partner", "primary_caregiver",
                  "family_other", "supervisor_employer", "schoolmate", "teacher",
                  "service_provider", "cotenant_landlord", "other_displaced",
                  "community_member", "other", "no_relation"),
            nullable=True,
        ),
        sa.Column("occupation", sa.String(length=40), nullable=True),
        sa.Column("previous_incident", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_perpetrators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_perpetrators_incident_id"), ["incident_id"], unique=False
        )
    relation = "CASE perpetrator_relationship " + " ".join(
        f"WHEN '{old}' THEN '{new}'" for old, new in RELATIONS.items()
    ) + " ELSE NULL END"
    op.execute(
        'INSERT INTO incident_perpetrators (incident_id, position, "primary", sex, age_band, '
        "relation) SELECT id, 1, true, CASE perpetrator_sex WHEN 'female' THEN 'female' "
        "WHEN 'male' THEN 'male' ELSE 'unknown' END, 'unknown', "
        f"{relation} FROM incidents"
    )


def downgrade():
    with op.batch_alter_table("incident_perpetrators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_perpetrators_incident_id"))
    op.drop_table("incident_perpetrators")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_incidents_area_id_areas"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_incidents_area_id"))
        for column in (
            "harmful_traditional_practice",
            "possible_sexual_slavery",
            "sector_answers",
            "wants_legal_action",
            "previous_incidents",
            "abduction_type",
            "harmful_practice",
            "displacement_stage",
            "area_id",
            "survivor_age",
        ):
            batch_op.drop_column(column)
    op.execute("UPDATE cases SET referred_by = 'self' WHERE referred_by = 'self_referral'")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in (
            "separation_status",
            "disability_type",
            "marital_status",
            "country_of_origin",
            "ethnicity",
        ):
            batch_op.drop_column(column)
