"""The schema comes from the Alembic migrations, and they match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from referral.extensions import db


def pending_changes() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, db.metadata))


def test_migration_head_matches_the_models(app: Flask) -> None:
    assert pending_changes() == []


def test_upgrade_downgrade_upgrade(app: Flask) -> None:
    db.session.remove()
    downgrade(revision="base")
    with db.engine.connect() as connection:
        remaining = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    upgrade()
    assert pending_changes() == []
