"""Benchmark: the GBV statistics report and the incident-level export over 100,000 cases.

    .venv/bin/python bench/reports.py                      # SQLite in a temp dir
    .venv/bin/python bench/reports.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/reports.py --cases 20000         # smaller run

The database is emptied and rebuilt by the migrations (use a throw-away database).
Cases, incidents, statistics consents and referrals are bulk-inserted (no encrypted
field is needed for statistics), then the report is built as the pages build it.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from referral import create_app
from referral.cases.models import (
    Case,
    Incident,
    IncidentType,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    ReportingDelay,
    RiskLevel,
    TimeOfDay,
)
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import AgeGroup, Area, AreaLevel, Sector, Service, Sex
from referral.extensions import db
from referral.referrals.models import (
    Consent,
    ConsentKind,
    Priority,
    Referral,
    ReferralState,
    SourceKind,
)
from referral.reports import services
from referral.security.policy import Role

TYPES = [t for t in IncidentType if t is not IncidentType.NON_GBV]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def drop_everything(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def populate(count: int, rng: random.Random) -> Organisation:
    organisations = [
        Organisation(
            name=f"Org {i}",
            acronym=f"ORG{i}",
            org_type=OrganisationType.INTERNATIONAL_NGO,
            provides_services=True,
        )
        for i in range(5)
    ]
    db.session.add_all(organisations)
    province = Area(code="P", name="Province", level=AreaLevel.PROVINCE)
    districts = [
        Area(code=f"P-{i}", name=f"District {i}", level=AreaLevel.DISTRICT, parent=province)
        for i in range(20)
    ]
    db.session.add_all([province, *districts])
    db.session.flush()
    users = [
        User(
            email=f"w{i}@bench.example.org",
            full_name=f"Worker {i}",
            role=Role.CASEWORKER,
            organisation=organisation,
            password_hash="!",  # noqa: S106 - bench users never sign in
        )
        for i, organisation in enumerate(organisations)
    ]
    db.session.add_all(users)
    service = Service(
        organisation_id=organisations[1].id,
        sector=Sector.HEALTH,
        name="Clinic",
        status_changed_at=NOW,
    )
    db.session.add(service)
    db.session.commit()

    batch = 5000
    for start in range(0, count, batch):
        cases, incidents, consents, referrals = [], [], [], []
        for number in range(start, min(start + batch, count)):
            index = rng.randrange(len(organisations))
            opened = NOW - timedelta(days=rng.randrange(720))
            public_id = f"benchcase{number:08d}"
            code = f"GBV-B-{number:07d}"
            cases.append(
                {
                    "public_id": public_id,
                    "survivor_code": code,
                    "organisation_id": organisations[index].id,
                    "owner_id": users[index].id,
                    "risk_level": RiskLevel.MEDIUM,
                    "opened_at": opened,
                    "age_group": rng.choice(list(AgeGroup)),
                    "sex": rng.choice([Sex.FEMALE] * 8 + [Sex.MALE, Sex.OTHER]),
                    "area_id": rng.choice(districts).id,
                    "mandatory_reporting_explained_at": opened,
                    "mandatory_reporting_explained_by_id": users[index].id,
                }
            )
            delay = timedelta(hours=rng.randrange(1, 24 * 40))
            incidents.append(
                {
                    "public_id": f"benchinc{number:08d}",
                    "_case": public_id,
                    "penetration": False,
                    "unwanted_sexual_contact": False,
                    "physical_assault": False,
                    "forced_marriage": False,
                    "denial_of_resources": False,
                    "psychological_abuse": False,
                    "incident_type": rng.choice(TYPES),
                    "perpetrator_age_group": PerpetratorAgeGroup.ADULT,
                    "perpetrator_relationship": PerpetratorRelationship.STRANGER,
                    "incident_at": opened - delay,
                    "time_of_day": TimeOfDay.MORNING,
                    "location_type": LocationType.HOME,
                    "reported_on": opened.date(),
                    "reporting_delay": ReportingDelay.between(opened - delay, opened),
                    "previously_reported": rng.choice(("gbvims_org", "non_gbvims_org"))
                    if rng.random() < 0.05
                    else "no",
                }
            )
            if rng.random() < 0.8:
                consents.append(
                    {
                        "public_id": f"benchcon{number:08d}",
                        "source_kind": SourceKind.GBV_CASE,
                        "source_public_id": public_id,
                        "organisation_id": organisations[index].id,
                        "kind": ConsentKind.STATISTICS,
                        "recorded_by_id": users[index].id,
                        "recorded_at": opened,
                    }
                )
            if rng.random() < 0.5:
                state = rng.choice(list(ReferralState)[1:])
                referrals.append(
                    {
                        "public_id": f"benchref{number:08d}",
                        "reference": f"REF-B-{number:07d}",
                        "source_kind": SourceKind.GBV_CASE,
                        "source_public_id": public_id,
                        "incident_public_id": f"benchinc{number:08d}",
                        "survivor_code": code,
                        "sending_organisation_id": organisations[index].id,
                        "created_by_id": users[index].id,
                        "receiving_organisation_id": organisations[1].id,
                        "service_id": service.id,
                        "sector": Sector.HEALTH,
                        "priority": Priority.URGENT,
                        "state": state,
                        "sent_at": opened,
                        "deadline_at": opened + timedelta(hours=72),
                        "responded_at": opened + timedelta(hours=rng.randrange(1, 100)),
                        "finished_at": opened + timedelta(days=rng.randrange(1, 30)),
                        "age_group": AgeGroup.ADULT,
                        "sex": Sex.FEMALE,
                    }
                )
        db.session.execute(sa.insert(Case), cases)
        ids = dict(
            db.session.execute(
                sa.select(Case.public_id, Case.id).where(
                    Case.public_id.in_([c["public_id"] for c in cases])
                )
            ).all()
        )
        for row in incidents:
            row["case_id"] = ids[row.pop("_case")]
        db.session.execute(sa.insert(Incident), incidents)
        if consents:
            db.session.execute(sa.insert(Consent), consents)
        if referrals:
            db.session.execute(sa.insert(Referral), referrals)
        db.session.commit()
    return organisations[0]


def timed(label: str, function: object, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    size = len(result[1]) if isinstance(result, tuple) else ""
    print(f"{label:<55} {best * 1000:8.0f} ms {size}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="")
    parser.add_argument("--cases", type=int, default=100_000)
    arguments = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="referral-bench-")
    url = arguments.url or f"sqlite:///{workdir}/bench.sqlite"
    os.environ.setdefault("REFERRAL_INSTANCE_PATH", workdir)
    drop_everything(url)
    app = create_app({"DATABASE_URL": url}, testing=True)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        own = populate(arguments.cases, random.Random(7))
        print(f"inserted {arguments.cases} cases in {time.perf_counter() - started:.1f} s")
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load: planner statistics.
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text("ANALYZE")
                )
        year = services.Granularity.MONTH
        shared = services.StatsScope(date(2025, 3, 1), date(2026, 3, 1), year, None)
        own_scope = services.StatsScope(date(2025, 3, 1), date(2026, 3, 1), year, own.id)
        with app.test_request_context("/"):
            timed("GBV report, all organisations, 12 months", lambda: services.gbv_report(shared))
            timed("GBV report, one organisation, 12 months", lambda: services.gbv_report(own_scope))
            timed(
                "incident-level export rows, one organisation, 12 months",
                lambda: services.incident_export(own_scope),
            )


if __name__ == "__main__":
    main()
