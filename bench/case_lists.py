"""Benchmark: case list and referral queue pages (keyset) over many rows.

    .venv/bin/python bench/case_lists.py                       # SQLite in a temp dir
    .venv/bin/python bench/case_lists.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/case_lists.py --cases 20000

The database is emptied and rebuilt by the migrations (use a throw-away database).
Cases and referrals are bulk-inserted (no sensitive fields: lists never read them),
then the first page and a deep page (by cursor) are timed for a supervisor, a
caseworker and the receiving organisation's queue.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from referral import create_app
from referral.cases import services as cases
from referral.cases.models import Case, CaseAssignment, CaseStage, RiskLevel
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import AgeGroup, Area, AreaLevel, Sector, Service, Sex
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import Priority, Referral, ReferralState, SourceKind
from referral.security.policy import Role


def _timed(label: str, run: object, repeat: int = 20) -> None:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
        db.session.rollback()
    print(f"{label:<48} median {statistics.median(samples):7.2f} ms  max {max(samples):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    os.environ.setdefault("REFERRAL_INSTANCE_PATH", tempfile.mkdtemp())
    app = create_app({"DATABASE_URL": url}, testing=True)
    with app.app_context():
        engine_ = db.engine
        with engine_.begin() as connection:
            if engine_.dialect.name == "postgresql":
                connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        org = Organisation(name="Bench", acronym="BEN", org_type=OrganisationType.NATIONAL_NGO)
        clinic = Organisation(
            name="Clinic",
            acronym="CLI",
            org_type=OrganisationType.NATIONAL_NGO,
            provides_services=True,
        )
        db.session.add_all([org, clinic])
        db.session.flush()
        users = {}
        for role, where in (
            (Role.SUPERVISOR, org),
            (Role.CASEWORKER, org),
            (Role.SERVICE_FOCAL_POINT, clinic),
        ):
            users[role] = User(
                email=f"{role.value}@bench.example.org",
                full_name=role.value,
                role=role,
                organisation=where,
                password_hash="x",  # noqa: S106 - never signs in
            )
            db.session.add(users[role])
        area = Area(code="B", name="Bench", level=AreaLevel.PROVINCE)
        db.session.add(area)
        db.session.flush()
        service = Service(
            organisation_id=clinic.id,
            sector=Sector.HEALTH,
            name="S",
            status_changed_at=datetime.now(UTC),
        )
        db.session.add(service)
        db.session.commit()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        worker = users[Role.CASEWORKER]
        other = users[Role.SUPERVISOR]
        rows, refs, assigned = [], [], []
        for i in range(args.cases):
            owner = worker if i % 10 == 0 else other
            case = Case(
                survivor_code=f"GBV-26-B{i:07d}",
                organisation_id=org.id,
                owner_id=owner.id,
                stage=list(CaseStage)[i % 7],
                risk_level=list(RiskLevel)[i % 3],
                opened_at=start + timedelta(minutes=i),
                age_group=AgeGroup.ADULT,
                sex=Sex.FEMALE,
                area_id=area.id,
                mandatory_reporting_explained_at=start,
                mandatory_reporting_explained_by_id=owner.id,
            )
            rows.append(case)
        db.session.add_all(rows)
        db.session.flush()
        for i, case in enumerate(rows):
            if i % 25 == 0:
                assigned.append(
                    CaseAssignment(case_id=case.id, user_id=worker.id, assigned_at=start)
                )
            refs.append(
                Referral(
                    reference=f"REF-26-B{i:07d}",
                    source_kind=SourceKind.GBV_CASE,
                    source_public_id=case.public_id,
                    survivor_code=case.survivor_code,
                    sending_organisation_id=org.id,
                    created_by_id=case.owner_id,
                    receiving_organisation_id=clinic.id,
                    service_id=service.id,
                    sector=Sector.HEALTH,
                    priority=Priority.URGENT,
                    state=ReferralState.SENT if i % 2 else ReferralState.ACCEPTED,
                    deadline_at=start + timedelta(minutes=i),
                    sent_at=start,
                    age_group=AgeGroup.ADULT,
                    sex=Sex.FEMALE,
                )
            )
        db.session.add_all(assigned + refs)
        db.session.commit()
        with engine_.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
        print(f"{engine_.dialect.name}: {args.cases} cases, {len(refs)} referrals")

        def deep(run_page, pages=20):  # type: ignore[no-untyped-def]
            def go() -> None:
                cursor = None
                for _ in range(pages):
                    page = run_page(cursor)
                    cursor = page.next_cursor

            return go

        sup, cw = users[Role.SUPERVISOR], users[Role.CASEWORKER]
        rec = users[Role.SERVICE_FOCAL_POINT]
        _timed(
            "supervisor: first page of 50 cases", lambda: cases.list_cases(sup, cases.CaseFilter())
        )
        _timed(
            "supervisor: 20 pages of 50 by keyset",
            deep(lambda c: cases.list_cases(sup, cases.CaseFilter(), cursor=c)),
            5,
        )
        _timed(
            "supervisor: filtered (stage + risk), first page",
            lambda: cases.list_cases(
                sup, cases.CaseFilter(stage=CaseStage.FOLLOW_UP, risk_level=RiskLevel.HIGH)
            ),
        )
        _timed(
            "caseworker: first page (own or assigned)",
            lambda: cases.list_cases(cw, cases.CaseFilter()),
        )
        _timed("receiver queue: first page of 50", lambda: engine.queue(rec.organisation_id))
        _timed(
            "receiver queue: 20 pages of 50 by keyset",
            deep(lambda c: engine.queue(rec.organisation_id, cursor=c)),
            5,
        )


if __name__ == "__main__":
    main()
