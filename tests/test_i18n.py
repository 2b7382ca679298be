"""Language choice: the user's setting first, then the browser; Arabic right-to-left."""

from __future__ import annotations

import flask_wtf.i18n
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm

from referral.db import User
from referral.extensions import db
from tests.app_forms import app_form_classes
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


def test_sign_in_page_language_links_choose_and_keep_the_language(client: FlaskClient) -> None:
    """Field readiness, sign-in language switch: English, French and Arabic links on the
    sign-in page; the choice holds for the pages that follow, over the browser's."""
    english = client.get("/auth/sign-in", headers={"Accept-Language": "en"}).get_data(True)
    for code in ("en", "fr", "ar"):
        assert f'href="/auth/sign-in?lang={code}"' in english
    assert '<html lang="fr"' in client.get("/auth/sign-in?lang=fr").get_data(as_text=True)
    kept = client.get("/auth/sign-in", headers={"Accept-Language": "en"}).get_data(True)
    assert '<html lang="fr" dir="ltr">' in kept and "Se connecter" in kept
    arabic = client.get("/auth/sign-in?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic
    assert '<html lang="en"' in client.get("/auth/sign-in?lang=en").get_data(as_text=True)
    unknown = client.get("/auth/sign-in?lang=xx", headers={"Accept-Language": "en"})
    assert '<html lang="en"' in unknown.get_data(as_text=True)


def test_building_a_form_does_not_read_wtforms_own_catalogue(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field built without a label asks WTForms' catalogue for one, which Flask-WTF
    reads from disk once per request (a tenth of a millisecond and more): every field of
    the app has its label (a hidden field an empty one), so a page that only shows forms
    never reads it. Validation messages still come from it, translated."""
    reads: list[str] = []
    real = flask_wtf.i18n._get_translations

    def counting() -> object:
        reads.append("read")
        return real()

    monkeypatch.setattr(flask_wtf.i18n, "_get_translations", counting)
    forms = [form for form in app_form_classes() if issubclass(form, FlaskForm)]
    assert len(forms) > 40
    with app.test_request_context():
        for form in forms:
            form(formdata=None)
    assert reads == []
