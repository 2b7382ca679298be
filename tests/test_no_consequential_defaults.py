"""Field readiness, no consequential defaults: every choice of a form that changes something
starts empty ("Choose", no radio button ticked), so nobody saves a survivor's sex, a risk
level, a consent answer, a user's role or a routing target they never chose.

Every GET page each role may open is rendered (tests/crawl.py) and every list and radio
group of its POST forms is read. A list whose first entry is not the empty one, or a value
marked as chosen, fails, unless the page shows a value that is already decided: a stored
record's own value on its edit page, or a value taken from the record the form starts
from. Those are listed below, each with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.cases.models import Case
from referral.db import OrganisationType
from referral.directory.models import Service
from referral.extensions import db
from referral.referrals.models import Priority, Referral
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.crawl import pages_of
from tests.factories import (
    Person,
    build_world,
    incident,
    make_organisation,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    the_area,
)

# (endpoint, field): a value shown chosen there is already decided, not a default.
DECIDED = {
    ("admin.edit_user", "role"): "the stored user's role",
    ("admin.edit_user", "organisation"): "the stored user's organisation",
    ("admin.edit_organisation", "org_type"): "the stored organisation's type",
    ("directory.edit_area", "level"): "the stored area's level",
    ("directory.edit_area", "parent"): "the stored area's parent",
    ("directory.edit_service", "organisation"): "the stored service's values",
    ("directory.edit_service", "sector"): "the stored service's values",
    ("directory.edit_service", "cost"): "the stored service's values",
    ("directory.edit_service", "status"): "the stored service's values",
    ("pathways.edit_step", "sector"): "the stored step's sector (a new step starts empty)",
    ("auth.account", "locale"): "the user's own language setting",
    ("reports.index", "language"): "an export's language, the user's own to begin with",
    ("cases.edit", "*"): "the stored case's values, to be corrected",
    ("cases.edit_incident", "*"): "the recorded incident's answers, to be corrected",
    ("cases.refer", "service"): "the service the survivor's recorded referral consent names",
    ("cases.refer", "consent"): "the survivor's recorded referral consent for that service",
    ("cases.show", "status"): "each plan item's stored status",
    ("psea.show", "organisation"): "the entity the allegation names (the record's own data)",
}
# R8: while a clinical window is open a health referral is an emergency; the form says so
# and a lower priority needs a reason (tested below).
DECIDED_VALUES = {("cases.refer", "priority"): {"emergency"}}
# Lists whose first entry may stand first: nothing is saved by choosing among them
# without pressing a button named for the step.
NEXT_STEP = {("cases.show", "stage"): "the case's next step, moved by its own button"}


@dataclass
class Choice:
    form_action: str
    name: str
    kind: str  # "select" or "radio"
    first_value: str | None = None
    chosen: list[str] = field(default_factory=list)


class ChoiceFinder(HTMLParser):
    """The lists and radio groups of the page's POST forms."""

    def __init__(self) -> None:
        super().__init__()
        self.choices: list[Choice] = []
        self._action: str | None = None
        self._select: Choice | None = None
        self._radios: dict[str, Choice] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self._action = (attributes.get("action") or "") if method == "post" else None
            self._radios = {}
        if self._action is None:
            return
        if tag == "select":
            self._select = Choice(self._action, attributes.get("name") or "", "select")
        elif tag == "option" and self._select is not None:
            value = attributes.get("value") or ""
            if self._select.first_value is None:
                self._select.first_value = value
            if "selected" in attributes:
                self._select.chosen.append(value)
        elif tag == "input" and attributes.get("type") == "radio":
            name = attributes.get("name") or ""
            group = self._radios.setdefault(name, Choice(self._action, name, "radio"))
            if group not in self.choices:
                self.choices.append(group)
            if "checked" in attributes:
                group.chosen.append(attributes.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.choices.append(self._select)
            self._select = None
        elif tag == "form":
            self._action = None


def preselected(endpoint: str, choice: Choice) -> str | None:
    """What the page chose for the user, or None when the choice starts empty."""
    decided = (endpoint, choice.name) in DECIDED or (endpoint, "*") in DECIDED
    chosen = [
        value
        for value in choice.chosen
        if value and value not in DECIDED_VALUES.get((endpoint, choice.name), ())
    ]
    if chosen and not decided:
        return f"{choice.name}={chosen[0]!r} marked as chosen"
    if (
        choice.kind == "select"
        and not choice.chosen
        and choice.first_value
        and (endpoint, choice.name) not in NEXT_STEP
    ):
        return f"{choice.name}: the first entry {choice.first_value!r} is not empty"
    return None


@pytest.mark.parametrize("role", list(Role))
def test_no_consequential_choice_is_preselected_on_any_form(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    """Field readiness, no consequential defaults, over every form page of every role."""
    world = build_world()
    sign_in(client, world.people[role])
    found: list[str] = []
    pages = 0
    for endpoint, url, html in pages_of(app, client, role, world):
        pages += 1
        finder = ChoiceFinder()
        finder.feed(html)
        found += [
            f"{url} ({endpoint}): {problem}"
            for choice in finder.choices
            if (problem := preselected(endpoint, choice))
        ]
    assert pages > 1
    assert found == [], "\n".join(found)


@pytest.fixture
def health(caseworker: Person) -> Service:
    service = make_service(make_organisation("CLINIC", OrganisationType.NATIONAL_NGO))
    publish_pathway(caseworker.user, [service])
    return service


def _priority_shown(html: str) -> list[str]:
    finder = ChoiceFinder()
    finder.feed(html)
    return next(c.chosen for c in finder.choices if c.name == "priority")


def test_r8_refer_page_preselects_emergency_only_while_a_clinical_window_is_open(
    client: FlaskClient, caseworker: Person, health: Service
) -> None:
    """Field readiness, no consequential defaults: the referral priority starts empty, and
    Emergency while a clinical window is open (R8), where a lower one needs a reason."""
    sign_in(client, caseworker)
    quiet = open_case(caseworker.user)
    assert _priority_shown(client.get(f"/cases/{quiet.public_id}/refer").get_data(True)) == []

    case = open_case(caseworker.user)
    incident(case, caseworker.user, hours_ago=10, penetration=True)
    consent = referral_consent(case, caseworker.user, health)
    url = f"/cases/{case.public_id}/refer"
    assert _priority_shown(client.get(url).get_data(as_text=True)) == ["emergency"]
    sent = {
        "service": health.public_id,
        "needs": "health",
        "consent": consent.public_id,
        "priority": "routine",
    }
    refused = form_post(client, url, sent)
    assert refused.status_code == 400
    assert 'id="priority_reason-error"' in refused.get_data(as_text=True)
    assert db.session.scalar(select(Referral)) is None

    unchosen = form_post(client, url, {**sent, "priority": ""})
    assert unchosen.status_code == 400
    assert 'id="priority-error"' in unchosen.get_data(as_text=True)

    response = form_post(client, url, {**sent, "priority_reason": "Already treated at the clinic."})
    assert response.status_code == 302, response.get_data(as_text=True)
    referral = db.session.scalar(select(Referral))
    assert referral is not None and referral.priority is Priority.ROUTINE
    assert referral.time_critical


@pytest.mark.parametrize("unanswered", ["sex", "risk_level", "displacement_status"])
def test_intake_refuses_an_unanswered_consequential_choice(
    client: FlaskClient, caseworker: Person, unanswered: str
) -> None:
    """Field readiness, no consequential defaults: the intake's sex, risk level and
    displacement status must be chosen; the form says so next to the field."""
    sign_in(client, caseworker)
    intake = {
        "mandatory_reporting_explained": "y",
        "age": "29",
        "sex": "female",
        "area": the_area().public_id,
        "risk_level": "medium",
        "displacement_status": "idp",
    }
    response = form_post(client, "/cases/new", {**intake, unanswered: ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{unanswered}-error"' in html and "Choose one of the options." in html
    assert db.session.scalar(select(Case)) is None
    assert form_post(client, "/cases/new", intake).status_code == 302
