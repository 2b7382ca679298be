"""The API's access matrix, generated from the URL map and checked over HTTP with tokens.

For every token endpoint, every role and every record scenario, the expected answer comes
from the hand-written table (tests/access_table.py), never from the policy under test:
403 for a role the table does not list, otherwise what the scenario says (200 for
records the token's user may see, 404 for another organisation's records and unknown
ids) and, for an action (POST) on a referral the user may answer, its exact answer. A
role whose permissions use no scope cannot hold a token at all. An API endpoint without
scenarios here fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from referral.api import tokens
from referral.extensions import db
from referral.security.policy import (
    Role,
    Scope,
    requirement_of,
    scopes_for,
    token_scope_of,
)
from referral.workflow import RuleError
from tests.access_table import may_reach
from tests.factories import ApiWorld, bearer, build_api_world

CHECKED: list[int] = []


@dataclass(frozen=True)
class Case:
    label: str
    public_id: str
    expected: int  # for a role holding the endpoint's permission


def _referral_cases(world: ApiWorld, role: Role) -> list[Case]:
    return [
        Case("referral received by own org", world.to_own.public_id, 200),
        Case("referral received by other org", world.to_other.public_id, 404),
        Case("unknown id", "NOSUCHREFERRAL00", 404),
    ]


def _sent_cases(world: ApiWorld, role: Role) -> list[Case]:
    # OWN's caseworker sent ``to_other``; the supervisor follows every OWN case; a
    # victim-assistance focal point follows only assistance records (none here).
    follows = role in (Role.CASEWORKER, Role.SUPERVISOR)
    return [
        Case("sent by own org", world.to_other.public_id, 200 if follows else 404),
        Case("sent by other org", world.to_own.public_id, 404),
        Case("unknown id", "NOSUCHREFERRAL00", 404),
    ]


def _area_cases(world: ApiWorld, role: Role) -> list[Case]:
    area = world.own_service.areas[0]
    return [Case("an area", area.public_id, 200), Case("unknown id", "NOSUCHAREA000000", 404)]


def _service_cases(world: ApiWorld, role: Role) -> list[Case]:
    return [
        Case("own org's service", world.own_service.public_id, 200),
        Case("other org's service", world.other_service.public_id, 200),
        Case("unknown id", "NOSUCHSERVICE000", 404),
    ]


def _pathway_cases(world: ApiWorld, role: Role) -> list[Case]:
    from referral.pathways.models import PathwayStatus, PathwayVersion

    published = db.session.scalar(
        db.select(PathwayVersion).where(PathwayVersion.status == PathwayStatus.PUBLISHED)
    )
    assert published is not None
    return [Case("published", published.public_id, 200), Case("unknown", "NOSUCHPATHWAY000", 404)]


# The answers to the actions, taken in this (the URL map's sorted) order on the one
# referral the token's organisation received: accepted, then completed, then too late
# to decline.
API_POST = {"api.accept": 200, "api.complete": 200, "api.decline": 409}

SCENARIOS: dict[str, Callable[[ApiWorld, Role], list[Case]]] = {
    "api.area": _area_cases,
    "api.service": _service_cases,
    "api.pathway": _pathway_cases,
    "api.incoming_referral": _referral_cases,
    "api.accept": _referral_cases,
    "api.decline": _referral_cases,
    "api.complete": _referral_cases,
    "api.sent_referral": _sent_cases,
}


def _token_endpoints(app: Flask) -> Iterator[tuple[str, Any, Any, set[str], list[str]]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        view = app.view_functions[rule.endpoint]
        scope = token_scope_of(view)
        if scope is None:
            continue
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        yield rule.endpoint, requirement_of(view), scope, methods, sorted(rule.arguments)


def test_every_api_endpoint_with_url_values_has_scenarios(app: Flask) -> None:
    missing = [e for e, _r, _s, _m, args in _token_endpoints(app) if args and e not in SCENARIOS]
    assert missing == []


def _url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


@pytest.mark.parametrize("role", list(Role))
def test_api_access_matrix(app: Flask, client: FlaskClient, role: Role) -> None:
    world = build_api_world()
    user = world.people[role].user
    if not scopes_for(user):
        # A role with nothing to do through the API cannot hold a token.
        with pytest.raises(RuleError):
            tokens.issue_token(user, name="x", scopes=list(Scope), days=1, actor=user)
        assert role not in world.secrets
        return
    headers = bearer(world.secrets[role])
    checked = 0
    wrong: list[tuple[str, str, int, int]] = []
    for endpoint, _requirement, _scope, methods, args in _token_endpoints(app):
        permitted = may_reach(endpoint, role)
        cases = SCENARIOS[endpoint](world, role) if args else [Case("no record", "", 200)]
        for case in cases:
            url = _url(app, endpoint, {"public_id": case.public_id} if args else {})
            if not permitted:
                expected = 403
            elif "GET" not in methods and case.expected == 200:
                expected = API_POST[endpoint]
            else:
                expected = case.expected
            if "GET" in methods:
                response = client.get(url, headers=headers)
            else:
                response = client.post(url, json={"reason": "matrix"}, headers=headers)
            if response.status_code != expected:
                wrong.append((endpoint, case.label, expected, response.status_code))
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (endpoint, case.label)
            checked += 1
    assert wrong == [], f"{role.value}: (endpoint, record, expected, answered) {wrong}"
    assert checked > 0
    CHECKED.append(checked)


def test_without_a_token_every_api_endpoint_answers_401(app: Flask, client: FlaskClient) -> None:
    world = build_api_world()
    for endpoint, _requirement, _scope, methods, args in _token_endpoints(app):
        cases = SCENARIOS[endpoint](world, Role.ADMIN) if args else [Case("", "", 200)]
        for case in cases:
            url = _url(app, endpoint, {"public_id": case.public_id} if args else {})
            method = client.get if "GET" in methods else client.post
            response = method(url)
            assert response.status_code == 401, endpoint
            assert response.mimetype == "application/problem+json"
