"""Hostile input to every form: random and malicious values never cause a
server error, are escaped when shown back, and leave the database consistent.

The forms are found by crawling every page each role may open (the access matrix's
scenarios supply URL values), so a new form is covered without being listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral.extensions import db, limiter
from referral.security.policy import Role
from tests.conftest import sign_in
from tests.crawl import pages_of
from tests.factories import build_world
from tests.test_access_matrix import SESSION_ENDING, _url

MARKER = "<script>alert(1)</script>"

HOSTILE_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50),
    st.sampled_from(
        [
            MARKER,
            "\"'><img src=x onerror=alert(1)>",
            "'; DROP TABLE users; --",
            "1 OR 1=1",
            "../../etc/passwd",
            "\x00",
            "\u202e\u0645\u0631\u062d\u0628\u0627",
            "9" * 400,
            "-1",
            "2026-02-30",
            "0000-00-00T99:99",
            "{{7*7}}",
            "%s%s%s%n",
            "NaN",
        ]
    ),
    st.integers(min_value=5_000, max_value=60_000).map(lambda n: "é<" * (n // 2)),
)


@dataclass
class FoundForm:
    action: str
    fields: list[str]


class FormFinder(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[FoundForm] = []
        self._current: FoundForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self._current = FoundForm(attributes.get("action") or self.page_url, [])
        elif tag in ("input", "select", "textarea") and self._current is not None:
            name = attributes.get("name")
            if name and name != "csrf_token" and name not in self._current.fields:
                self._current.fields.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._current is not None:
            self.forms.append(self._current)
            self._current = None


def _forms_reachable_by(app: Flask, client: FlaskClient, role: Role, world: Any) -> list[FoundForm]:
    session_ending = {_url(app, e, {}) for e in SESSION_ENDING}
    found: dict[str, FoundForm] = {}
    for _endpoint, url, html in pages_of(app, client, role, world):
        finder = FormFinder(url)
        finder.feed(html)
        for form in finder.forms:
            if form.action.split("?")[0] not in session_ending:
                found.setdefault(form.action, form)
    return list(found.values())


def _csrf(client: FlaskClient) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client.get("/auth/account").get_data(as_text=True))


def _database_is_consistent() -> None:
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
            assert connection.execute(sa.text("PRAGMA foreign_key_check")).all() == []


TRIED: list[int] = []
FORM_ANSWERS = frozenset({200, 302, 400, 404, 409, 413})

# Every signed-in user has these forms on their own account page.
ACCOUNT_FORMS = ("/auth/account/language", "/auth/account/recovery-codes")


def require_forms(forms: list[FoundForm], role: Role) -> list[FoundForm]:
    """The crawl's forms, or a failure: finding none (or not even the account's forms)
    means the crawler is broken (changed markup, pages refused), not that all is safe."""
    assert forms, f"no form found for {role.value}: nothing was fuzzed"
    actions = {form.action.split("?")[0] for form in forms}
    missing = [action for action in ACCOUNT_FORMS if action not in actions]
    assert not missing, f"{role.value}: the crawl missed the account forms {missing}"
    return forms


def _fuzz(client: FlaskClient, actor: Any, form: FoundForm) -> int:
    """Post hypothesis-generated hostile values to one form; returns how many were tried."""
    tried = 0
    field_values = st.one_of(HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3))

    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
        database=None,
        derandomize=True,
    )
    @given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(form.fields, field_values)))
    def post_hostile(values: dict[str, Any]) -> None:
        nonlocal tried
        if client.get("/auth/account").status_code != 200:
            limiter.reset()
            sign_in(client, actor)
        response = client.post(form.action, data={**values, "csrf_token": _csrf(client)})
        tried += 1
        # A form takes hostile values (302, or 200 when the answer is the result) or
        # refuses them as bad input (400, 413 when too large; 409 when the state moved;
        # 404 when a field names a record that is not there, or an earlier example moved
        # the record out of the user's reach); never a server error, and never a refusal
        # of the form itself (403, 405, 415).
        assert response.status_code in FORM_ANSWERS, (form.action, response.status_code, values)
        assert MARKER not in response.get_data(as_text=True), form.action

    post_hostile()
    return tried


@pytest.mark.parametrize("role", list(Role))
def test_hostile_values_in_every_form(app: Flask, client: FlaskClient, role: Role) -> None:
    world = build_world()
    actor = world.people[role]
    sign_in(client, actor)
    forms = require_forms(_forms_reachable_by(app, client, role, world), role)
    tried = [_fuzz(client, actor, form) for form in forms]
    assert all(tried), [form.action for form, n in zip(forms, tried, strict=True) if not n]
    TRIED.append(sum(tried))
    _database_is_consistent()


def test_item8_hostile_input_fails_when_the_crawl_finds_no_form(
    app: Flask, client: FlaskClient
) -> None:
    """A crawl that reaches no page (here: nobody signed in) finds no form, and the
    hostile-input test then fails instead of passing having fuzzed nothing."""
    world = build_world()
    found = _forms_reachable_by(app, client, Role.CASEWORKER, world)
    assert found == []
    with pytest.raises(AssertionError, match="no form found for caseworker"):
        require_forms(found, Role.CASEWORKER)


def test_huge_body_is_refused(client: FlaskClient) -> None:
    response = client.post("/auth/sign-in", data={"x": "y" * 3_000_000})
    assert response.status_code == 413


def test_too_many_form_fields_are_refused(client: FlaskClient) -> None:
    fields = {f"f{i}": "x" for i in range(2000)}
    response = client.post("/auth/sign-in", data=fields, content_type="multipart/form-data")
    assert response.status_code == 413


def test_nul_bytes_are_refused_at_the_door(client: FlaskClient) -> None:
    """PostgreSQL cannot store NUL in text; such input is a 400 before any query runs."""
    assert client.get("/auth/sign-in?next=/a\x00b").status_code == 400
    assert client.post("/auth/sign-in", data={"email": "a\x00@example.org"}).status_code == 400
