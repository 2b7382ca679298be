"""R24 per GBVIMS: statistics drop only incidents previously reported to a GBVIMS
organisation; migration 0010 keeps old "reported elsewhere" incidents out."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from referral.cases.models import Incident, PreviouslyReported
from referral.extensions import db
from referral.security.crypto import generate_key_entry
from referral.security.policy import Role
from tests.conftest import make_app
from tests.factories import make_organisation, make_person
from tests.test_reports_statistics import gbv_case


def test_r24_previously_reported_has_the_three_gbvims_answers() -> None:
    assert [answer.value for answer in PreviouslyReported] == [
        "no",
        "gbvims_org",
        "non_gbvims_org",
    ]


def test_migration_0010_keeps_incidents_reported_elsewhere_out_of_statistics(
    tmp_path: Path, engine_name: str
) -> None:
    if engine_name != "sqlite":
        pytest.skip("runs on its own SQLite file; the PostgreSQL schema is shared")
    app = make_app(f"sqlite:///{tmp_path / 'm.sqlite'}", ENCRYPTION_KEYS=generate_key_entry("m"))
    with app.app_context():
        upgrade()
        worker = make_person(Role.CASEWORKER, make_organisation("AAA"))
        gbv_case(worker)
        gbv_case(worker, previously_reported=PreviouslyReported.NON_GBVIMS_ORG)
        db.session.remove()
        downgrade(revision="0009")
        with db.engine.connect() as c:
            flags = c.execute(sa.text("SELECT reported_elsewhere FROM incidents ORDER BY id"))
            assert [bool(f) for (f,) in flags] == [False, True]
        upgrade()
        answers = db.session.scalars(sa.select(Incident.previously_reported).order_by(Incident.id))
        assert list(answers) == [PreviouslyReported.NO, PreviouslyReported.GBVIMS_ORG]
        db.session.remove()
        db.engine.dispose()
