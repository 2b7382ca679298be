"""Service sectors follow the inter-agency referral form, one list for the directory, a
referral's needs, the statistics and victim-assistance needs; migration 0009 recodes the
needs recorded before."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from referral.assistance.models import ENGINE_NEED, AssistanceNeed
from referral.cases import services as cases
from referral.db import Organisation
from referral.directory.labels import SECTOR_LABELS
from referral.directory.models import Sector
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.labels import NEED_LABELS
from referral.referrals.models import Need, Priority
from referral.reports.services import StatsScope
from referral.security.crypto import generate_key_entry
from referral.security.policy import Role
from tests.conftest import make_app
from tests.factories import (
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
)

INTER_AGENCY_FORM = [
    "gbv_case_management",
    "health",
    "psychosocial",
    "safety_security",
    "legal_aid",
    "shelter",
    "livelihoods",
    "child_protection",
    "education",
    "safe_space",
    "cash",
    "dignity_nfi",
    "food",
    "other",
]


def test_sectors_are_the_inter_agency_referral_form_in_its_order() -> None:
    assert [sector.value for sector in Sector] == INTER_AGENCY_FORM
    assert set(SECTOR_LABELS) == set(Sector)


def test_referral_needs_are_the_same_sectors_with_the_same_labels() -> None:
    assert Need is Sector
    assert NEED_LABELS is SECTOR_LABELS


def test_no_victim_assistance_need_falls_to_other_when_a_sector_exists() -> None:
    assert set(ENGINE_NEED) == set(AssistanceNeed)
    assert Sector.OTHER not in ENGINE_NEED.values()
    assert ENGINE_NEED[AssistanceNeed.EDUCATION] is Sector.EDUCATION
    assert ENGINE_NEED[AssistanceNeed.CHILD_BORN_OF_SEA] is Sector.CHILD_PROTECTION
    assert ENGINE_NEED[AssistanceNeed.LEGAL] is Sector.LEGAL_AID


def test_statistics_table_lists_every_sector(org: Organisation, other_org: Organisation) -> None:
    from datetime import date

    from referral.reports import services as reports

    scope = StatsScope(date(2026, 1, 1), date(2026, 12, 31), reports.Granularity.MONTH, org.id)
    report = reports.gbv_report(scope)
    table = next(t for t in report.tables if "sector" in t.title.lower())
    assert [str(row) for row in table.row_labels][: len(Sector)] == [
        str(SECTOR_LABELS[s]) for s in Sector
    ]


def test_migration_0009_recodes_needs_both_ways(tmp_path: Path, engine_name: str) -> None:
    if engine_name != "sqlite":
        pytest.skip("runs on its own SQLite file; the PostgreSQL schema is shared")
    app = make_app(f"sqlite:///{tmp_path / 'm.sqlite'}", ENCRYPTION_KEYS=generate_key_entry("m"))
    with app.app_context():
        upgrade()
        org = make_organisation("AAA")
        receiver = make_organisation("BBB")
        worker = make_person(Role.CASEWORKER, org).user
        case = open_case(worker)
        service = make_service(receiver, Sector.LEGAL_AID)
        publish_pathway(make_person(Role.GBV_COORDINATOR, org).user, [service])
        consent = referral_consent(case, worker, service)
        engine.create_referral(
            case,
            engine.ReferralRequest(
                service=service,
                priority=Priority.ROUTINE,
                needs=[Sector.SAFETY_SECURITY, Sector.LEGAL_AID, Sector.EDUCATION],
            ),
            consent=consent,
            actor=worker,
            send=True,
        )
        cases.add_action_item(case, Sector.LIVELIHOODS, "Plan", None, actor=worker)
        db.session.commit()
        db.session.remove()

        def stored() -> tuple[str, str]:
            with db.engine.connect() as c:
                needs = c.execute(sa.text("SELECT needs FROM referrals")).scalar_one()
                need = c.execute(sa.text("SELECT need FROM case_action_items")).scalar_one()
            return needs, need

        downgrade(revision="0008")
        assert stored() == ("safety,justice,other", "livelihood")
        upgrade()
        assert stored() == ("safety_security,legal_aid,other", "livelihoods")
        db.session.remove()
        db.engine.dispose()
