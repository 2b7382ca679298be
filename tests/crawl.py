"""Every page a role may open, with the access matrix's scenarios for the URL values: the
hostile-input fuzzing and the consequential-defaults check read the forms of these pages,
so a new page is covered without being listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from referral.security.policy import Access, Role, requirement_of, satisfies, token_scope_of
from tests.access_scenarios import SCENARIOS, Scenario
from tests.test_access_matrix import FLOW_ENDPOINTS, _url


def pages_of(
    app: Flask, client: FlaskClient, role: Role, world: Any
) -> Iterator[tuple[str, str, str]]:
    """(endpoint, URL, HTML) of every GET page the role's user of ``world`` may open, once
    per record scenario answered 200; ``client`` is signed in as that user."""
    user = world.people[role].user
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FLOW_ENDPOINTS or "GET" not in (rule.methods or ()):
            continue
        if token_scope_of(app.view_functions[rule.endpoint]) is not None:
            continue  # the API has no forms (tests/test_api_schema.py fuzzes it)
        requirement = requirement_of(app.view_functions[rule.endpoint])
        if requirement in (None, Access.PUBLIC) or not satisfies(user, requirement):
            continue
        scenarios = (
            SCENARIOS[rule.endpoint](world, role) if rule.arguments else [Scenario("", {}, 200)]
        )
        for scenario in scenarios:
            if scenario.expected != 200:
                continue
            url = _url(app, rule.endpoint, scenario.values)
            yield rule.endpoint, url, client.get(url).get_data(as_text=True)
