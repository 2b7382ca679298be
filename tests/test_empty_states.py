"""Clear empty states: every list, table and inbox page says in a sentence what is
empty and, where the user can act, what to do next."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask

from referral.db import Organisation
from referral.extensions import db
from referral.pathways import services as pathways
from referral.security.policy import Role
from tests.conftest import sign_in
from tests.factories import make_person, open_case, the_area

# (role, page, sentence the page must show in its empty-state paragraph)
EMPTY_PAGES: list[tuple[Role, str, str]] = [
    (Role.CASEWORKER, "/", "No referral is past its answer deadline."),
    (Role.CASEWORKER, "/", "No case of yours has a clinical window open."),
    (Role.CASEWORKER, "/", "Every accepted referral has a case."),
    (
        Role.CASEWORKER,
        "/cases/",
        "You have no cases yet. When a survivor comes to you, open a case",
    ),
    (Role.CASEWORKER, "/cases/?stage=closed", "No case matches these filters."),
    (Role.SUPERVISOR, "/", "No case closure is waiting for your approval."),
    (Role.SERVICE_FOCAL_POINT, "/", "No referrals are waiting for your organisation."),
    (Role.SERVICE_FOCAL_POINT, "/referrals/", "No referrals are waiting for your organisation."),
    (
        Role.SERVICE_FOCAL_POINT,
        "/referrals/?show=done",
        "No referral to your organisation is finished yet.",
    ),
    (Role.PSEA_FOCAL_POINT, "/", "No allegation waits for your organisation."),
    (
        Role.PSEA_FOCAL_POINT,
        "/allegations/",
        "No allegation has been received by or routed to your organisation. When a complaint "
        "comes in, record it",
    ),
    (Role.PSEA_COORDINATOR, "/", "Every allegation is routed and acknowledged on time."),
    (Role.PSEA_COORDINATOR, "/allegations/", "No allegation has been recorded in the network yet."),
    (Role.PSEA_COORDINATOR, "/allegations/?state=closed", "No allegation matches these filters."),
    (Role.VA_FOCAL_POINT, "/", "Every consenting survivor has an assistance record."),
    (Role.VA_FOCAL_POINT, "/allegations/", "No allegation is marked for assistance."),
    (Role.VA_FOCAL_POINT, "/assistance/", "No assistance records yet. Open one with the button"),
    (Role.GBV_COORDINATOR, "/", "No pathway version is waiting for review."),
    (Role.GBV_COORDINATOR, "/directory/", "The directory has no services yet. Add the first"),
    (Role.GBV_COORDINATOR, "/directory/?sector=health", "No service matches this search."),
    (Role.CASEWORKER, "/directory/", "The directory has no services yet. The GBV coordinator"),
    (Role.GBV_COORDINATOR, "/directory/areas", "No areas yet. Create the country first"),
    (Role.GBV_COORDINATOR, "/pathways/", "No areas yet, so no pathway either."),
    (Role.ADMIN, "/", "Every active user has set up two-factor sign-in."),
    (Role.ADMIN, "/admin/psea-delegations", "No delegation has been granted. Grant one"),
    (Role.AUDITOR, "/audit/?obj_id=NOSUCHRECORD", "No events match these filters."),
]


def empty_sentences(html: str) -> list[str]:
    """The text of every empty-state paragraph of a page, tags removed."""
    paragraphs = re.findall(r'<p class="empty"[^>]*>(.*?)</p>', html, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", p)).split()) for p in paragraphs]


@pytest.mark.parametrize(("role", "url", "sentence"), EMPTY_PAGES)
def test_empty_list_pages_say_what_is_empty(
    app: Flask, org: Organisation, role: Role, url: str, sentence: str
) -> None:
    client = app.test_client()
    sign_in(client, make_person(role, org))
    response = client.get(url)
    assert response.status_code == 200, url
    shown = empty_sentences(response.get_data(as_text=True))
    assert any(sentence in text for text in shown), (url, shown)


def test_a_new_case_says_what_is_missing_and_what_to_do(app: Flask, org: Organisation) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    case = open_case(caseworker.user)
    client = app.test_client()
    sign_in(client, caseworker)
    shown = empty_sentences(client.get(f"/cases/{case.public_id}").get_data(as_text=True))
    assert "No consent recorded yet. Record the survivor's consent before any referral." in shown
    assert any(text.startswith("No referral yet. Refer the survivor") for text in shown)
    assert "No action planned yet. Add one below." in shown


def test_a_draft_without_steps_says_how_to_add_one(app: Flask, org: Organisation) -> None:
    coordinator = make_person(Role.GBV_COORDINATOR, org)
    with app.test_request_context():
        version = pathways.create_version(the_area(), actor=coordinator.user, title="Draft")
    db.session.commit()
    client = app.test_client()
    sign_in(client, coordinator)
    shown = empty_sentences(
        client.get(f"/pathways/versions/{version.public_id}").get_data(as_text=True)
    )
    assert "This version has no steps yet. Add the first with “Add a step” above." in shown
