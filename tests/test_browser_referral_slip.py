"""Field readiness, the survivor's referral slip in a real browser: service name,
address, hours and what to bring, in the chosen language, and nothing of the case."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.cases import services as cases
from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.security.policy import Role
from tests.conftest import browser_sign_in, new_tab
from tests.factories import (
    incident,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)

pytestmark = pytest.mark.browser


def test_referral_slip_shows_the_service_in_the_chosen_language_and_no_case_data(
    browser: Any, live_server: str, org: Organisation
) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    service = make_service(clinic, Sector.HEALTH, name="Kesa Women's Clinic")
    service.address = "Market road 4, Kesa town"
    service.opening_hours = "Every day, 24 hours"
    service.what_to_bring = "Any health card you have"
    db.session.commit()
    publish_pathway(caseworker.user, [service])
    case = open_case(
        caseworker.user,
        name="Amina Secret",
        contact="+236 70 99 99 99",
        location_detail="Behind the blue mosque",
        narrative="Private account",
    )
    incident(case, caseworker.user)
    consent = referral_consent(case, caseworker.user, service, shared=("name",))
    referral = cases.refer(
        case,
        request(service, note="Referral note, private"),
        consent=consent,
        actor=caseworker.user,
    )
    db.session.commit()
    secrets = (
        case.survivor_code,
        case.public_id,
        referral.reference,
        "Amina Secret",
        "+236 70 99 99 99",
        "Behind the blue mosque",
        "Private account",
        "Referral note, private",
    )

    tab = new_tab(browser, live_server, 360, 800)
    browser_sign_in(tab, caseworker)
    tab.goto(f"/cases/{case.public_id}")
    tab.get_by_role("link", name="Slip for the survivor").click()
    slip = tab.locator("#slip")
    for fact in ("Kesa Women's Clinic", "Market road 4, Kesa town", "Every day, 24 hours"):
        expect(slip).to_contain_text(fact)
    expect(slip).to_contain_text("What to bring")
    expect(slip).to_contain_text("Any health card you have")
    slip_html = slip.inner_html()
    assert not any(secret in slip_html for secret in secrets)
    assert case.survivor_code not in tab.title()

    show = tab.locator("form.no-print button[type=submit]")  # its words follow the language
    tab.select_option("#slip-lang", "fr")
    show.click()
    expect(tab.locator("html")).to_have_attribute("lang", "fr")
    expect(slip).to_contain_text("Market road 4, Kesa town")
    tab.select_option("#slip-lang", "ar")
    show.click()
    expect(tab.locator("html")).to_have_attribute("dir", "rtl")
    page_html = tab.content()
    # the whole page, in every language, carries nothing of the case but its opaque link
    assert not any(secret in page_html for secret in secrets if secret not in (case.public_id,))
    tab.context.close()
