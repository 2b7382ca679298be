"""The policy module grants exactly what the hand-written access table says.

tests/access_table.py is written from the role table of docs/ARCHITECTURE.md; here it is
compared, endpoint by endpoint and role by role, with what referral/security/policy.py
decides, and a permission granted by mistake is shown to fail both this comparison and
the HTTP access matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral import clock
from referral.db import User
from referral.extensions import db
from referral.psea import delegation
from referral.psea.models import PseaDelegation
from referral.security.policy import (
    ROLE_PERMISSIONS,
    Access,
    Actor,
    Permission,
    Role,
    requirement_of,
    satisfies,
)
from tests.access_scenarios import Scenario
from tests.access_table import (
    EMPTY_POST,
    EVERYONE,
    MAY_REACH,
    MID_SIGN_IN,
    PUBLIC,
    may_reach,
)
from tests.conftest import sign_in
from tests.factories import make_organisation, make_person
from tests.test_access_matrix import answer, expected_answer


@dataclass(frozen=True)
class Holder:
    """A user of a role and nothing else: no delegation, no record."""

    role: Role
    organisation_id: int = -1
    id: int = -1


def disagreements(
    app: Flask, coordinator: Actor | None = None, *, delegated: bool = True
) -> list[tuple[str, str, str]]:
    """(endpoint, role, what differs) wherever the policy and the hand-written table
    disagree, for a user of each role and for ``coordinator``, a real GBV coordinator
    (holding an interim PSEA delegation or not)."""
    found: list[tuple[str, str, str]] = []
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for endpoint in sorted(endpoints):
        if endpoint not in MAY_REACH:
            found.append((endpoint, "-", "missing from tests/access_table.py"))
            continue
        requirement = requirement_of(app.view_functions[endpoint])
        written = MAY_REACH[endpoint]
        if requirement is None or isinstance(requirement, Access):
            expected = {
                None: PUBLIC,  # only the static files declare nothing (checked in test_policy)
                Access.PUBLIC: PUBLIC,
                Access.PARTIAL: MID_SIGN_IN,
                Access.SIGNED_IN: EVERYONE,
            }[requirement]
            if written != expected:
                found.append((endpoint, "-", f"policy says {requirement}"))
            continue
        for role in Role:
            granted = satisfies(Holder(role), requirement)
            if granted != may_reach(endpoint, role):
                found.append((endpoint, role.value, f"policy grants: {granted}"))
        if coordinator is not None:
            granted = satisfies(coordinator, requirement)
            if granted != may_reach(endpoint, Role.GBV_COORDINATOR, delegated=delegated):
                found.append((endpoint, "the real gbv_coordinator", f"policy grants: {granted}"))
    found.extend((e, "-", "no such endpoint") for e in sorted(set(MAY_REACH) - endpoints))
    return found


def delegated_coordinator() -> tuple[User, PseaDelegation, User]:
    """A GBV coordinator holding an interim PSEA delegation (R22), the delegation and
    the administrator who granted it."""
    organisation = make_organisation("DLG")
    coordinator = make_person(Role.GBV_COORDINATOR, organisation).user
    admin = make_person(Role.ADMIN, organisation).user
    ends_on = clock.utcnow().date() + timedelta(days=7)
    granted = delegation.grant(coordinator, ends_on, "Leave", actor=admin)
    db.session.commit()
    return coordinator, granted, admin


def test_item8_policy_grants_exactly_the_hand_written_table(app: Flask) -> None:
    coordinator, _delegation, _admin = delegated_coordinator()
    assert disagreements(app, coordinator) == []


def test_item8_every_empty_post_answer_is_for_a_listed_action(app: Flask) -> None:
    post_only = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" not in (rule.methods or ()) and rule.endpoint in MAY_REACH
    }
    assert set(EMPTY_POST) <= post_only


def test_item8_r22_an_ended_delegation_reaches_only_the_role(app: Flask) -> None:
    """Without (or after) the delegation, the GBV coordinator is held to its role's row."""
    coordinator, granted, admin = delegated_coordinator()
    assert disagreements(app, coordinator) == []
    delegation.revoke(granted, actor=admin)
    db.session.commit()
    assert satisfies(coordinator, Permission.COORDINATE_PSEA) is False
    assert disagreements(app, coordinator, delegated=False) == []


WRONG_GRANT = (Role.CASEWORKER, Permission.MANAGE_USERS)


@pytest.fixture
def wrong_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy as if someone had granted caseworkers the management of users."""
    role, permission = WRONG_GRANT
    monkeypatch.setitem(ROLE_PERMISSIONS, role, ROLE_PERMISSIONS[role] | {permission})


@pytest.mark.usefixtures("wrong_grant")
def test_item8_a_wrongly_granted_permission_fails_the_table(app: Flask) -> None:
    found = disagreements(app)
    assert ("admin.users", "caseworker", "policy grants: True") in found
    assert {role for _endpoint, role, _what in found} == {"caseworker"}


@pytest.mark.usefixtures("wrong_grant")
def test_item8_a_wrongly_granted_permission_fails_the_access_matrix(
    app: Flask, client: FlaskClient
) -> None:
    """The HTTP matrix's own comparison: the caseworker now opens the user list, while
    the hand-written table still expects 403."""
    caseworker = make_person(Role.CASEWORKER, make_organisation("WRG"))
    sign_in(client, caseworker)
    scenario = Scenario("no record", {}, 200)
    expected = expected_answer("admin.users", Role.CASEWORKER, scenario, {"GET"})
    answered = answer(app, client, "admin.users", "/admin/users", {"GET"})
    assert (expected, answered) == (403, 200)
