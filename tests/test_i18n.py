"""Language choice: the user's setting first, then the browser; Arabic right-to-left."""

from __future__ import annotations

from flask.testing import FlaskClient

from referral.db import User
from referral.extensions import db
from tests.conftest import form_post, sign_in
from tests.factories import Person


def test_browser_language_is_used_before_sign_in(client: FlaskClient) -> None:
    html = client.get("/auth/sign-in", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    html = client.get("/auth/sign-in", headers={"Accept-Language": "fr-FR,fr"}).get_data(
        as_text=True
    )
    assert '<html lang="fr" dir="ltr">' in html


def test_user_setting_wins_over_the_browser(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    response = form_post(client, "/auth/account/language", {"locale": "fr"}, page="/auth/account")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.user.id).locale == "fr"  # type: ignore[union-attr]
    html = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="fr"' in html


def test_unknown_language_is_refused(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    response = form_post(client, "/auth/account/language", {"locale": "xx"}, page="/auth/account")
    assert response.status_code == 400
