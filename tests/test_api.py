"""The JSON API: tokens, the policy, problem details, the referral queue and what never
leaves through it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import clock
from referral.api import tokens
from referral.api.models import ApiToken
from referral.audit.models import AuditEvent
from referral.extensions import db
from referral.referrals.models import Referral, ReferralState
from referral.security.policy import Role, Scope, requirement_of, token_scope_of
from referral.workflow import RuleError
from tests.conftest import sign_in
from tests.factories import ApiWorld, bearer, build_api_world, issue

API = "/api/v1"


@pytest.fixture
def world() -> ApiWorld:
    return build_api_world()


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the document and the docs page ----------------------------------------------------------


def test_openapi_document_is_3_1_and_describes_every_api_endpoint(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    described = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if token_scope_of(view) is None:
            continue
        assert rule.rule.startswith(API), rule.rule
        path = rule.rule[len(API) :].replace("<public_id>", "{public_id}")
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                served.add((method, path))
    assert described == served


def test_every_api_endpoint_declares_a_permission_and_a_token_scope(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi", "api.docs"):
            view = app.view_functions[rule.endpoint]
            assert requirement_of(view) is not None, rule.endpoint
            assert token_scope_of(view) is not None, rule.endpoint


def test_docs_page_shows_the_worked_curl_example(client: FlaskClient) -> None:
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "curl -s -H &#34;Authorization: Bearer $TOKEN&#34;" in html or (
        'curl -s -H "Authorization: Bearer $TOKEN"' in html
    )
    assert "/referrals/incoming/7KQ3M2WX9DTA4BCE/accept" in html
    assert "<script" not in html.split("</head>")[1]
    assert "http://" not in html.replace("http://localhost", "")


# --- authentication ------------------------------------------------------------------------


def test_no_token_is_401_problem_json(client: FlaskClient, world: ApiWorld) -> None:
    for headers in ({}, {"Authorization": "Bearer rfl_not-a-token"}, {"Authorization": "Basic x"}):
        response = client.get(f"{API}/areas", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["status"] == 401


def test_a_browser_session_never_authenticates_the_api(
    client: FlaskClient, world: ApiWorld
) -> None:
    """No CSRF on the API, so no cookie may stand in for a token."""
    sign_in(client, world.people[Role.SERVICE_FOCAL_POINT])
    assert client.get("/referrals/").status_code == 200
    assert client.get(f"{API}/referrals/incoming").status_code == 401
    public_id = world.to_own.public_id
    response = client.post(f"{API}/referrals/incoming/{public_id}/accept")
    assert response.status_code == 401
    assert db.session.get(Referral, world.to_own.id).state is ReferralState.SENT  # type: ignore[union-attr]


def test_tokens_are_stored_hashed_and_shown_once(world: ApiWorld) -> None:
    user = world.people[Role.CASEWORKER].user
    issued = tokens.issue_token(
        user, name="laptop script", scopes=[Scope.REFERRALS_READ], days=10, actor=user
    )
    db.session.commit()
    stored = db.session.get(ApiToken, issued.token.id)
    assert stored is not None
    assert issued.secret.startswith("rfl_")
    assert issued.secret not in (stored.token_hash, stored.prefix, stored.scopes, stored.name)
    assert stored.token_hash == tokens.digest(issued.secret)
    assert stored.prefix == issued.secret[: tokens.PREFIX_SHOWN]
    assert _events("api.token_issued")


def test_expired_revoked_and_role_changed_tokens_are_refused(
    client: FlaskClient, world: ApiWorld
) -> None:
    user = world.people[Role.SERVICE_FOCAL_POINT].user
    secret = issue(user, days=1)
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 401
    assert [e.detail["reason"] for e in _events("api.token_refused")] == ["expired"]

    secret = issue(user)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(secret)))
    assert token is not None
    tokens.revoke_token(token, actor=user)
    db.session.commit()
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 401
    assert _events("api.token_revoked")

    secret = issue(user)
    user.role = Role.CASEWORKER
    db.session.commit()
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 401
    user.role = Role.SERVICE_FOCAL_POINT
    user.active = False
    db.session.commit()
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 401
    reasons = [e.detail["reason"] for e in _events("api.token_refused")]
    assert reasons == ["expired", "revoked", "role_changed", "inactive_user"]


def test_a_token_needs_the_scope_as_well_as_the_permission(
    client: FlaskClient, world: ApiWorld
) -> None:
    user = world.people[Role.SERVICE_FOCAL_POINT].user
    read_only = issue(user, Scope.REFERRALS_READ)
    assert client.get(f"{API}/referrals/incoming", headers=bearer(read_only)).status_code == 200
    response = client.post(
        f"{API}/referrals/incoming/{world.to_own.public_id}/accept", headers=bearer(read_only)
    )
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert client.get(f"{API}/areas", headers=bearer(read_only)).status_code == 403


def test_a_scope_the_role_cannot_use_is_never_granted(world: ApiWorld) -> None:
    user = world.people[Role.CASEWORKER].user
    with pytest.raises(RuleError):
        tokens.issue_token(user, name="x", scopes=[Scope.REFERRALS_WRITE], days=5, actor=user)
    auditor = world.people[Role.AUDITOR].user
    with pytest.raises(RuleError):
        tokens.issue_token(auditor, name="x", scopes=[Scope.DIRECTORY_READ], days=5, actor=auditor)
    with pytest.raises(RuleError):
        tokens.issue_token(user, name="x", scopes=[Scope.REFERRALS_READ], days=9999, actor=user)


def test_a_person_issues_only_their_own_tokens(world: ApiWorld) -> None:
    admin = world.people[Role.ADMIN].user
    worker = world.people[Role.CASEWORKER].user
    with pytest.raises(RuleError):
        tokens.issue_token(worker, name="x", scopes=[Scope.REFERRALS_READ], days=5, actor=admin)


def test_requests_are_rate_limited_per_token(
    app: Flask, client: FlaskClient, world: ApiWorld
) -> None:
    secret = world.secrets[Role.CASEWORKER]
    app.config["API_RATE_LIMIT_PER_TOKEN"] = "3 per minute"
    try:
        statuses = [client.get(f"{API}/me", headers=bearer(secret)).status_code for _ in range(4)]
    finally:
        app.config["API_RATE_LIMIT_PER_TOKEN"] = "120 per minute"
    assert statuses == [200, 200, 200, 429]
    other = world.secrets[Role.SUPERVISOR]
    assert client.get(f"{API}/me", headers=bearer(other)).status_code == 200


# --- service accounts --------------------------------------------------------------------------


def test_a_service_account_takes_referrals_and_never_signs_in(
    client: FlaskClient, world: ApiWorld
) -> None:
    admin = world.people[Role.ADMIN].user
    account = tokens.create_service_account(
        world.own, name="OWN case system", role=Role.SERVICE_FOCAL_POINT, actor=admin
    )
    db.session.commit()
    assert account.service_account
    secret = issue(account)
    response = client.get(f"{API}/referrals/incoming", headers=bearer(secret))
    assert [item["id"] for item in response.get_json()["items"]] == [world.to_own.public_id]
    from referral.auth import services as auth

    assert auth.check_credentials(account.email, "anything") is None


def test_r23_a_mission_has_no_case_handling_service_account(world: ApiWorld) -> None:
    from referral.db import OrganisationType
    from tests.factories import make_organisation

    mission = make_organisation("UNSMA", OrganisationType.PEACEKEEPING_MISSION, False)
    with pytest.raises(RuleError):
        tokens.create_service_account(
            mission,
            name="mission system",
            role=Role.SERVICE_FOCAL_POINT,
            actor=world.people[Role.ADMIN].user,
        )


# --- the receiving organisation (R10, R11, R13) ----------------------------------------------


def test_r13_a_service_provider_pulls_and_accepts_a_referral(
    client: FlaskClient, world: ApiWorld
) -> None:
    headers = bearer(world.secrets[Role.SERVICE_FOCAL_POINT])
    queue = client.get(f"{API}/referrals/incoming?state=open", headers=headers).get_json()
    assert [item["id"] for item in queue["items"]] == [world.to_own.public_id]
    item = queue["items"][0]
    assert item["state"] == "sent" and item["actions"] == ["accept", "decline"]

    detail = client.get(f"{API}/referrals/incoming/{item['id']}", headers=headers).get_json()
    assert detail["shared"] == {"incident_type": detail["shared"]["incident_type"]}
    assert sorted(detail["withheld_fields"]) == ["contact", "name", "note"]
    viewed = _events("referral.viewed")
    assert viewed and viewed[-1].fields_revealed == ["incident_type"]

    response = client.post(f"{API}/referrals/incoming/{item['id']}/accept", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "accepted"
    assert response.get_json()["actions"] == ["complete"]
    again = client.post(f"{API}/referrals/incoming/{item['id']}/accept", headers=headers)
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    done = client.post(
        f"{API}/referrals/incoming/{item['id']}/complete",
        json={"reason": "Seen at the clinic"},
        headers=headers,
    )
    assert done.get_json()["state"] == "completed"
    accepted = _events("referral.accepted")
    assert accepted and accepted[-1].actor_id == world.people[Role.SERVICE_FOCAL_POINT].user.id


def test_r13_declining_through_the_api_needs_a_reason(client: FlaskClient, world: ApiWorld) -> None:
    headers = bearer(world.secrets[Role.SERVICE_FOCAL_POINT])
    url = f"{API}/referrals/incoming/{world.to_own.public_id}/decline"
    response = client.post(url, json={}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "reason"
    assert client.post(url, data="not json", headers=headers).status_code == 415
    broken = client.post(
        url, data="{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    response = client.post(url, json={"reason": "No capacity this week"}, headers=headers)
    assert response.get_json()["state"] == "declined"


def test_r11_no_survivor_name_contact_or_narrative_leaves_through_the_api(
    client: FlaskClient, world: ApiWorld
) -> None:
    headers = bearer(world.secrets[Role.SERVICE_FOCAL_POINT])
    case_name = "Amina Testname"
    referral = world.to_own
    bodies = [
        client.get(f"{API}/referrals/incoming", headers=headers).get_data(as_text=True),
        client.get(f"{API}/referrals/incoming/{referral.public_id}", headers=headers).get_data(
            as_text=True
        ),
    ]
    for body in bodies:
        assert "female doctor" not in body
        assert "call after" not in body
        assert case_name not in body
        assert "+236" not in body
        assert "market" not in body
    detail = client.get(f"{API}/referrals/incoming/{referral.public_id}", headers=headers)
    shared = detail.get_json()["shared"]
    assert set(shared) <= {"incident_type", "disability", "displacement_status"}


def test_an_organisation_a_token_never_sees_b_referrals(
    client: FlaskClient, world: ApiWorld
) -> None:
    mine = bearer(world.secrets[Role.SERVICE_FOCAL_POINT])
    theirs = world.to_other.public_id  # received by OTHER
    listed = client.get(f"{API}/referrals/incoming", headers=mine).get_json()["items"]
    listed += client.get(f"{API}/referrals/incoming?state=done", headers=mine).get_json()["items"]
    assert theirs not in {item["id"] for item in listed}
    assert client.get(f"{API}/referrals/incoming/{theirs}", headers=mine).status_code == 404
    for action in ("accept", "decline", "complete"):
        response = client.post(
            f"{API}/referrals/incoming/{theirs}/{action}", json={"reason": "x"}, headers=mine
        )
        assert response.status_code == 404
    assert db.session.get(Referral, world.to_other.id).state is ReferralState.SENT  # type: ignore[union-attr]
    # and the sender's side: OWN's supervisor follows OWN's referrals only
    supervisor = bearer(world.secrets[Role.SUPERVISOR])
    sent = client.get(f"{API}/referrals/sent", headers=supervisor).get_json()["items"]
    assert [item["id"] for item in sent] == [world.to_other.public_id]
    assert (
        client.get(f"{API}/referrals/sent/{world.to_own.public_id}", headers=supervisor).status_code
        == 404
    )


# --- the sender ----------------------------------------------------------------------------


def test_a_caseworker_follows_the_referrals_of_own_cases_only(
    client: FlaskClient, world: ApiWorld
) -> None:
    from tests.factories import make_person

    owner = bearer(world.secrets[Role.CASEWORKER])
    colleague = make_person(Role.CASEWORKER, world.own, email="colleague@own.example.org")
    theirs = bearer(issue(colleague.user))
    url = f"{API}/referrals/sent/{world.to_other.public_id}"
    answer = client.get(url, headers=owner)
    assert answer.status_code == 200
    assert answer.get_json()["state"] == "sent"
    assert answer.get_json()["receiving_organisation"]["acronym"] == "OTHER"
    assert client.get(url, headers=theirs).status_code == 404
    assert client.get(f"{API}/referrals/sent", headers=theirs).get_json()["items"] == []


# --- directory, pathways, statistics ----------------------------------------------------------


def test_areas_and_services_are_paged_by_cursor(client: FlaskClient, world: ApiWorld) -> None:
    from referral.directory.models import Area, AreaLevel

    province = db.session.scalar(select(Area).where(Area.code == "AR-LOM"))
    for number in range(1, 5):
        db.session.add(
            Area(
                code=f"AR-LOM-0{number}",
                name=f"District {number}",
                level=AreaLevel.DISTRICT,
                parent=province,
            )
        )
    db.session.commit()
    headers = bearer(world.secrets[Role.CASEWORKER])
    seen: list[str] = []
    url = f"{API}/areas?limit=2"
    while True:
        page = client.get(url, headers=headers).get_json()
        seen += [area["code"] for area in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"{API}/areas?limit=2&cursor={page['next_cursor']}"
    assert seen == ["AR-LOM", "AR-LOM-01", "AR-LOM-02", "AR-LOM-03", "AR-LOM-04"]
    services = client.get(f"{API}/services?limit=1", headers=headers).get_json()
    assert len(services["items"]) == 1 and services["next_cursor"]
    bad = client.get(f"{API}/services?cursor=!!&sector=nope", headers=headers)
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_published_pathways_are_listed(client: FlaskClient, world: ApiWorld) -> None:
    headers = bearer(world.secrets[Role.SERVICE_FOCAL_POINT])
    page = client.get(f"{API}/pathways", headers=headers).get_json()
    assert [p["status"] for p in page["items"]] == ["published"]
    steps = page["items"][0]["steps"]
    assert {s["name"] for step in steps for s in step["services"]} == {"OWN clinic", "OTHER clinic"}


def test_r24_r25_statistics_are_suppressed_tables_and_audited(
    client: FlaskClient, world: ApiWorld
) -> None:
    headers = bearer(world.secrets[Role.GBV_COORDINATOR])
    response = client.get(f"{API}/statistics/gbv", headers=headers)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["threshold"] == 5 and report["tables"]
    for table in report["tables"]:
        for row in table["rows"]:
            for cell in row["cells"]:
                assert cell["value"] is None or cell["value"] == 0 or cell["value"] >= 5
    exported = _events("report.exported")
    assert exported and exported[-1].detail["via"] == "api"
    bad = client.get(f"{API}/statistics/gbv?start=2026-01-01&end=2020-01-01", headers=headers)
    assert bad.status_code == 400
    empty = client.get(f"{API}/statistics/gbv?start=&end=", headers=headers)
    assert empty.status_code == 400
    assert empty.get_json()["errors"][0]["field"] == "start"
    assert client.get(f"{API}/statistics/psea", headers=headers).status_code == 403


def test_unknown_api_urls_and_methods_answer_problem_json(
    client: FlaskClient, world: ApiWorld
) -> None:
    response = client.get(f"{API}/nothing-here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    response = client.delete(f"{API}/areas")
    assert response.status_code == 405 and response.mimetype == "application/problem+json"


def test_an_overlong_id_is_a_404_and_its_denial_is_audited(
    client: FlaskClient, world: ApiWorld
) -> None:
    """The id of a denied request is written to the audit trail, cut to its column."""
    headers = bearer(world.secrets[Role.SERVICE_FOCAL_POINT])
    long_id = "X" * 300
    response = client.get(f"{API}/referrals/incoming/{long_id}", headers=headers)
    assert response.status_code == 404
    denied = _events("access.denied")
    assert denied and denied[-1].obj_id == "X" * 64
