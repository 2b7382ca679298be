"""Seed a migrated, empty database with realistic synthetic data, fast.

    .venv/bin/python bench/seed.py \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/referral_bench \\
        --keys "$REFERRAL_ENCRYPTION_KEYS" --audit-keys "$REFERRAL_AUDIT_KEYS" \\
        --cases 100000 --credentials /tmp/bench-users.json

Defaults: 100,000 cases (each with an incident and consents), 3 referrals per case,
one allegation per 10 cases, one assistance record per 100 cases, and 1,000,000 audit
events forming a valid hash chain (``audit verify`` passes). Rows go in through
SQLAlchemy Core ``insert()`` in executemany batches with explicit ids (the sequences are
moved past them at the end); encrypted fields are sealed in Python with the same key
ring and row binding as the application, so the app decrypts them (a case's fields under
its own data key, wrapped by the master key, as the application does).

Every user of every role gets one known password and an enrolled TOTP secret; both are
written to the credentials file (JSON) for the load driver. Synthetic data only: every
name is generated and means nothing. Never run against a database holding real data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Connection

from referral.audit.models import CHAIN_FIELDS, GENESIS_HASH, chain_mac
from referral.db.base import CODE_ALPHABET
from referral.lifecycle.models import wrap_binding
from referral.security import passwords
from referral.security.crypto import (
    AuditKeys,
    Binding,
    KeyRing,
    Sealed,
    owner_label,
    parse_key_entries,
)

BATCH = 5_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

AREA_PROVINCES = 4
DISTRICTS_PER_PROVINCE = 4
SITES_PER_DISTRICT = 2

CASE_ORGS = 8  # NGOs that handle cases and provide services
CASEWORKERS_PER_ORG = 3
SECTORS = (
    "gbv_case_management",
    "health",
    "psychosocial",
    "legal_aid",
    "safety_security",
    "shelter",
    "livelihoods",
)
INCIDENT_TYPES = (
    "rape",
    "sexual_assault",
    "physical_assault",
    "forced_marriage",
    "denial_of_resources",
    "psychological_abuse",
    "non_gbv",
)
CASE_STAGES = (
    ("engagement", 10),
    ("assessment", 10),
    ("action_plan", 15),
    ("implementation", 20),
    ("follow_up", 15),
    ("closure_requested", 5),
    ("closed", 25),
)
REFERRAL_STATES = (
    ("sent", 20),
    ("accepted", 25),
    ("declined", 10),
    ("completed", 35),
    ("closed", 5),
    ("withdrawn", 5),
)
ALLEGATION_STATES = (
    "received",
    "manual_routing",
    "routed",
    "acknowledged",
    "in_progress",
    "closed",
)
AUDIT_ACTIONS = (
    "case.viewed",
    "case.updated",
    "referral.sent",
    "referral.accepted",
    "auth.sign_in",
    "allegation.viewed",
    "consent.recorded",
    "case.stage_changed",
)


def _weighted(choices: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [c for c, _ in choices], [w for _, w in choices]


def code(prefix: str, n: int) -> str:
    """A unique code for counter ``n``: a bijection of n over 32**5, so it looks random."""
    value = (n * 9_586_981 + 12_345) % (32**5)
    chars = []
    for _ in range(5):
        value, digit = divmod(value, 32)
        chars.append(CODE_ALPHABET[digit])
    return f"{prefix}-26-{''.join(chars)}"


def public_id() -> str:
    bits = secrets.randbits(80)
    return "".join(CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(16))


class Seeder:
    def __init__(
        self, connection: Connection, ring: KeyRing, audit: AuditKeys, cases: int, events: int
    ) -> None:
        self.audit_keys = audit
        self.conn = connection
        self.ring = ring
        self.n_cases = cases
        self.n_events = events
        self.rng = random.Random(20261121)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.meta = sa.MetaData()
        self.meta.reflect(connection)
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------

    def seal(
        self, table: str, column: str, pid: str, text: str, owner: str | None = None
    ) -> Sealed:
        """Under the master key; ``owner``: the owner record of a row that has one."""
        return self.ring.seal(text.encode("utf-8"), Binding(table, column, pid, owner))

    def insert(self, table: str, rows: list[dict[str, Any]] | Iterator[dict[str, Any]]) -> None:
        t = self.meta.tables[table]
        encrypted = {c.name for c in t.columns if isinstance(c.type, sa.LargeBinary)}
        batch: list[dict[str, Any]] = []
        total = 0

        def flush() -> None:
            for row in batch:  # reflected columns are plain binary: store the raw bytes
                for name in encrypted & row.keys():
                    value = row[name]
                    if isinstance(value, Sealed):
                        row[name] = value.raw
            self.conn.execute(t.insert(), batch)

        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                flush()
                total += len(batch)
                batch = []
        if batch:
            flush()
            total += len(batch)
        self.counts[table] = self.counts.get(table, 0) + total

    def timed(self, label: str, started: float) -> None:
        self.timings[label] = time.perf_counter() - started

    def stamps(self, when: datetime) -> dict[str, datetime]:
        return {"created_at": when, "updated_at": when}

    # -- reference data --------------------------------------------------------------------

    def organisations(self) -> None:
        orgs: list[dict[str, Any]] = []
        specs = [("UN Protection Office", "UNPO", "un_agency", False)]
        specs += [(f"Case NGO {i}", f"CNGO{i}", "national_ngo", True) for i in range(CASE_ORGS)]
        specs += [
            ("Ministry of Social Affairs", "MOSA", "government", True),
            ("Stabilisation Mission", "STABM", "peacekeeping_mission", False),
            ("Community Safe Spaces", "CSS", "community_based", True),
        ]
        for i, (name, acronym, kind, provides) in enumerate(specs, start=1):
            orgs.append(
                {
                    "id": i,
                    "public_id": public_id(),
                    "name": f"{name} (synthetic)",
                    "acronym": acronym,
                    "org_type": kind,
                    "provides_services": provides,
                    "time_zone": "Africa/Bangui",
                    "active": True,
                    **self.stamps(EPOCH),
                }
            )
        self.insert("organisations", orgs)
        self.orgs = orgs
        self.case_org_ids = [o["id"] for o in orgs if o["acronym"].startswith("CNGO")]
        self.service_org_ids = [o["id"] for o in orgs if o["provides_services"]]
        self.coord_org = orgs[0]["id"]
        self.mission_org = next(o["id"] for o in orgs if o["org_type"] == "peacekeeping_mission")

    def users(self, password: str) -> list[dict[str, Any]]:
        pw_hash = passwords.hash_password(password)
        specs: list[tuple[str, int]] = [
            ("admin", self.coord_org),
            ("auditor", self.coord_org),
            ("gbv_coordinator", self.coord_org),
            ("psea_coordinator", self.coord_org),
            ("va_focal_point", self.coord_org),
            ("psea_focal_point", self.mission_org),
        ]
        for org in self.case_org_ids:
            specs += [("supervisor", org), ("service_focal_point", org), ("psea_focal_point", org)]
            specs += [("caseworker", org)] * CASEWORKERS_PER_ORG
        for org in self.service_org_ids:
            if org not in self.case_org_ids:
                specs.append(("service_focal_point", org))
        rows: list[dict[str, Any]] = []
        credentials: list[dict[str, Any]] = []
        for i, (role, org) in enumerate(specs, start=1):
            pid = public_id()
            secret = pyotp.random_base32()
            email = f"{role.replace('_', '.')}.{i}@bench.example.org"
            rows.append(
                {
                    "id": i,
                    "public_id": pid,
                    "email": email,
                    "full_name": f"Bench User {i}",
                    "role": role,
                    "organisation_id": org,
                    "active": True,
                    "password_hash": pw_hash,
                    "must_change_password": False,
                    "password_changed_at": EPOCH,
                    "totp_secret": self.seal("users", "totp_secret", pid, secret),
                    "totp_enrolled_at": EPOCH,
                    "totp_last_step": 0,
                    "session_version": 1,
                    **self.stamps(EPOCH),
                }
            )
            credentials.append(
                {
                    "email": email,
                    "password": password,
                    "totp_secret": secret,
                    "role": role,
                    "organisation_id": org,
                }
            )
        self.insert("users", rows)
        self.users_by_role: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            self.users_by_role.setdefault(row["role"], []).append(row)
        self.caseworkers_by_org: dict[int, list[int]] = {}
        for row in rows:
            if row["role"] == "caseworker":
                self.caseworkers_by_org.setdefault(row["organisation_id"], []).append(row["id"])
        self.all_users = rows
        return credentials

    def areas(self) -> None:
        rows: list[dict[str, Any]] = []

        def add(code_: str, name: str, level: str, parent: int | None) -> int:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "public_id": public_id(),
                    "code": code_,
                    "name": name,
                    "level": level,
                    "parent_id": parent,
                    **self.stamps(EPOCH),
                }
            )
            return len(rows)

        country = add("BN", "Benchland", "country", None)
        self.leaf_areas: list[int] = []
        self.districts: list[int] = []
        for p in range(AREA_PROVINCES):
            prov = add(f"BN-P{p}", f"Province {p}", "province", country)
            for d in range(DISTRICTS_PER_PROVINCE):
                dist = add(f"BN-P{p}-D{d}", f"District {p}.{d}", "district", prov)
                self.districts.append(dist)
                for s in range(SITES_PER_DISTRICT):
                    self.leaf_areas.append(
                        add(f"BN-P{p}-D{d}-S{s}", f"Site {p}.{d}.{s}", "site", dist)
                    )
        self.insert("areas", rows)
        self.area_rows = rows

    def services(self) -> None:
        rows: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        self.services_by_org: dict[int, list[tuple[int, str]]] = {}
        for org in self.service_org_ids:
            for k in range(4):
                sector = SECTORS[(org + k) % len(SECTORS)]
                sid = len(rows) + 1
                rows.append(
                    {
                        "id": sid,
                        "public_id": public_id(),
                        "organisation_id": org,
                        "sector": sector,
                        "name": f"Service {sid} {sector.replace('_', ' ')}",
                        "address": f"Street {sid}",
                        "opening_hours": "Mon-Fri 08:00-16:00",
                        "languages": "en, fr",
                        "accepts_0_11": k != 3,
                        "accepts_12_17": True,
                        "accepts_18_59": True,
                        "accepts_60_plus": True,
                        "accepts_female": True,
                        "accepts_male": k != 1,
                        "accepts_other": True,
                        "cost": "free",
                        "accessibility": "",
                        "what_to_bring": "",
                        "focal_point_name": "",
                        "focal_point_phone": "",
                        "focal_point_email": "",
                        "status": "available" if k else "limited",
                        "status_changed_at": EPOCH,
                        "status_note": "",
                        **self.stamps(EPOCH),
                    }
                )
                self.services_by_org.setdefault(org, []).append((sid, sector))
                for area in self.districts[(sid % 4) :: 4]:
                    links.append({"service_id": sid, "area_id": area})
        self.insert("services", rows)
        self.insert("service_areas", links)
        self.service_rows = rows

    def pathway(self) -> None:
        coordinator = self.users_by_role["gbv_coordinator"][0]["id"]
        area = self.districts[0]
        self.pathway_area = self.area_rows[area - 1]["public_id"]
        self.insert(
            "pathway_versions",
            [
                {
                    "id": 1,
                    "public_id": public_id(),
                    "area_id": area,
                    "number": 1,
                    "status": "published",
                    "title": "Synthetic pathway",
                    "sop_markdown": "## Procedure\n\n" + "Step by step guidance. " * 40,
                    "sea_reporting_procedure": "Report SEA to the PSEA focal point on duty.",
                    "change_note": "Benchmark",
                    "created_by_id": coordinator,
                    "created_at": EPOCH,
                    "updated_at": EPOCH,
                    "submitted_by_id": coordinator,
                    "submitted_at": EPOCH,
                    "published_by_id": coordinator,
                    "published_at": EPOCH,
                    "row_version": 1,
                }
            ],
        )
        steps, links = [], []
        for position, (sid_row) in enumerate(self.service_rows[:6], start=1):
            steps.append(
                {
                    "id": position,
                    "public_id": public_id(),
                    "version_id": 1,
                    "position": position,
                    "sector": sid_row["sector"],
                    "guidance": "Call ahead; accompany the survivor where possible.",
                }
            )
            links.append({"step_id": position, "service_id": sid_row["id"]})
        self.insert("pathway_steps", steps)
        self.insert("pathway_step_services", links)

    # -- cases, incidents, consents, referrals ---------------------------------------------

    def cases(self) -> None:
        rng = self.rng
        stages, stage_w = _weighted(CASE_STAGES)
        states, state_w = _weighted(REFERRAL_STATES)
        span = 2 * 365 * 86400
        cases: list[dict[str, Any]] = []
        record_keys: list[dict[str, Any]] = []
        incidents: list[dict[str, Any]] = []
        consents: list[dict[str, Any]] = []
        referrals: list[dict[str, Any]] = []
        consent_id = referral_id = 0
        for i in range(1, self.n_cases + 1):
            org = self.case_org_ids[i % len(self.case_org_ids)]
            owner = rng.choice(self.caseworkers_by_org[org])
            opened = self.now - timedelta(seconds=rng.randrange(span))
            age = rng.choice((9, 15, 16, 24, 31, 38, 45, 67))
            age_group = (
                "0-11" if age <= 11 else "12-17" if age <= 17 else "18-59" if age <= 59 else "60+"
            )
            sex = rng.choices(("female", "male", "other"), (85, 13, 2))[0]
            stage = rng.choices(stages, stage_w)[0]
            pid = public_id()
            survivor_code = code("GBV", i)
            # As the application does (R26): the case's own data key, wrapped by the master
            # key; its sensitive fields are sealed under the data key.
            key_id = f"rk-bench{i:012d}"
            data_key = AESGCM.generate_key(bit_length=256)
            record_keys.append(
                {
                    "id": i,
                    "owner_type": "case",
                    "owner_public_id": pid,
                    "key_id": key_id,
                    "wrapped": self.ring.wrap_data_key(
                        data_key, wrap_binding("case", pid, key_id)
                    ).raw,
                    "master_key_id": self.ring.current_key_id,
                    "created_at": opened,
                }
            )

            def sealed(
                column: str, text: str, pid: str = pid, key_id: str = key_id, key: bytes = data_key
            ) -> Sealed:
                binding = Binding("cases", column, pid, owner_label("case", pid))
                return self.ring.seal_with_data_key(text.encode("utf-8"), binding, key_id, key)

            cases.append(
                {
                    "id": i,
                    "public_id": pid,
                    "survivor_code": survivor_code,
                    "organisation_id": org,
                    "owner_id": owner,
                    "stage": stage,
                    "risk_level": rng.choice(("low", "medium", "high")),
                    "opened_at": opened,
                    "age": age,
                    "age_group": age_group,
                    "sex": sex,
                    "area_id": rng.choice(self.leaf_areas),
                    "has_disability": rng.random() < 0.1,
                    "displacement_status": rng.choice(("resident", "idp", "refugee", "unknown")),
                    "unaccompanied_or_separated": False,
                    "referred_by": "self",
                    "mandatory_reporting_explained_at": opened,
                    "mandatory_reporting_explained_by_id": owner,
                    "name": sealed("name", f"Survivor {i}"),
                    "contact": sealed("contact", f"+236 70 {i:06d}"),
                    "narrative": sealed("narrative", "Synthetic narrative for load testing. " * 4),
                    "closure_reason": "needs_met" if stage == "closed" else None,
                    "closed_at": opened + timedelta(days=30) if stage == "closed" else None,
                    "version": 1,
                    **self.stamps(opened),
                }
            )
            incident_at = opened - timedelta(hours=rng.randrange(1, 24 * 40))
            itype = rng.choice(INCIDENT_TYPES)
            delay_days = (opened - incident_at).total_seconds() / 86400
            delay = (
                "0-3 days"
                if delay_days < 4
                else "4-5 days"
                if delay_days < 6
                else "6-14 days"
                if delay_days < 15
                else "2 weeks-1 month"
                if delay_days <= 31
                else "more than 1 month"
            )
            incident_pid = public_id()
            incidents.append(
                {
                    "id": i,
                    "public_id": incident_pid,
                    "case_id": i,
                    "number": 1,
                    "penetration": itype == "rape",
                    "unwanted_sexual_contact": itype == "sexual_assault",
                    "physical_assault": itype == "physical_assault",
                    "forced_marriage": itype == "forced_marriage",
                    "denial_of_resources": itype == "denial_of_resources",
                    "psychological_abuse": itype == "psychological_abuse",
                    "incident_type": itype,
                    "goods_or_money_exchanged": False,
                    "abduction": False,
                    "previously_reported": rng.choice(("gbvims_org", "non_gbvims_org"))
                    if rng.random() < 0.05
                    else "no",
                    "perpetrator_count": 1,
                    "perpetrator_sex": "male",
                    "perpetrator_age_group": "adult",
                    "perpetrator_relationship": rng.choice(
                        ("intimate_partner", "family_member", "stranger", "community_member")
                    ),
                    "incident_at": incident_at,
                    "incident_time_approximate": False,
                    "time_of_day": rng.choice(("morning", "afternoon", "evening_night")),
                    "location_type": rng.choice(("home", "road", "market", "field_or_bush")),
                    "reported_on": opened.date(),
                    "reporting_delay": delay,
                    "child_sexual_abuse": age < 18 and itype in ("rape", "sexual_assault"),
                    "early_marriage": age < 18 and itype == "forced_marriage",
                    "possible_sexual_exploitation": False,
                    "intimate_partner_violence": False,
                    **self.stamps(opened),
                }
            )
            for kind in ("services", "statistics"):
                consent_id += 1
                consents.append(
                    self._consent(consent_id, pid, org, kind, None, None, owner, opened, age)
                )
            for _ in range(3):
                receiving = rng.choice(self.service_org_ids)
                service_id, sector = rng.choice(self.services_by_org[receiving])
                consent_id += 1
                consents.append(
                    self._consent(
                        consent_id, pid, org, "referral", receiving, sector, owner, opened, age
                    )
                )
                referral_id += 1
                state = rng.choices(states, state_w)[0]
                priority = rng.choices(("emergency", "urgent", "routine"), (10, 30, 60))[0]
                sent = opened + timedelta(hours=rng.randrange(1, 72))
                hours = {"emergency": 24, "urgent": 72, "routine": 336}[priority]
                rpid = public_id()
                referrals.append(
                    {
                        "id": referral_id,
                        "public_id": rpid,
                        "reference": code("REF", referral_id),
                        "source_kind": "gbv_case",
                        "source_public_id": pid,
                        "incident_public_id": incident_pid,
                        "survivor_code": survivor_code,
                        "sending_organisation_id": org,
                        "created_by_id": owner,
                        "receiving_organisation_id": receiving,
                        "service_id": service_id,
                        "sector": sector,
                        "pathway_eligibility": "eligible",
                        "priority": priority,
                        "state": state,
                        "time_critical": priority == "emergency",
                        "deadline_at": sent + timedelta(hours=hours),
                        "sent_at": sent,
                        "responded_at": None if state == "sent" else sent + timedelta(hours=5),
                        "finished_at": sent + timedelta(days=9)
                        if state in ("completed", "closed")
                        else None,
                        "age_group": age_group,
                        "sex": sex,
                        "needs": rng.choice(
                            ("health", "psychosocial", "safety_security,health", "legal_aid")
                        ),
                        "note": self.seal(
                            "referrals",
                            "note",
                            rpid,
                            "Please call before 4 pm.",
                            owner_label("case", pid),
                        ),
                        "shared_fields": "",
                        "consent_id": consent_id,
                        "version": 1,
                        **self.stamps(sent),
                    }
                )
            if i % BATCH == 0 or i == self.n_cases:
                self.insert("record_keys", record_keys)
                self.insert("cases", cases)
                self.insert("incidents", incidents)
                self.insert("consents", consents)
                self.insert("referrals", referrals)
                cases, incidents, consents, referrals = [], [], [], []
                record_keys = []

    def _consent(
        self,
        cid: int,
        source: str,
        org: int,
        kind: str,
        receiving: int | None,
        sector: str | None,
        recorder: int,
        when: datetime,
        age: int,
    ) -> dict[str, Any]:
        child = age < 18
        return {
            "id": cid,
            "public_id": public_id(),
            "source_kind": "gbv_case",
            "source_public_id": source,
            "organisation_id": org,
            "kind": kind,
            "granted": True,
            "receiving_organisation_id": receiving,
            "sector": sector,
            "shared_fields": "",
            "survivor_is_child": child,
            "caregiver_consented": True if child else None,
            "caregiver_relationship": "mother" if child else None,
            "caregiver_is_alleged_perpetrator": False if child else None,
            "child_assented": True if child else None,
            "recorded_by_id": recorder,
            "recorded_at": when,
            **self.stamps(when),
        }

    # -- PSEA ------------------------------------------------------------------------------

    def allegations(self) -> None:
        rng = self.rng
        count = max(self.n_cases // 10, 10)
        recorders = self.users_by_role["psea_focal_point"]
        span = 2 * 365 * 86400
        rows, groups = [], []
        for i in range(1, count + 1):
            recorder = rng.choice(recorders)
            received = self.now - timedelta(seconds=rng.randrange(span))
            state = rng.choice(ALLEGATION_STATES)
            routed = state not in ("received", "manual_routing")
            target = rng.choice([*self.case_org_ids, self.mission_org])
            pid = public_id()
            child = rng.random() < 0.2
            rows.append(
                {
                    "id": i,
                    "public_id": pid,
                    "reference": code("SEA", i),
                    "state": state,
                    "version": 1,
                    "received_at": received,
                    "channel": rng.choice(("in_person", "hotline", "email", "complaint_box")),
                    "incident_from": received.date() - timedelta(days=30),
                    "incident_to": received.date() - timedelta(days=20),
                    "area_id": rng.choice(self.districts),
                    "category": "sexual_abuse_of_a_child"
                    if child
                    else rng.choice(("sexual_exploitation", "sexual_abuse", "unknown")),
                    "entity_type": "peacekeeping_mission" if target == self.mission_org else "ngo",
                    "entity_organisation_id": target,
                    "personnel_category": rng.choice(("staff", "volunteer", "contractor")),
                    "survivor_count": 1,
                    "any_child_survivor": child,
                    "consents_to_assistance": rng.random() < 0.4,
                    "narrative": self.seal(
                        "allegations",
                        "narrative",
                        pid,
                        "Short synthetic note.",
                        owner_label("allegation", pid),
                    )
                    if i % 2
                    else None,
                    "received_by_organisation_id": recorder["organisation_id"],
                    "recorded_by_id": recorder["id"],
                    "routed_to_organisation_id": target if routed else None,
                    "routed_at": received + timedelta(hours=20) if routed else None,
                    "acknowledged_at": received + timedelta(hours=50)
                    if state in ("acknowledged", "in_progress", "closed")
                    else None,
                    "outcome": "unsubstantiated" if state == "closed" else None,
                    "outcome_reported_at": received + timedelta(days=40)
                    if state == "closed"
                    else None,
                    "route_due_at": received + timedelta(hours=24),
                    "acknowledge_due_at": received + timedelta(hours=68) if routed else None,
                    **self.stamps(received),
                }
            )
            groups.append(
                {
                    "id": i,
                    "allegation_id": i,
                    "age_group": "under_18" if child else "adult",
                    "sex": "female",
                    "count": 1,
                }
            )
        self.insert("allegations", rows)
        self.insert("allegation_survivor_groups", groups)
        va = self.users_by_role["va_focal_point"][0]
        records = []
        for i in range(1, max(self.n_cases // 100, 5) + 1):
            when = self.now - timedelta(seconds=rng.randrange(span))
            records.append(
                {
                    "id": i,
                    "public_id": public_id(),
                    "survivor_code": code("VA", i),
                    "organisation_id": va["organisation_id"],
                    "allegation_public_id": None,
                    "age_group": "18-59",
                    "sex": "female",
                    "area_id": rng.choice(self.leaf_areas),
                    "needs": "medical,psychosocial",
                    "state": "open" if i % 3 else "closed",
                    "opened_by_id": va["id"],
                    "closed_at": None if i % 3 else when + timedelta(days=10),
                    "version": 1,
                    **self.stamps(when),
                }
            )
        self.insert("assistance_records", records)

    # -- audit trail -----------------------------------------------------------------------

    def audit(self) -> None:
        rng = self.rng
        users = self.all_users
        start = self.now - timedelta(days=730)
        step = timedelta(days=730) / max(self.n_events, 1)
        prev = GENESIS_HASH
        key_id = self.audit_keys.current_key_id
        mac = self.audit_keys.chain_mac(key_id)
        assert mac is not None

        def events() -> Iterator[dict[str, Any]]:
            nonlocal prev
            for i in range(1, self.n_events + 1):
                user = users[rng.randrange(len(users))]
                action = AUDIT_ACTIONS[i % len(AUDIT_ACTIONS)]
                viewed = action == "case.viewed"
                fields = {
                    "id": i,
                    "occurred_at": start + step * i,
                    "actor_id": user["id"],
                    "actor_public_id": user["public_id"],
                    "actor_role": user["role"],
                    "org_id": user["organisation_id"],
                    "action": action,
                    "obj_type": action.split(".")[0],
                    "obj_id": code("GBV", rng.randrange(1, self.n_cases + 1)),
                    "outcome": "allowed" if i % 50 else "denied",
                    "request_id": f"{i:016x}",
                    "client_address": "10.0.0.1",
                    "fields_revealed": ["contact", "name"] if viewed else [],
                    "detail": {} if viewed else {"note": "synthetic"},
                }
                digest = chain_mac(mac, prev, {k: fields[k] for k in CHAIN_FIELDS})
                yield {**fields, "prev_hash": prev, "hash": digest, "key_id": key_id}
                prev = digest

        self.insert("audit_events", events())
        head = self.meta.tables["audit_chain_head"]
        self.conn.execute(
            sa.update(head).where(head.c.id == 1).values(last_id=self.n_events, last_hash=prev)
        )

    def reset_sequences(self) -> None:
        if self.conn.dialect.name != "postgresql":
            return  # SQLite's INTEGER PRIMARY KEY continues after the highest id by itself
        for table in self.meta.sorted_tables:
            pk = list(table.primary_key.columns)
            if len(pk) != 1 or table.name in ("audit_events", "audit_chain_head"):
                continue
            seq = self.conn.scalar(
                sa.select(sa.func.pg_get_serial_sequence(table.name, pk[0].name))
            )
            if seq:
                self.conn.execute(
                    sa.text(
                        f"SELECT setval('{seq}', COALESCE((SELECT max({pk[0].name}) FROM "  # noqa: S608 - names from the reflected schema
                        f"{table.name}), 0) + 1, false)"
                    )
                )

    def run(self, password: str) -> list[dict[str, Any]]:
        t = time.perf_counter()
        self.organisations()
        credentials = self.users(password)
        self.areas()
        self.services()
        self.pathway()
        self.timed("reference data", t)
        t = time.perf_counter()
        self.cases()
        self.timed("cases, incidents, consents, referrals", t)
        t = time.perf_counter()
        self.allegations()
        self.timed("allegations and assistance", t)
        t = time.perf_counter()
        self.audit()
        self.timed("audit events (hash chain)", t)
        self.reset_sequences()
        return credentials


def seed(
    url: str,
    keys: str,
    *,
    audit_keys: str,
    cases: int,
    events: int,
    credentials_path: Path,
    password: str | None = None,
) -> dict[str, Any]:
    """Seed ``url`` (migrated, empty); write the credentials file; return the figures."""
    ring = KeyRing.from_entries(keys)
    password = password or "bench-" + secrets.token_urlsafe(12)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        if connection.scalar(sa.text("SELECT count(*) FROM users")):
            raise SystemExit("the database already holds users: seed a fresh database")
        seeder = Seeder(connection, ring, AuditKeys(parse_key_entries(audit_keys)), cases, events)
        credentials = seeder.run(password)
        seeder_info = {
            "pathway_area": seeder.pathway_area,
            "districts": [seeder.area_rows[d - 1]["public_id"] for d in seeder.districts],
        }
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    elapsed = time.perf_counter() - started
    credentials_path.write_text(
        json.dumps({"users": credentials, **seeder_info}, indent=1), encoding="utf-8"
    )
    os.chmod(credentials_path, 0o600)
    return {"seconds": elapsed, "timings": seeder.timings, "rows": seeder.counts}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a migrated, empty database")
    parser.add_argument(
        "--keys",
        default=os.environ.get("REFERRAL_ENCRYPTION_KEYS", ""),
        help="key entries the app runs with (default: $REFERRAL_ENCRYPTION_KEYS)",
    )
    parser.add_argument(
        "--audit-keys",
        default=os.environ.get("REFERRAL_AUDIT_KEYS", ""),
        help="audit key entries the app runs with (default: $REFERRAL_AUDIT_KEYS)",
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=None, help="default: 10 per case")
    parser.add_argument("--credentials", type=Path, default=Path("bench-users.json"))
    args = parser.parse_args()
    events = args.events if args.events is not None else args.cases * 10
    result = seed(
        args.url,
        args.keys,
        audit_keys=args.audit_keys,
        cases=args.cases,
        events=events,
        credentials_path=args.credentials,
    )
    for label, seconds in result["timings"].items():
        print(f"  {label}: {seconds:.1f} s")
    print(
        f"seeded {sum(result['rows'].values()):,} rows in {result['seconds']:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items())
    )


if __name__ == "__main__":
    main()
