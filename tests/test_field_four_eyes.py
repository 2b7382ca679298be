"""Field readiness, four eyes on pathways (R15): by default the author of a version cannot
also approve and publish it; the single-coordinator setting allows it and says so on the
page and in the audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from referral.audit.models import AuditEvent
from referral.db import Organisation
from referral.directory.models import Sector
from referral.extensions import db
from referral.pathways import services
from referral.pathways.models import PathwayStatus, PathwayVersion
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import browser_sign_in, form_post, new_tab, sign_in
from tests.factories import Person, make_areas, make_pathway, make_person, make_service


@pytest.fixture
def four_eyes(app: Flask) -> Iterator[None]:
    app.config["PATHWAY_FOUR_EYES"] = True
    yield
    app.config["PATHWAY_FOUR_EYES"] = False


@pytest.fixture
def coordinators(org: Organisation) -> tuple[Person, Person]:
    reviewer = make_person(Role.GBV_COORDINATOR, org, email="reviewer@example.org")
    return make_person(Role.GBV_COORDINATOR, org), reviewer


def _in_review(author: Person) -> PathwayVersion:
    areas = make_areas()
    service = make_service(author.user.organisation, Sector.HEALTH, "Clinic", [areas.kesa])
    return make_pathway(
        areas.kesa, author.user, [(Sector.HEALTH, [service])], status=PathwayStatus.IN_REVIEW
    )


def _published_event() -> AuditEvent:
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "pathways.version_published")
    ).one()
    assert isinstance(event, AuditEvent)
    return event


def test_r15_four_eyes_author_cannot_publish_own_version_by_default(
    app: Flask, four_eyes: None, coordinators: tuple[Person, Person]
) -> None:
    author, reviewer = coordinators
    with app.test_request_context():
        version = _in_review(author)
        with pytest.raises(RuleError, match="four eyes"):
            services.transition(version, PathwayStatus.PUBLISHED, actor=author.user)
        db.session.rollback()
        services.transition(version, PathwayStatus.PUBLISHED, actor=reviewer.user)
        db.session.commit()
    assert version.status is PathwayStatus.PUBLISHED
    assert version.published_by_id == reviewer.user.id
    detail = _published_event().detail
    assert (detail["four_eyes"], detail["self_approved"]) == (True, False)


def test_r15_four_eyes_version_page_hides_publish_from_the_author(
    app: Flask, client: Any, four_eyes: None, coordinators: tuple[Person, Person]
) -> None:
    author, reviewer = coordinators
    with app.test_request_context():
        version = _in_review(author)
    url = f"/pathways/versions/{version.public_id}"
    sign_in(client, author)
    page = client.get(url).get_data(as_text=True)
    assert "Four eyes:" in page and f"{url}/publish" not in page
    assert "another GBV coordinator approves and publishes it" in page
    refused = form_post(client, f"{url}/publish", {"confirm": "y", "replaces": ""}, page=url)
    assert refused.status_code == 409
    db.session.expire_all()
    assert version.status is PathwayStatus.IN_REVIEW

    other = app.test_client()
    sign_in(other, reviewer)
    assert f"{url}/publish" in other.get(url).get_data(as_text=True)


def test_r15_single_coordinator_setting_lets_the_author_publish_shown_and_audited(
    app: Flask, client: Any, coordinators: tuple[Person, Person]
) -> None:
    assert app.config["PATHWAY_FOUR_EYES"] is False  # the setting of this test suite
    author, _ = coordinators
    with app.test_request_context():
        version = _in_review(author)
    url = f"/pathways/versions/{version.public_id}"
    sign_in(client, author)
    page = client.get(url).get_data(as_text=True)
    assert "Single-coordinator setting:" in page and f"{url}/publish" in page
    done = form_post(client, f"{url}/publish", {"confirm": "y", "replaces": ""}, page=url)
    assert done.status_code == 302
    detail = _published_event().detail
    assert (detail["four_eyes"], detail["self_approved"]) == (False, True)


@pytest.mark.browser
def test_r15_four_eyes_on_the_pathway_pages_in_a_browser(
    app: Flask,
    browser: Any,
    live_server: str,
    four_eyes: None,
    coordinators: tuple[Person, Person],
) -> None:
    author, reviewer = coordinators
    with app.test_request_context():
        version = _in_review(author)
    url = f"/pathways/versions/{version.public_id}"
    tab = new_tab(browser, live_server, 360, 800)
    browser_sign_in(tab, author)
    tab.goto(url)
    expect(tab.locator("#four-eyes")).to_contain_text("another GBV coordinator approves")
    expect(tab.get_by_role("link", name="Publish…")).to_have_count(0)
    tab.context.close()

    tab = new_tab(browser, live_server, 360, 800)
    browser_sign_in(tab, reviewer)
    tab.goto(url)
    tab.get_by_role("link", name="Publish…").click()
    tab.locator("#confirm").check()
    tab.get_by_role("button", name="Publish").click()
    expect(tab.get_by_text(f"Version {version.number} is published.")).to_be_visible()
    tab.context.close()
