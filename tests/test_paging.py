"""One keyset paging helper (referral.db.paging) for every list, with one opaque cursor.

Every list (cases, referral queue, allegations, assistance records, audit log, service
directory, and the API's areas, services, pathways, incoming and sent referrals) pages
through the same helper; a cursor names the last row by its sort values and public id,
never its internal id; rows that tie on the sort key are neither skipped nor repeated;
a cursor the application did not give is a 400, on pages and in the API.
"""

from __future__ import annotations

import ast
import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral import clock
from referral.cases import services as cases
from referral.cases.models import Case
from referral.db import Organisation, paging
from referral.db.paging import CursorError
from referral.extensions import db
from referral.referrals import services as engine
from referral.security.policy import Role
from tests.conftest import sign_in
from tests.factories import (
    ApiWorld,
    Person,
    bearer,
    build_api_world,
    make_person,
    open_case,
    send_referral,
)

PACKAGE = Path(__file__).resolve().parent.parent / "referral"
API = "/api/v1"


def decoded(cursor: str) -> list[Any]:
    return list(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))))


def test_one_keyset_paging_helper_no_list_pages_by_hand() -> None:
    """Only referral/db/paging.py fetches a page's extra row or builds a keyset bound."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "db" / "paging.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # ``.limit(x + 1)``: the hand-made "is there a next page" probe
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "limit"
                and node.args
                and isinstance(node.args[0], ast.BinOp)
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} limit(n + 1)")
            if isinstance(node, ast.Name) and node.id == "tuple_":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} tuple_")
    assert offenders == []


def test_one_keyset_paging_helper_ties_are_neither_skipped_nor_repeated(
    caseworker: Person,
) -> None:
    """Seven cases opened at the same instant (frozen clock) page by 3 in id order."""
    made = [open_case(caseworker.user) for _ in range(7)]
    assert len({c.opened_at for c in made}) == 1
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = cases.list_cases(caseworker.user, cases.CaseFilter(), cursor=cursor, limit=3)
        seen += [c.public_id for c in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [c.public_id for c in sorted(made, key=lambda c: c.id, reverse=True)]
    assert pages == 3


def test_one_keyset_paging_helper_cursor_names_sort_key_and_public_id_never_the_row_id(
    caseworker: Person,
) -> None:
    made = [open_case(caseworker.user) for _ in range(3)]
    page = cases.list_cases(caseworker.user, cases.CaseFilter(), limit=2)
    assert page.next_cursor is not None
    last = page.rows[-1]
    assert decoded(page.next_cursor) == [last.opened_at.isoformat(), last.public_id]
    assert all(not isinstance(v, int) for v in decoded(page.next_cursor))
    assert {c.public_id for c in made} == {c.public_id for c in page.rows} | {
        c.public_id
        for c in cases.list_cases(
            caseworker.user, cases.CaseFilter(), cursor=page.next_cursor, limit=2
        ).rows
    }


def test_one_keyset_paging_helper_continues_after_the_last_row_is_gone(
    caseworker: Person,
) -> None:
    """The cursor keeps the sort values: a purged last row does not end the list."""
    made = []
    for _ in range(4):
        made.append(open_case(caseworker.user))
        clock.advance(timedelta(minutes=1))
    first = cases.list_cases(caseworker.user, cases.CaseFilter(), limit=2)
    assert first.next_cursor is not None
    gone = next(c for c in made if c.public_id == first.rows[-1].public_id)
    db.session.delete(gone)
    db.session.commit()
    rest = cases.list_cases(caseworker.user, cases.CaseFilter(), cursor=first.next_cursor)
    assert [c.public_id for c in rest.rows] == [c.public_id for c in made[:2]][::-1]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        base64.urlsafe_b64encode(b'{"not": "a list"}').decode(),
        base64.urlsafe_b64encode(b'["2026-03-02T08:00:00+00:00"]').decode(),  # too short
        base64.urlsafe_b64encode(b'[5, "C1"]').decode(),  # a number for an instant
        base64.urlsafe_b64encode(b'["2026-03-02T08:00:00", "C1"]').decode(),  # no zone
        base64.urlsafe_b64encode(b'["0001-01-01T00:00:00+14:00", "C1"]').decode(),
        base64.urlsafe_b64encode(b'["2026-03-02T08:00:00+00:00", "C\\u0000"]').decode(),
        "A" * (paging.MAX_CURSOR + 1),
    ],
)
def test_one_keyset_paging_helper_refuses_a_cursor_it_did_not_give(
    caseworker: Person, cursor: str
) -> None:
    with pytest.raises(CursorError):
        cases.list_cases(caseworker.user, cases.CaseFilter(), cursor=cursor)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.CASEWORKER, "/cases/"),
        (Role.SERVICE_FOCAL_POINT, "/referrals/"),
        (Role.PSEA_COORDINATOR, "/allegations/"),
        (Role.VA_FOCAL_POINT, "/assistance/"),
        (Role.AUDITOR, "/audit/"),
        (Role.GBV_COORDINATOR, "/directory/"),
    ],
)
def test_one_keyset_paging_helper_pages_answer_a_bad_cursor_with_400(
    app: Flask, org: Organisation, role: Role, url: str
) -> None:
    client = app.test_client()
    sign_in(client, make_person(role, org))
    assert client.get(url).status_code == 200
    response = client.get(f"{url}?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "first page" in response.get_data(as_text=True)


def _walk_api(client: FlaskClient, first: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every item of an API list, page by page; each cursor ends with the public id of
    the last item of its page and holds no number (no row id)."""
    items: list[dict[str, Any]] = []
    url = first
    while True:
        body = client.get(url, headers=headers).get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        values = decoded(cursor)
        assert values[-1] == items[-1]["id"]
        assert not any(isinstance(v, int) for v in values)
        url = f"{first}&cursor={cursor}"


def test_one_keyset_paging_helper_api_cursors_carry_public_ids_only(client: FlaskClient) -> None:
    world: ApiWorld = build_api_world()
    caseworker = world.people[Role.CASEWORKER].user
    sent = [world.to_other, *(send_referral(caseworker, world.other_service) for _ in range(3))]
    receiver = world.others[Role.SERVICE_FOCAL_POINT].user
    headers = bearer(world.secrets[Role.CASEWORKER])
    listed = _walk_api(client, f"{API}/referrals/sent?limit=1", headers)
    assert sorted(item["id"] for item in listed) == sorted(r.public_id for r in sent)
    incoming = _walk_api(
        client, f"{API}/referrals/incoming?limit=1", bearer(world.other_secrets[receiver.role])
    )
    queue = engine.queue(receiver.organisation_id, limit=100).rows
    assert [item["id"] for item in incoming] == [r.public_id for r in queue]
    directory_headers = bearer(world.secrets[Role.GBV_COORDINATOR])
    services = _walk_api(client, f"{API}/services?limit=1", directory_headers)
    assert [s["name"] for s in services] == ["OTHER clinic", "OWN clinic"]
    bad = client.get(f"{API}/referrals/sent?cursor=bm90IGpzb24", headers=headers)
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    assert bad.get_json()["errors"][0]["field"] == "cursor"


def test_one_of_matches_in_for_any_number_of_values_with_one_statement_text(
    caseworker: Person,
) -> None:
    """``one_of`` selects what ``IN`` selects (none, one, more than fifty values, ints and
    strings); on PostgreSQL the statement's text does not change with the count."""
    made = [open_case(caseworker.user) for _ in range(60)]
    db.session.commit()
    texts: set[str] = set()
    for count in (0, 1, 7, 60):
        chosen = made[:count]
        for column, values in (
            (Case.id, [c.id for c in chosen]),
            (Case.public_id, [c.public_id for c in chosen] + ["NOSUCHCASE000000"]),
        ):
            query = sa.select(Case.id).where(paging.one_of(column, values)).order_by(Case.id)
            assert db.session.scalars(query).all() == sorted(c.id for c in chosen)
            texts.add(str(query.compile(bind=db.session.get_bind())))
    if db.session.get_bind().dialect.name == "postgresql":
        assert len(texts) == 2  # one per column
