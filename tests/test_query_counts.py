"""List pages run a fixed number of SQL statements: no N+1 queries.

Each list page is requested at a small and a larger page size over the same synthetic
data (bench/seed.py, the benchmark's seeder), then over a data set four times larger;
the number of statements sent to the database must not change. The key pages (case
list and case page, inboxes, referral queue, allegation list, audit log, pathway) are
also counted over 30 and 300 seeded cases, and must stay under a small bound. A statement per row
(a lazy relationship in a template, a lookup in a loop) makes the count grow and fails
the test with the counts and the statements.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bench.seed import Seeder
from referral.db import User
from referral.extensions import db
from referral.security.crypto import AUDIT_KEYS_EXTENSION, KEYRING_EXTENSION
from tests.conftest import sign_in
from tests.factories import Person

PAGES: list[tuple[str, str, str]] = [
    ("case list", "supervisor", "/cases/"),
    ("case list filtered", "supervisor", "/cases/?stage=implementation"),
    ("referral queue", "service_focal_point", "/referrals/"),
    ("allegation list", "psea_coordinator", "/allegations/"),
    ("audit log", "auditor", "/audit/"),
    ("audit log filtered", "auditor", "/audit/?action=case.viewed"),
    ("service directory", "gbv_coordinator", "/directory/"),
    ("pathways", "gbv_coordinator", "/pathways/"),
    ("assistance list", "va_focal_point", "/assistance/"),
]
PASSWORD = "query-count-" + "x" * 12


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def seed(app: Flask, cases: int, tmp_path: Path) -> dict[str, Person]:
    with db.engine.begin() as connection:
        seeder = Seeder(
            connection,
            app.extensions[KEYRING_EXTENSION],
            app.extensions[AUDIT_KEYS_EXTENSION],
            cases,
            cases * 10,
        )
        credentials = seeder.run(PASSWORD)
    people: dict[str, Person] = {}
    for entry in credentials:
        if entry["role"] not in people:
            user = db.session.scalar(db.select(User).where(User.email == entry["email"]))
            assert user is not None
            people[entry["role"]] = Person(user, PASSWORD, entry["totp_secret"])
    return people


def page_counts(app: Flask, people: dict[str, Person], page_size: int) -> dict[str, list[str]]:
    counts: dict[str, list[str]] = {}
    previous = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = page_size
    try:
        for role in sorted({role for _, role, _ in PAGES}):
            client: FlaskClient = app.test_client()
            sign_in(client, people[role])
            for name, page_role, url in PAGES:
                if page_role != role:
                    continue
                assert client.get(url).status_code == 200, name  # warm: session touch etc.
                with counting() as statements:
                    response = client.get(url)
                assert response.status_code == 200, name
                counts[name] = list(statements)
    finally:
        app.config["PAGE_SIZE"] = previous
    return counts


def rows_shown(app: Flask, people: dict[str, Person], page_size: int) -> None:
    """The larger page size really shows more rows (else the comparison proves nothing)."""
    client = app.test_client()
    sign_in(client, people["supervisor"])
    previous = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = page_size
    try:
        html = client.get("/cases/").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = previous
    assert html.count('href="/cases/') - html.count('href="/cases/new') >= page_size


def _explain(name: str, a: list[str], b: list[str]) -> str:
    return f"{name}: {len(a)} statements vs {len(b)}\n  " + "\n  ".join(
        s.split("\n")[0][:150] for s in (b if len(b) > len(a) else a)
    )


@pytest.mark.parametrize("cases", [40, 160])
def test_list_pages_do_not_grow_with_page_size(app: Flask, cases: int, tmp_path: Path) -> None:
    people = seed(app, cases, tmp_path)
    rows_shown(app, people, 3)
    small = page_counts(app, people, 2)
    large = page_counts(app, people, 4)
    problems = [
        _explain(name, small[name], large[name])
        for name in small
        if len(small[name]) != len(large[name])
    ]
    assert not problems, "\n".join(problems)


def test_list_pages_do_not_grow_with_data(app: Flask, tmp_path: Path) -> None:
    """The same pages over 40 and 160 cases (separate seeds) run as many statements."""
    from tests.conftest import empty_tables

    people = seed(app, 40, tmp_path)
    few = page_counts(app, people, 4)
    db.session.rollback()
    db.session.remove()
    empty_tables(app)
    people = seed(app, 160, tmp_path)
    many = page_counts(app, people, 4)
    problems = [
        _explain(name, few[name], many[name]) for name in few if len(few[name]) != len(many[name])
    ]
    assert not problems, "\n".join(problems)


# Every key page, the inbox and a case's own page included: (name, role, path) where the
# path may name "{case}" (a case the supervisor sees) or "{pathway_area}".
KEY_PAGES: list[tuple[str, str, str]] = [
    ("case list", "supervisor", "/cases/"),
    ("case detail", "supervisor", "/cases/{case}"),
    ("supervisor inbox", "supervisor", "/"),
    ("caseworker inbox", "caseworker", "/"),
    ("referral queue", "service_focal_point", "/referrals/"),
    ("service focal point inbox", "service_focal_point", "/"),
    ("allegation list", "psea_coordinator", "/allegations/"),
    ("audit log", "auditor", "/audit/"),
    ("pathway", "caseworker", "/pathways/areas/{pathway_area}"),
]
CASE_LINK = re.compile(r'href="/cases/([0-9A-Z]{16})"')


def key_page_counts(app: Flask, cases: int, tmp_path: Path) -> dict[str, list[str]]:
    """Seed ``cases`` cases (with their incidents, referrals, consents, audit events and
    one allegation per 10 cases), then count the statements of one request of each key
    page, signed in as the role that uses it."""
    from tests.conftest import empty_tables

    db.session.rollback()
    db.session.remove()
    empty_tables(app)
    with db.engine.begin() as connection:
        seeder = Seeder(
            connection,
            app.extensions[KEYRING_EXTENSION],
            app.extensions[AUDIT_KEYS_EXTENSION],
            cases,
            cases * 10,
        )
        credentials = seeder.run(PASSWORD)
        pathway_area = seeder.pathway_area
    people: dict[str, Person] = {}
    for entry in credentials:
        if entry["role"] not in people:
            user = db.session.scalar(db.select(User).where(User.email == entry["email"]))
            assert user is not None
            people[entry["role"]] = Person(user, PASSWORD, entry["totp_secret"])
    clients: dict[str, FlaskClient] = {}
    for role in sorted({role for _, role, _ in KEY_PAGES}):
        clients[role] = app.test_client()
        sign_in(clients[role], people[role])
    listed = clients["supervisor"].get("/cases/").get_data(as_text=True)
    case_ids = CASE_LINK.findall(listed)
    assert case_ids, "the supervisor's case list is empty: the comparison proves nothing"
    counts: dict[str, list[str]] = {}
    for name, role, template in KEY_PAGES:
        url = template.format(case=case_ids[0], pathway_area=pathway_area)
        client = clients[role]
        assert client.get(url).status_code == 200, name  # warm: session touch etc.
        with counting() as statements:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = list(statements)
    return counts


def test_key_pages_statement_count_constant_with_rows_and_small(app: Flask, tmp_path: Path) -> None:
    """Case list, case detail, inboxes, referral queue, allegation list, audit log and
    pathway: as many statements over 30 cases (10 allegations, 300 audit events) as over
    300 cases (30 allegations, 3,000 audit events), and never more than its budget."""
    few = key_page_counts(app, 30, tmp_path)
    many = key_page_counts(app, 300, tmp_path)
    problems = [
        _explain(name, few[name], many[name]) for name in few if len(few[name]) != len(many[name])
    ]
    assert not problems, "\n".join(problems)
    too_many = {name: len(found) for name, found in many.items() if len(found) > BUDGETS[name]}
    assert not too_many, f"{too_many} over {BUDGETS}\n" + "\n".join(
        s.split("\n")[0][:100] for n in too_many for s in many[n]
    )


# The most each key page may send (what it sends now). The case page, the largest, reads
# the session, the case (with its incidents, caseworkers, transfers and legal hold), its
# consents, its referrals with their history, its action plan and its country lists.
BUDGETS = {
    "case list": 4,
    "case detail": 6,
    "supervisor inbox": 6,
    "caseworker inbox": 4,
    "referral queue": 2,
    "service focal point inbox": 3,
    "allegation list": 3,
    "audit log": 4,
    "pathway": 5,
}
