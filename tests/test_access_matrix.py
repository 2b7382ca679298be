"""The access matrix, generated from the URL map and checked over HTTP.

For every page endpoint, every role and every record scenario the expected answer comes
from the hand-written table (tests/access_table.py), never from the policy under test:
403 for a role the table does not list, otherwise what the record scenario says
(tests/access_scenarios.py: 200 for records the user may see, 404 for others' records
and unknown ids), and for a POST-only action the exact answer of an empty form. Every
answer must be exactly that; a permission granted by mistake in the policy fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.security.policy import Role, requirement_of, token_scope_of
from tests.access_scenarios import SCENARIOS, Scenario
from tests.access_table import MAY_REACH, PUBLIC, empty_post_answer, may_reach
from tests.conftest import csrf_from, sign_in
from tests.factories import World, build_world

# Pages of the sign-in flow: covered by tests/test_auth.py, reached only mid sign-in.
FLOW_ENDPOINTS = {
    "static",
    "auth.sign_in",
    "auth.first_password",
    "auth.enrol",
    "auth.second_factor",
}
# Actions that end the session; checked last, each with a fresh sign-in.
SESSION_ENDING = {"auth.sign_out", "auth.sign_out_everywhere", "auth.change_password"}

CHECKED: list[int] = []


def _endpoints(app: Flask) -> Iterator[tuple[str, Any, set[str], list[str]]]:
    """Every page; the API's token endpoints have their own matrix (test_api_access)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint in FLOW_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if token_scope_of(view) is not None:
            continue
        yield rule.endpoint, requirement_of(view), set(rule.methods or ()), sorted(rule.arguments)


def _url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def test_every_endpoint_with_url_values_has_scenarios(app: Flask) -> None:
    missing = [e for e, _, _, args in _endpoints(app) if args and e not in SCENARIOS]
    assert missing == [], f"register access scenarios in tests/access_scenarios.py: {missing}"


def _csrf(client: FlaskClient) -> str:
    return csrf_from(client.get("/auth/account").get_data(as_text=True))


def expected_answer(endpoint: str, role: Role, scenario: Scenario, methods: set[str]) -> int:
    """What the hand-written table says a user of ``role`` gets: 403 for a role it does
    not list, otherwise the scenario's answer (a POST-only action that the user may take
    on that record answers its empty-form status). The world's GBV coordinator holds an
    interim PSEA delegation (R22)."""
    if not may_reach(endpoint, role, delegated=True):
        return 403
    if "GET" not in methods and scenario.expected == 200:
        return empty_post_answer(endpoint, scenario.label)
    return scenario.expected


def answer(app: Flask, client: FlaskClient, endpoint: str, url: str, methods: set[str]) -> int:
    if "GET" in methods:
        return client.get(url).status_code
    return client.post(url, data={"csrf_token": _csrf(client)}).status_code


def build_every_record(world: World, role: Role) -> None:
    """Every scenario's records, before the first request (the PSEA ones grant the GBV
    coordinator's delegation, so it holds for the whole run)."""
    for maker in SCENARIOS.values():
        maker(world, role)


@pytest.mark.parametrize("role", list(Role))
def test_access_matrix(app: Flask, client: FlaskClient, role: Role) -> None:
    world: World = build_world()
    build_every_record(world, role)
    actor = world.people[role]
    sign_in(client, actor)
    checked = 0
    wrong: list[tuple[str, str, int, int]] = []
    deferred: list[tuple[str, str, Scenario, set[str]]] = []
    for endpoint, requirement, methods, args in _endpoints(app):
        assert requirement is not None, endpoint
        scenarios = SCENARIOS[endpoint](world, role) if args else [Scenario("no record", {}, 200)]
        for scenario in scenarios:
            url = _url(app, endpoint, scenario.values)
            if endpoint in SESSION_ENDING:
                deferred.append((endpoint, url, scenario, methods))
                continue
            expected = expected_answer(endpoint, role, scenario, methods)
            status = answer(app, client, endpoint, url, methods)
            if status != expected:
                wrong.append((endpoint, scenario.label, expected, status))
            checked += 1
            # An action may have ended this user's own session (e.g. an admin resetting
            # their own account); sign in again and carry on.
            if client.get("/auth/account").status_code != 200:
                sign_in(client, actor)
    for endpoint, url, scenario, methods in deferred:
        expected = expected_answer(endpoint, role, scenario, methods)
        status = answer(app, client, endpoint, url, methods)
        if status != expected:
            wrong.append((endpoint, scenario.label, expected, status))
        checked += 1
        if client.get("/auth/account").status_code != 200:
            sign_in(client, actor)
    assert wrong == [], f"{role.value}: (endpoint, record, expected, answered) {wrong}"
    assert checked > 0
    CHECKED.append(checked)


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    world = build_world()
    for endpoint, _requirement, methods, args in _endpoints(app):
        if MAY_REACH[endpoint] is PUBLIC:
            continue
        scenarios = SCENARIOS[endpoint](world, Role.ADMIN) if args else [Scenario("", {}, 200)]
        for scenario in scenarios:
            url = _url(app, endpoint, scenario.values)
            if "GET" in methods:
                response = client.get(url)
                assert response.status_code == 302, endpoint
                assert re.search(r"/auth/sign-in", response.headers["Location"]), endpoint
            else:
                token = csrf_from(client.get("/auth/sign-in").get_data(as_text=True))
                assert client.post(url, data={"csrf_token": token}).status_code == 302, endpoint
