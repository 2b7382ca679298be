"""Benchmark: encrypt/decrypt time per value, and `audit verify` over 1,000,000 events.

    .venv/bin/python bench/crypto_audit.py                      # SQLite in a temp dir
    .venv/bin/python bench/crypto_audit.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/crypto_audit.py --events 100000      # smaller run

The database is emptied and rebuilt by the migrations (use a throw-away database).
Events are bulk-inserted with their real chain hashes (the triggers only refuse
UPDATE and DELETE), then the same verifier as `audit verify` walks them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from referral import create_app
from referral.audit.models import (
    CHAIN_FIELDS,
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    chain_mac,
)
from referral.audit.services import verify_chain
from referral.extensions import db
from referral.security.crypto import Binding, KeyRing, current_audit_keys, generate_key_entry


def bench_crypto(rounds: int) -> None:
    ring = KeyRing.from_entries([generate_key_entry("bench")])
    for size in (32, 256, 4096):
        plaintext = secrets.token_bytes(size)
        binding = Binding("cases", "narrative", "GBV-26-7KQ3M")
        sealed = [ring.seal(plaintext, binding) for _ in range(rounds)]
        t0 = time.perf_counter()
        for _ in range(rounds):
            ring.seal(plaintext, binding)
        t1 = time.perf_counter()
        for s in sealed:
            ring.open(s, binding)
        t2 = time.perf_counter()
        print(
            f"AES-256-GCM {size:>5} B: encrypt {(t1 - t0) / rounds * 1e6:6.2f} µs/value, "
            f"decrypt {(t2 - t1) / rounds * 1e6:6.2f} µs/value "
            f"(stored size {len(sealed[0].raw)} B)"
        )


def drop_everything(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def bench_audit(url: str, count: int, batch: int = 20_000) -> None:
    drop_everything(url)
    app = create_app(
        {"DATABASE_URL": url, "ENCRYPTION_KEYS": generate_key_entry("b")}, testing=True
    )
    with app.app_context():
        upgrade()
        table = AuditEvent.__table__
        prev = GENESIS_HASH
        keys = current_audit_keys()
        key_id = keys.current_key_id
        mac = keys.chain_mac(key_id)
        assert mac is not None
        start = datetime(2026, 1, 1, tzinfo=UTC)
        t0 = time.perf_counter()
        with db.engine.begin() as connection:
            for first in range(1, count + 1, batch):
                rows = []
                for i in range(first, min(first + batch, count + 1)):
                    fields = {
                        "id": i,
                        "occurred_at": start + timedelta(seconds=i),
                        "actor_id": i % 500,
                        "actor_public_id": f"U{i % 500:015d}",
                        "actor_role": "caseworker",
                        "org_id": i % 40,
                        "action": "case.viewed" if i % 3 else "auth.sign_in",
                        "obj_type": "case",
                        "obj_id": f"GBV-26-{i:05d}",
                        "outcome": "allowed",
                        "request_id": f"{i:016x}",
                        "client_address": "10.0.0.1",
                        "fields_revealed": ["name", "phone"] if i % 3 == 0 else [],
                        "detail": {},
                    }
                    digest = chain_mac(mac, prev, {k: fields[k] for k in CHAIN_FIELDS})
                    rows.append({**fields, "prev_hash": prev, "hash": digest, "key_id": key_id})
                    prev = digest
                connection.execute(sa.insert(table), rows)
            connection.execute(
                sa.update(AuditChainHead.__table__)
                .where(AuditChainHead.__table__.c.id == 1)
                .values(last_id=count, last_hash=prev)
            )
        t1 = time.perf_counter()
        print(f"bulk insert of {count:,} chained events: {t1 - t0:.1f} s")
        timings = []
        for _ in range(2):
            t2 = time.perf_counter()
            result = verify_chain(db.session())
            timings.append(time.perf_counter() - t2)
            assert result.ok and result.checked == count, result.message()
            db.session.remove()
        best = min(timings)
        print(
            f"audit verify over {count:,} events ({db.engine.dialect.name}): "
            f"{best:.1f} s best of {len(timings)} (median {statistics.median(timings):.1f} s), "
            f"{best / count * 1e6:.1f} µs/event"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: SQLite in a temp directory)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    bench_crypto(args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("REFERRAL_INSTANCE_PATH", tmp)
        url = args.url or f"sqlite:///{tmp}/bench.sqlite"
        bench_audit(url, args.events)


if __name__ == "__main__":
    main()
