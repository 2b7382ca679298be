"""Administration pages: organisations and users, and bad input in every form."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from referral.db import Organisation, OrganisationType, User
from referral.extensions import db
from referral.security import passwords
from referral.security.policy import Role
from tests.conftest import form_post, reauth
from tests.factories import Person, make_organisation, make_person

VALID_ORG = {
    "name": "Lomara Legal Aid Network",
    "acronym": "LLAN",
    "org_type": OrganisationType.NATIONAL_NGO.value,
    "provides_services": "y",
    "time_zone": "Africa/Bangui",
    "active": "y",
}


def test_admin_creates_and_edits_an_organisation(signed_in_admin: FlaskClient) -> None:
    response = form_post(signed_in_admin, "/admin/organisations/new", VALID_ORG)
    assert response.status_code == 302
    organisation = db.session.query(Organisation).filter_by(acronym="LLAN").one()
    assert organisation.provides_services and organisation.time_zone == "Africa/Bangui"

    url = f"/admin/organisations/{organisation.public_id}"
    response = form_post(signed_in_admin, url, {**VALID_ORG, "name": "Lomara Legal Aid"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).name == "Lomara Legal Aid"  # type: ignore[union-attr]


def test_duplicate_organisation_acronym_is_a_field_error(signed_in_admin: FlaskClient) -> None:
    make_organisation("LLAN")
    response = form_post(
        signed_in_admin, "/admin/organisations/new", {**VALID_ORG, "name": "Other"}
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


BAD_ORGANISATIONS = [
    {**VALID_ORG, "name": ""},
    {**VALID_ORG, "name": "x" * 201},
    {**VALID_ORG, "acronym": "<script>"},
    {**VALID_ORG, "org_type": "secret_service"},
    {**VALID_ORG, "time_zone": "Mars/Olympus"},
    {**VALID_ORG, "name": "bad\x01name"},
    {k: v for k, v in VALID_ORG.items() if k != "org_type"},
]


@pytest.mark.parametrize("data", BAD_ORGANISATIONS)
def test_bad_organisation_input_gives_field_errors(
    signed_in_admin: FlaskClient, data: dict[str, str]
) -> None:
    response = form_post(signed_in_admin, "/admin/organisations/new", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error"' in html
    assert "<script>" not in html
    assert db.session.query(Organisation).count() == 1  # only the admin's own


def _valid_user(organisation: Organisation) -> dict[str, str]:
    return {
        "email": "New.Worker@Example.org",
        "full_name": "New Worker",
        "role": Role.CASEWORKER.value,
        "organisation": organisation.public_id,
    }


def test_admin_creates_a_user_with_a_one_time_password(
    signed_in_admin: FlaskClient, org: Organisation
) -> None:
    response = form_post(signed_in_admin, "/admin/users/new", _valid_user(org))
    assert response.status_code == 200
    shown = re.search(r'id="one-time-password">([^<]+)<', response.get_data(as_text=True))
    assert shown
    user = db.session.query(User).filter_by(email="new.worker@example.org").one()
    # The form shows no Active box for a new user: the user it creates is active.
    assert user.active and user.must_change_password and not user.has_totp
    assert passwords.verify_password(user.password_hash, shown.group(1))


BAD_USER_CHANGES = [
    {"email": ""},
    {"email": "not-an-email"},
    {"email": "x" * 250 + "@example.org"},
    {"full_name": ""},
    {"full_name": "a" * 121},
    {"role": "superuser"},
    {"organisation": "NOSUCHORG"},
]


@pytest.mark.parametrize("change", BAD_USER_CHANGES)
def test_bad_user_input_gives_field_errors(
    signed_in_admin: FlaskClient, org: Organisation, change: dict[str, str]
) -> None:
    response = form_post(signed_in_admin, "/admin/users/new", {**_valid_user(org), **change})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.query(User).count() == 1


def test_duplicate_email_is_a_field_error(
    signed_in_admin: FlaskClient, org: Organisation, admin: Person
) -> None:
    response = form_post(
        signed_in_admin, "/admin/users/new", {**_valid_user(org), "email": admin.email.upper()}
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_admin_cannot_demote_or_deactivate_themself(
    signed_in_admin: FlaskClient, admin: Person, org: Organisation
) -> None:
    response = form_post(
        signed_in_admin,
        f"/admin/users/{admin.user.public_id}",
        {
            "email": admin.email,
            "full_name": "Admin",
            "role": Role.AUDITOR.value,
            "organisation": org.public_id,
            "active": "y",
        },
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, admin.user.id).role is Role.ADMIN  # type: ignore[union-attr]


def test_admin_resets_password_and_two_factor(
    signed_in_admin: FlaskClient, admin: Person, org: Organisation
) -> None:
    worker = make_person(Role.CASEWORKER, org)
    page = f"/admin/users/{worker.user.public_id}"
    response = form_post(
        signed_in_admin,
        f"{page}/reset-password",
        {"reset-password-confirm": "y", **reauth(admin, "reset-password")},
        page=page,
    )
    assert response.status_code == 200
    response = form_post(
        signed_in_admin,
        f"{page}/reset-2fa",
        {"reset-2fa-confirm": "y", **reauth(admin, "reset-2fa")},
        page=page,
    )
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(User, worker.user.id)
    assert stored is not None
    assert stored.must_change_password and not stored.has_totp and stored.totp_secret is None


def test_unknown_public_ids_are_404(signed_in_admin: FlaskClient) -> None:
    assert signed_in_admin.get("/admin/users/NOSUCHUSER").status_code == 404
    assert signed_in_admin.get("/admin/organisations/NOSUCHORG").status_code == 404
