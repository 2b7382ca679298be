"""needs are the sectors of the inter-agency referral form: the old need codes
(safety, justice, livelihood) become the sector codes that provide them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FORWARD = {"safety": "safety_security", "justice": "legal_aid", "livelihood": "livelihoods"}
BACKWARD = {new: old for old, new in FORWARD.items()}
# Sectors added with the inter-agency list that the old needs did not have.
ADDED = ("gbv_case_management", "shelter", "child_protection", "education", "safe_space",
         "cash", "dignity_nfi", "food")


def _recode(mapping, fallback=None):
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, needs FROM referrals WHERE needs <> ''")).all()
    for row_id, needs in rows:
        codes = []
        for code in needs.split(","):
            code = mapping.get(code, code)
            if fallback and code in ADDED:
                code = fallback
            if code and code not in codes:
                codes.append(code)
        recoded = ",".join(codes)
        if recoded != needs:
            bind.execute(
                sa.text("UPDATE referrals SET needs = :needs WHERE id = :id"),
                {"needs": recoded, "id": row_id},
            )
    for old, new in mapping.items():
        bind.execute(
            sa.text("UPDATE case_action_items SET need = :new WHERE need = :old"),
            {"new": new, "old": old},
        )
    if fallback:
        bind.execute(
            sa.text("UPDATE case_action_items SET need = :other WHERE need IN :added").bindparams(
                sa.bindparam("added", expanding=True)
            ),
            {"other": fallback, "added": list(ADDED)},
        )


def upgrade():
    _recode(FORWARD)


def downgrade():
    _recode(BACKWARD, fallback="other")
