"""The one policy: every endpoint declares what it needs; roles and R23."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.admin import services as admin_services
from referral.db import OrganisationType
from referral.security.policy import (
    CASE_HANDLING_ROLES,
    ROLE_PERMISSIONS,
    Access,
    Permission,
    Role,
    access_denied,
    permissions_of,
    requirement_of,
    satisfies,
)
from referral.templating import NAVIGATION, navigation_for
from referral.workflow import RuleError
from tests.conftest import form_post, sign_in
from tests.factories import Person, make_organisation, make_person
from tests.test_access_table import delegated_coordinator

# Endpoints reachable without signing in. Everything else needs a signed-in user (or,
# under /api/v1, an API token). The API's description and docs page hold no data.
PUBLIC_ENDPOINTS = {"static", "auth.sign_in", "home.healthz", "api.openapi", "api.docs"}


def test_every_endpoint_declares_a_permission(app: Flask) -> None:
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and requirement_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == [], f"endpoints without a permission: {undeclared}"


def test_only_the_sign_in_pages_and_health_check_are_public(app: Flask) -> None:
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint == "static"
        or requirement_of(app.view_functions[rule.endpoint]) is Access.PUBLIC
    }
    assert public == PUBLIC_ENDPOINTS


def test_an_undeclared_endpoint_is_refused(app: Flask, signed_in_admin: FlaskClient) -> None:
    """Fail closed: a view that forgot its declaration answers 403, even to an admin."""
    app.view_functions["auth.account"], original = (
        lambda: "leak",
        app.view_functions["auth.account"],
    )
    try:
        assert signed_in_admin.get("/auth/account").status_code == 403
    finally:
        app.view_functions["auth.account"] = original


def test_every_role_has_a_permission_entry() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_admin_and_auditor_never_hold_content_permissions() -> None:
    content = {
        Permission.HANDLE_CASES,
        Permission.SUPERVISE_CASES,
        Permission.RECEIVE_REFERRALS,
        Permission.RECORD_ALLEGATIONS,
        Permission.RESPOND_TO_ALLEGATIONS,
        Permission.COORDINATE_PSEA,
        Permission.ASSIST_VICTIMS,
    }
    assert not ROLE_PERMISSIONS[Role.ADMIN] & content
    assert not ROLE_PERMISSIONS[Role.AUDITOR] & content
    assert ROLE_PERMISSIONS[Role.AUDITOR] == {Permission.READ_AUDIT, Permission.EXPORT_AUDIT}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_non_admins_cannot_open_administration(
    client: FlaskClient, org: object, role: Role
) -> None:
    person = make_person(role, org)  # type: ignore[arg-type]
    sign_in(client, person)
    for url in ("/admin/users", "/admin/organisations", "/admin/users/new"):
        assert client.get(url).status_code == 403, (role, url)


def test_denials_are_announced_for_the_audit_trail(client: FlaskClient, org: object) -> None:
    person = make_person(Role.CASEWORKER, org)  # type: ignore[arg-type]
    sign_in(client, person)
    seen = []

    def listener(sender: object, denial: object) -> None:
        seen.append(denial)

    with access_denied.connected_to(listener):
        assert client.get("/admin/users").status_code == 403
    assert len(seen) == 1
    assert seen[0].permission == Permission.MANAGE_USERS.value  # type: ignore[attr-defined]


def test_r23_mission_users_cannot_hold_case_handling_roles(admin: Person) -> None:
    mission = make_organisation("UNSMA", OrganisationType.PEACEKEEPING_MISSION, False)
    for role in CASE_HANDLING_ROLES:
        with pytest.raises(RuleError) as refused:
            admin_services.create_user(
                admin_services.UserData(f"{role.value}@mission.example", "X Y", role, mission),
                actor=admin.user,
            )
        assert "R23" in str(refused.value.message)
    # A mission can have PSEA focal points.
    user, _ = admin_services.create_user(
        admin_services.UserData("psea@mission.example", "P F", Role.PSEA_FOCAL_POINT, mission),
        actor=admin.user,
    )
    assert user.role is Role.PSEA_FOCAL_POINT


def test_r23_existing_case_worker_cannot_move_to_a_mission(admin: Person, org: object) -> None:
    worker = make_person(Role.CASEWORKER, org)  # type: ignore[arg-type]
    mission = make_organisation("UNSMA", OrganisationType.PEACEKEEPING_MISSION, False)
    with pytest.raises(RuleError):
        admin_services.update_user(
            worker.user,
            admin_services.UserData(worker.email, "W", Role.CASEWORKER, mission),
            actor=admin.user,
        )


def test_r23_organisation_with_caseworkers_cannot_become_a_mission(
    admin: Person, org: object
) -> None:
    make_person(Role.CASEWORKER, org)  # type: ignore[arg-type]
    with pytest.raises(RuleError):
        admin_services.update_organisation(
            org,  # type: ignore[arg-type]
            admin_services.OrganisationData(
                "HBI organisation", "HBI", OrganisationType.PEACEKEEPING_MISSION, False
            ),
            actor=admin.user,
        )


def test_r23_through_the_admin_page(signed_in_admin: FlaskClient) -> None:
    mission = make_organisation("UNSMA", OrganisationType.PEACEKEEPING_MISSION, False)
    response = form_post(
        signed_in_admin,
        "/admin/users/new",
        {
            "email": "cw@mission.example",
            "full_name": "Case Worker",
            "role": Role.CASEWORKER.value,
            "organisation": mission.public_id,
        },
    )
    assert response.status_code == 400
    assert "cannot hold a case-handling role" in response.get_data(as_text=True)


def test_r22_navigation_shows_what_each_user_may_open(app: Flask) -> None:
    """The menu is worked out from the permissions held (role and delegation) once per
    page: it lists exactly the items whose endpoint the policy lets the user open."""
    organisation = make_organisation("NAV")
    coordinator, _granted, _admin = delegated_coordinator()
    users = [make_person(role, organisation).user for role in Role if role in ROLE_PERMISSIONS]
    with app.test_request_context():
        for user in [*users, coordinator]:
            expected = [
                item
                for item in NAVIGATION
                if (requirement := requirement_of(app.view_functions.get(item.endpoint)))
                not in (None, Access.PUBLIC, Access.PARTIAL)
                and satisfies(user, requirement)
            ]
            assert navigation_for(permissions_of(user)) == expected, user.role
    delegated = navigation_for(permissions_of(coordinator))
    assert any(item.endpoint == "psea.index" for item in delegated)
