"""Field readiness, a case edited after intake in a real browser: age, sex, area,
displacement, disability, risk, contact, safe contact, location and narrative corrected;
the audit names the changed fields and never their values (R2)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.audit.models import AuditEvent
from referral.cases.models import Case, DisplacementStatus, RiskLevel
from referral.db import Organisation
from referral.directory.models import AgeGroup, Area, AreaLevel, Sex
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import browser_sign_in, new_tab
from tests.factories import make_person, open_case

pytestmark = pytest.mark.browser

SECRETS = ("+250 700 111 222", "Call after 6 pm only", "Behind the blue mosque", "It happened")


def test_case_edited_after_intake_in_a_browser_audited_by_field_names(
    browser: Any, live_server: str, org: Organisation
) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    case = open_case(caseworker.user, age=29, contact="+1 old number")
    other_area = Area(code="AR-KES", name="Kesa", level=AreaLevel.PROVINCE)
    db.session.add(other_area)
    db.session.commit()
    url = f"/cases/{case.public_id}"

    tab = new_tab(browser, live_server, 360, 800)
    browser_sign_in(tab, caseworker)
    tab.goto(url)
    tab.get_by_role("link", name="Correct the intake details (recorded)").click()
    tab.wait_for_url(f"**{url}/edit")
    expect(tab.locator("#contact")).to_have_value("+1 old number")
    tab.fill("#age", "16")
    tab.select_option("#sex", "male")
    tab.select_option("#area", other_area.public_id)
    tab.select_option("#risk_level", "high")
    tab.select_option("#displacement_status", "idp")
    tab.check("#has_disability")
    tab.fill("#contact", SECRETS[0])
    tab.fill("#safe_contact", SECRETS[1])
    tab.fill("#location_detail", SECRETS[2])
    tab.fill("#narrative", SECRETS[3])
    tab.get_by_role("button", name="Save the changes").click()
    tab.wait_for_url(f"**{url}")
    expect(tab.get_by_text("Case updated.")).to_be_visible()
    facts = tab.locator("dl.facts").first
    expect(facts).to_contain_text("16")
    expect(facts).to_contain_text("Kesa")
    expect(facts).to_contain_text("Internally displaced")
    assert not any(secret in tab.content() for secret in SECRETS)  # sensitive: details page
    tab.context.close()

    db.session.expire_all()
    fresh = db.session.get(Case, case.id)
    assert fresh is not None
    assert (fresh.age, fresh.age_group, fresh.sex) == (16, AgeGroup.ADOLESCENT, Sex.MALE)
    assert fresh.area_id == other_area.id and fresh.risk_level is RiskLevel.HIGH
    assert fresh.displacement_status is DisplacementStatus.IDP and fresh.has_disability
    assert (fresh.contact, fresh.safe_contact, fresh.location_detail, fresh.narrative) == SECRETS

    edited = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "case.edited")
    ).one()
    assert sorted(edited.detail["fields"]) == sorted(
        [
            "age",
            "age_group",
            "sex",
            "area",
            "risk_level",
            "displacement_status",
            "has_disability",
            "contact",
            "safe_contact",
            "location_detail",
            "narrative",
        ]
    )
    everything = repr(
        [(e.detail, e.fields_revealed) for e in db.session.scalars(db.select(AuditEvent))]
    )
    assert not any(secret in everything for secret in (*SECRETS, "+1 old number"))
    viewed = db.session.scalars(
        db.select(AuditEvent).where(
            AuditEvent.action == "case.viewed", AuditEvent.obj_id == case.public_id
        )
    ).all()
    assert any(e.fields_revealed == ["contact"] for e in viewed)  # the form showed it
