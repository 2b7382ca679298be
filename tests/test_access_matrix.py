"""The access matrix, generated from the URL map and checked over HTTP.

For every endpoint, every role and every record scenario the expected answer comes from
the policy: 403 when the role lacks the endpoint's permission, otherwise what the
scenario says (200 for records the user may see, 404 for others' records and unknown
ids). GET pages must answer exactly; POST-only actions must refuse (403) roles without
the permission and never fail (500) for roles with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.security.policy import Access, Role, requirement_of, satisfies, token_scope_of
from tests.access_scenarios import SCENARIOS, Scenario, World, build_world
from tests.conftest import csrf_from, sign_in

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


@pytest.mark.parametrize("role", list(Role))
def test_access_matrix(app: Flask, client: FlaskClient, role: Role) -> None:
    world: World = build_world()
    actor = world.people[role]
    sign_in(client, actor)
    checked = 0
    deferred: list[tuple[str, str]] = []
    for endpoint, requirement, methods, args in _endpoints(app):
        assert requirement is not None, endpoint
        permitted = satisfies(actor.user, requirement)
        scenarios = SCENARIOS[endpoint](world, role) if args else [Scenario("no record", {}, 200)]
        for scenario in scenarios:
            url = _url(app, endpoint, scenario.values)
            if endpoint in SESSION_ENDING:
                deferred.append((endpoint, url))
                continue
            expected = scenario.expected if permitted else 403
            if "GET" in methods:
                status = client.get(url).status_code
                assert status == expected, (role.value, endpoint, scenario.label, status)
            else:
                status = client.post(url, data={"csrf_token": _csrf(client)}).status_code
                if permitted:
                    assert status not in (403, 500), (role.value, endpoint, scenario.label)
                    if scenario.expected == 404:
                        assert status == 404, (role.value, endpoint, scenario.label, status)
                else:
                    assert status == 403, (role.value, endpoint, scenario.label, status)
            checked += 1
            # An action may have ended this user's own session (e.g. an admin resetting
            # their own account); sign in again and carry on.
            if client.get("/auth/account").status_code != 200:
                sign_in(client, actor)
    for endpoint, url in deferred:
        status = client.post(url, data={"csrf_token": _csrf(client)}).status_code
        assert status in (302, 400), (role.value, endpoint, status)
        checked += 1
        if client.get("/auth/account").status_code != 200:
            sign_in(client, actor)
    assert checked > 0
    CHECKED.append(checked)


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    world = build_world()
    for endpoint, requirement, methods, args in _endpoints(app):
        if requirement is Access.PUBLIC:
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
