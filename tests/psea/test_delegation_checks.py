"""No hidden per-request work: an interim delegation (R22) is looked up only where a
GBV coordinator's rights are checked, once per request, and its lapse is recorded there,
once, even by the request that the lapse then refuses. The policy keeps what features
plug into it on the application, not in module state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from referral import clock
from referral.extensions import db
from referral.psea import delegation as delegations
from referral.psea.models import PseaDelegation
from referral.security import policy
from referral.security.policy import POLICY_EXTENSION, Permission, Role
from tests.conftest import sign_in
from tests.factories import Network, Person, make_person
from tests.psea.conftest import actions


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def delegation_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if "psea_delegations" in s]


@pytest.fixture
def gbv_coordinator(network: Network) -> Person:
    return make_person(Role.GBV_COORDINATOR, network.un)


def grant_for_today(holder: Person, network: Network) -> PseaDelegation:
    admin = make_person(Role.ADMIN, network.un)
    delegation = delegations.grant(
        holder.user, clock.utcnow().date(), "Cover for today", actor=admin.user
    )
    db.session.commit()
    return delegation


def test_no_hidden_per_request_work_unrelated_page_runs_no_delegation_query(
    app: Flask, network: Network, gbv_coordinator: Person
) -> None:
    grant_for_today(gbv_coordinator, network)
    clock.advance(timedelta(days=1))  # a lapse waits to be recorded
    client = app.test_client()
    sign_in(client, network.va)
    with statements() as seen:
        assert client.get("/directory/").status_code == 200
        assert client.get("/").status_code == 200
    assert seen  # the pages did query the database
    assert delegation_statements(seen) == []
    assert actions("psea.delegation_lapsed") == []  # nobody else's request records it


def test_no_hidden_per_request_work_holder_page_looks_the_delegation_up_once(
    app: Flask, network: Network, gbv_coordinator: Person
) -> None:
    """R22: every rights check of one request (policy, navigation, banner) shares one
    lookup."""
    grant_for_today(gbv_coordinator, network)
    client = app.test_client()
    sign_in(client, gbv_coordinator)
    with statements() as seen:
        page = client.get("/allegations/")
    assert page.status_code == 200
    assert "as an interim delegation until" in page.get_data(as_text=True)
    assert len(delegation_statements(seen)) == 1


def test_no_hidden_per_request_work_r22_lapse_recorded_once_by_the_refused_request(
    app: Flask, network: Network, gbv_coordinator: Person
) -> None:
    delegation = grant_for_today(gbv_coordinator, network)
    clock.advance(timedelta(days=1))
    client = app.test_client()
    sign_in(client, gbv_coordinator)
    assert client.get("/allegations/").status_code == 403  # refused: the lapse is kept
    assert actions("psea.delegation_lapsed") == ["psea.delegation_lapsed"]
    assert client.get("/allegations/").status_code == 403
    assert client.get("/").status_code == 200
    assert actions("psea.delegation_lapsed") == ["psea.delegation_lapsed"]
    db.session.expire_all()
    stored = db.session.get(PseaDelegation, delegation.id)
    assert stored is not None and stored.lapse_recorded_at is not None


def test_no_hidden_per_request_work_policy_hooks_live_on_the_application(app: Flask) -> None:
    hooks = app.extensions[POLICY_EXTENSION]
    assert len(hooks.extra_permissions) == 1  # the delegation, registered once
    grantable, _source = hooks.extra_permissions[0]
    assert Permission.COORDINATE_PSEA in grantable
    assert hooks.token_authenticator is not None
    # the tables (roles, scopes) are constants; nothing private is a mutable registry
    registries = [
        name
        for name, value in vars(policy).items()
        if name.startswith("_")
        and not name.startswith("__")
        and isinstance(value, list | dict | set)
    ]
    assert registries == []
