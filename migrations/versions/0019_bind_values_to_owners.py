"""encrypted values of a case, allegation or assistance record and of its child rows
(follow-ups, action items, consents, referrals, transitions) are bound to that owner
record as well as to their own row

A follow-up, note or consent moved to another case by a database write no longer
decrypts. Each value is re-sealed under the key it already had; the downgrade re-seals
them without the owner. Both are resumable (a value already in the wanted form is
skipped). Needs the encryption keys, like the application.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 01:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _rebind(unbind):
    from sqlalchemy.orm import Session

    from referral.extensions import db
    from referral.lifecycle.keys import bind_values_to_owners
    from referral.security.crypto import current_keyring

    from sqlalchemy import inspect

    # The models may hold tables later revisions create: only those there now.
    existing = set(inspect(op.get_bind()).get_table_names())
    session = Session(bind=op.get_bind())
    try:
        report = bind_values_to_owners(
            session, current_keyring(), db.metadata, unbind=unbind, tables=existing
        )
        if report.failures:
            raise RuntimeError(
                f"{len(report.failures)} encrypted values do not open (first: "
                f"{report.failures[0]}); nothing was changed. Check the keys "
                "(referral keys check) and run the upgrade again."
            )
        session.flush()
    finally:
        session.close()


def upgrade():
    _rebind(unbind=False)


def downgrade():
    _rebind(unbind=True)
