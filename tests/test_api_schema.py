"""Property-based tests of the API against its own OpenAPI document (schemathesis).

The schema is the one the application serves (``/api/v1/openapi.json``), loaded through
the WSGI app: no network, no server. For every operation schemathesis generates requests
(valid and invalid parameters and bodies); each is sent with the tokens of several roles
and, for operations on a record, also with the id of a real record. Every answer must be
documented (status code, content type, body schema), invalid input must be refused with
a 4xx, and none may be a 5xx.

Not checked: that every schema-valid request succeeds ("positive data acceptance").
Some parameters carry rules the schema cannot state (a cursor is one this API issued, an
area id names an existing area, a period ends after it starts), and a 400 problem
document is the right answer to a request that breaks them.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from referral import create_app
from referral.extensions import db
from referral.security.policy import Role
from tests.factories import ApiWorld, bearer, build_api_world

# Roles whose tokens try every operation: a receiver, senders, a coordinator, and roles
# that lack most permissions (their answers must be documented 403s).
ROLES = (
    Role.SERVICE_FOCAL_POINT,
    Role.CASEWORKER,
    Role.SUPERVISOR,
    Role.GBV_COORDINATOR,
    Role.PSEA_COORDINATOR,
    Role.VA_FOCAL_POINT,
)
EXAMPLES = 25
EXCLUDED = [positive_data_acceptance]

# How much was tried, for the run's summary (conftest.pytest_terminal_summary).
TRIED: list[int] = []


@pytest.fixture
def api_world(app: Flask) -> Iterator[ApiWorld]:
    limits = app.config["API_RATE_LIMIT_PER_TOKEN"], app.config["API_RATE_LIMIT_PER_ADDRESS"]
    app.config["API_RATE_LIMIT_PER_TOKEN"] = "100000 per minute"
    app.config["API_RATE_LIMIT_PER_ADDRESS"] = "100000 per minute"
    try:
        yield build_api_world()
    finally:
        app.config["API_RATE_LIMIT_PER_TOKEN"], app.config["API_RATE_LIMIT_PER_ADDRESS"] = limits


def _served_schema() -> Any:
    """The document as the application serves it, fetched through WSGI (no network).

    Loaded when the module is collected, from an application of its own (the document
    reads no data); the requests then go to the test application (``app=``).
    """
    folder = tempfile.mkdtemp(prefix="referral-schema-")
    os.environ.setdefault("REFERRAL_INSTANCE_PATH", folder)
    loader = create_app({"DATABASE_URL": f"sqlite:///{folder}/schema.sqlite"}, testing=True)
    with loader.app_context():
        db.create_all()  # the request hooks read a few tables; the document reads none
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", loader)


schema = _served_schema()


def _real_ids(world: ApiWorld) -> list[str]:
    from referral.pathways.models import PathwayStatus, PathwayVersion

    pathway = db.session.scalar(
        db.select(PathwayVersion.public_id).where(PathwayVersion.status == PathwayStatus.PUBLISHED)
    )
    return [
        world.to_own.public_id,
        world.to_other.public_id,
        world.own_service.public_id,
        world.own_service.areas[0].public_id,
        str(pathway),
    ]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    # The same examples on every run, so a CI result can be reproduced; widen the search
    # by raising EXAMPLES rather than by chance.
    derandomize=True,
)
def test_api_answers_match_the_served_schema(case: Any, app: Flask, api_world: ApiWorld) -> None:
    ids = itertools.cycle(_real_ids(api_world))
    plain = {"Accept-Encoding": "identity"}  # the test client does not unzip
    meta = case.meta
    # A case generated without its Authorization header is sent as it is: adding a
    # token would make it a valid request.
    if meta is not None and meta.is_negative_at(ParameterLocation.HEADER):
        case.call_and_validate(app=app, headers=plain, excluded_checks=EXCLUDED)
        TRIED.append(1)
        return
    calls = 0
    for role in ROLES:
        headers = {**plain, **bearer(api_world.secrets[role])}
        case.call_and_validate(app=app, headers=headers, excluded_checks=EXCLUDED)
        calls += 1
        path_is_valid = meta is None or not meta.is_negative_at(ParameterLocation.PATH)
        if "public_id" in (case.path_parameters or {}) and path_is_valid:
            generated = case.path_parameters["public_id"]
            case.path_parameters["public_id"] = next(ids)
            case.call_and_validate(app=app, headers=headers, excluded_checks=EXCLUDED)
            case.path_parameters["public_id"] = generated
            calls += 1
    case.call_and_validate(app=app, headers=plain, excluded_checks=EXCLUDED)  # no token: 401
    TRIED.append(calls + 1)
