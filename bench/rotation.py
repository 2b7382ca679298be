"""Benchmark: master-key rotation (re-wrap only) and full re-encryption over N cases.

    .venv/bin/python bench/rotation.py                        # 100,000 cases, SQLite
    .venv/bin/python bench/rotation.py --cases 10000
    .venv/bin/python bench/rotation.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database is emptied and rebuilt by the migrations (use a throw-away database).
Cases are bulk-inserted with three encrypted fields each (name, contact, narrative)
sealed under their own data key, wrapped by the master key, as the application does.
Then the same functions as `keys rotate` (re-wrap) and `keys rotate --full` run, and
the peak resident memory is reported to show that it does not grow with N.

Measured on the development container (100,000 cases, 300,000 values, batch 1,000):

    engine            re-wrap (keys rotate)   full (keys rotate --full)   keys check   peak RSS
    SQLite            9.1 s                   65.9 s                      20.7 s       156 MiB
    PostgreSQL 15     24.5 s                  88.6 s                      59.2 s       165 MiB

(the RSS is the same at 5,000 cases: memory is bounded by the batch, not by N).
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_migrate import upgrade

from referral import create_app
from referral.cases.models import Case
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import Area, AreaLevel
from referral.extensions import db
from referral.lifecycle import keys
from referral.lifecycle.models import RecordKey, wrap_binding
from referral.security.crypto import (
    KEYRING_EXTENSION,
    Binding,
    KeyRing,
    generate_key_entry,
    owner_label,
    rotate_keys,
)
from referral.security.policy import Role

FIELDS = ("name", "contact", "narrative")


def drop_everything(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(count: int, ring: KeyRing, batch: int = 5_000) -> None:
    org = Organisation(name="Bench", acronym="BEN", org_type=OrganisationType.INTERNATIONAL_NGO)
    area = Area(code="B-1", name="Bench area", level=AreaLevel.PROVINCE)
    db.session.add_all([org, area])
    db.session.flush()
    user = User(
        email="bench@example.org",
        full_name="Bench",
        role=Role.CASEWORKER,
        organisation=org,
        password_hash="!",  # noqa: S106 - never signs in
    )
    db.session.add(user)
    db.session.commit()
    cases = Case.__table__
    record_keys = RecordKey.__table__
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, count, batch):
        case_rows, key_rows = [], []
        for i in range(first, min(first + batch, count)):
            public_id = f"B{i:015d}"
            key_id = f"rk-bench{i:012d}"
            key = AESGCM.generate_key(bit_length=256)
            key_rows.append(
                {
                    "owner_type": "case",
                    "owner_public_id": public_id,
                    "key_id": key_id,
                    "wrapped": ring.wrap_data_key(key, wrap_binding("case", public_id, key_id)).raw,
                    "master_key_id": ring.current_key_id,
                    "created_at": now,
                }
            )
            row = {
                "public_id": public_id,
                "survivor_code": f"GBV-26-{i:07d}",
                "organisation_id": org.id,
                "owner_id": user.id,
                "stage": "implementation",
                "risk_level": "medium",
                "opened_at": now,
                "age_group": "18-59",
                "sex": "female",
                "area_id": area.id,
                "has_disability": False,
                "displacement_status": "unknown",
                "unaccompanied_or_separated": False,
                "referred_by": "self",
                "mandatory_reporting_explained_at": now,
                "mandatory_reporting_explained_by_id": user.id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for name in FIELDS:
                text = f"{name} of case {i} " + secrets.token_hex(16)
                row[name] = ring.seal_with_data_key(
                    text.encode(),
                    Binding("cases", name, public_id, owner_label("case", public_id)),
                    key_id,
                    key,
                )
            case_rows.append(row)
        db.session.execute(record_keys.insert(), key_rows)
        db.session.execute(cases.insert(), case_rows)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: SQLite in a temp directory)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("REFERRAL_INSTANCE_PATH", tmp)
        url = args.url or f"sqlite:///{tmp}/bench.sqlite"
        drop_everything(url)
        first = generate_key_entry("bench1")
        app = create_app({"DATABASE_URL": url, "ENCRYPTION_KEYS": first}, testing=True)
        with app.app_context():
            upgrade()
            ring: KeyRing = app.extensions[KEYRING_EXTENSION]
            t0 = time.perf_counter()
            seed(args.cases, ring)
            seeded = time.perf_counter() - t0
            print(
                f"{db.engine.dialect.name}: seeded {args.cases:,} cases "
                f"({len(FIELDS)} encrypted fields each) in {seeded:.1f} s; "
                f"peak RSS {max_rss_mib():.0f} MiB"
            )
            session = db.session()

            # 1. master-key rotation: re-wrap data keys (+ the few master-key values)
            ring2 = KeyRing(
                [*KeyRing.from_entries([generate_key_entry("bench2")]).entries, *ring.entries]
            )
            app.extensions[KEYRING_EXTENSION] = ring2
            t0 = time.perf_counter()
            rewrap = keys.rewrap_data_keys(session, ring2, batch_size=args.batch_size)
            t1 = time.perf_counter()
            rotate_keys(session, ring2, db.metadata, batch_size=args.batch_size)
            t2 = time.perf_counter()
            print(
                f"keys rotate (re-wrap): {sum(rewrap.rewrapped.values()):,} data keys "
                f"re-wrapped in {t1 - t0:.1f} s; scan for master-key values {t2 - t1:.1f} s; "
                f"total {t2 - t0:.1f} s; peak RSS {max_rss_mib():.0f} MiB"
            )

            # 2. full rotation: new data keys and every value re-encrypted
            ring3 = KeyRing(
                [*KeyRing.from_entries([generate_key_entry("bench3")]).entries, *ring2.entries]
            )
            app.extensions[KEYRING_EXTENSION] = ring3
            done = 0

            def progress(n: int) -> None:
                nonlocal done
                done += n
                if done % 50_000 < n:
                    print(f"  ... {done:,} values", file=sys.stderr)

            t0 = time.perf_counter()
            report = keys.reencrypt_everything(
                session, ring3, db.metadata, batch_size=args.batch_size, progress=progress
            )
            t1 = time.perf_counter()
            assert not report.failures, report.failures[:3]
            print(
                f"keys rotate --full: {report.keys_renewed:,} new data keys, "
                f"{report.values_moved:,} values re-encrypted in {t1 - t0:.1f} s; "
                f"peak RSS {max_rss_mib():.0f} MiB"
            )

            t0 = time.perf_counter()
            only_new = KeyRing(ring3.entries[:1])
            app.extensions[KEYRING_EXTENSION] = only_new
            check = keys.check_values(session, only_new, db.metadata, batch_size=2000)
            t1 = time.perf_counter()
            assert not check.failures, check.failures[:3]
            print(
                f"keys check with only the newest key: {check.opened:,} values open "
                f"in {t1 - t0:.1f} s; peak RSS {max_rss_mib():.0f} MiB"
            )


if __name__ == "__main__":
    main()
