"""The API token pages: a person's own tokens, and an administrator's service accounts."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from referral.api.models import ApiToken
from referral.db import User
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import Person, make_organisation, make_person

SECRET = re.compile(r'value="(rfl_[A-Za-z0-9_-]+)"')


def test_a_token_is_shown_once_then_works_then_is_revoked(client: FlaskClient) -> None:
    organisation = make_organisation("HBI")
    person = make_person(Role.SERVICE_FOCAL_POINT, organisation)
    sign_in(client, person)
    assert "Manage your API tokens" in client.get("/auth/account").get_data(as_text=True)
    response = form_post(
        client,
        "/api-tokens/",
        {"name": "clinic system", "scopes": ["referrals:read", "referrals:write"], "days": "30"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = SECRET.search(html)
    assert match, html
    secret = match.group(1)
    assert "shown only once" in html
    assert secret not in client.get("/api-tokens/").get_data(as_text=True)

    api = client.application.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/referrals/incoming", headers=headers).status_code == 200
    assert api.get("/api/v1/areas", headers=headers).status_code == 403  # scope not given

    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == person.user.id))
    assert token is not None
    response = form_post(client, f"/api-tokens/{token.public_id}/revoke", {}, page="/api-tokens/")
    assert response.status_code == 302
    assert api.get("/api/v1/referrals/incoming", headers=headers).status_code == 401


def test_a_scope_beyond_the_role_is_refused_on_the_page(client: FlaskClient) -> None:
    person = make_person(Role.CASEWORKER, make_organisation("HBI"))
    sign_in(client, person)
    response = form_post(
        client, "/api-tokens/", {"name": "x", "scopes": ["referrals:write"], "days": "30"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def test_an_administrator_creates_a_service_account_and_its_token(
    client: FlaskClient, admin: Person
) -> None:
    clinic = make_organisation("CLIN")
    sign_in(client, admin)
    response = form_post(
        client,
        "/api-tokens/service-accounts",
        {
            "name": "CLIN case system",
            "organisation": clinic.public_id,
            "role": Role.SERVICE_FOCAL_POINT.value,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    account = db.session.scalar(select(User).where(User.service_account.is_(True)))
    assert account is not None and account.organisation_id == clinic.id
    page = f"/api-tokens/service-accounts/{account.public_id}"
    response = form_post(client, page, {"name": "sync", "scopes": ["referrals:read"], "days": "90"})
    assert response.status_code == 200
    assert SECRET.search(response.get_data(as_text=True))
    assert "sync" in client.get("/api-tokens/all").get_data(as_text=True)


def test_people_other_than_administrators_cannot_manage_service_accounts(
    client: FlaskClient,
) -> None:
    person = make_person(Role.GBV_COORDINATOR, make_organisation("HBI"))
    sign_in(client, person)
    assert client.get("/api-tokens/service-accounts").status_code == 403
    assert client.get("/api-tokens/all").status_code == 403


def test_the_command_line_creates_a_service_account_and_issues_and_revokes_its_token(
    client: FlaskClient,
) -> None:
    make_organisation("CLIN")
    runner = client.application.test_cli_runner()
    args = ["tokens", "service-account", "--org", "CLIN", "--name", "CLIN system"]
    result = runner.invoke(args=[*args, "--role", "service_focal_point"])
    assert result.exit_code == 0, result.output
    account = db.session.scalar(select(User).where(User.service_account.is_(True)))
    assert account is not None
    result = runner.invoke(
        args=[
            "tokens",
            "issue",
            "--user",
            account.public_id,
            "--name",
            "sync",
            "--scope",
            "referrals:read",
            "--days",
            "7",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.rsplit(": ", 1)[1].strip()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/referrals/incoming", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken))
    assert token is not None
    assert runner.invoke(args=["tokens", "revoke", token.public_id]).exit_code == 0
    assert client.get("/api/v1/referrals/incoming", headers=headers).status_code == 401
    result = runner.invoke(args=[*args, "--role", "auditor"])
    assert result.exit_code != 0  # nothing to do through the API
