"""Field readiness, consent entered once (R3, R4), in a real browser: the referral consent
recorded on the consent page is preselected on the refer page with the service, the
information it allows to share and the need, so sending asks for nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.referrals.models import Consent, Referral
from referral.security.policy import Role
from tests.conftest import browser_sign_in, new_tab
from tests.factories import make_organisation, make_person, make_service, open_case, publish_pathway

pytestmark = pytest.mark.browser


def test_consent_entered_once_is_preselected_on_the_refer_page_in_a_browser(
    browser: Any, live_server: str, org: Organisation
) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    legal = make_organisation("LAW", OrganisationType.NATIONAL_NGO)
    health = make_service(clinic, Sector.HEALTH, name="Clinic of Kesa")
    lawyers = make_service(legal, Sector.LEGAL_AID, name="Legal aid desk")
    publish_pathway(caseworker.user, [health, lawyers])
    case = open_case(caseworker.user, name="Amina", contact="+250 700 000 111")
    url = f"/cases/{case.public_id}"

    tab = new_tab(browser, live_server, 360, 800)
    browser_sign_in(tab, caseworker)
    tab.goto(url)
    tab.get_by_role("link", name="Record consent").click()
    tab.select_option("#kind", "referral")
    tab.check("input[name=granted][value=yes]")
    tab.select_option("#service", lawyers.public_id)
    tab.check("input[name=shared_fields][value=name]")
    tab.check("input[name=shared_fields][value=contact]")
    tab.get_by_role("button", name="Record consent").click()
    tab.wait_for_url(f"**{url}")

    tab.get_by_role("link", name="Refer with this consent").click()
    consent = db.session.scalar(db.select(Consent))
    assert consent is not None
    expect(tab.locator(f"input[name=service][value='{lawyers.public_id}']")).to_be_checked()
    expect(tab.locator(f"input[name=service][value='{health.public_id}']")).not_to_be_checked()
    expect(tab.locator("#consent")).to_have_value(consent.public_id)
    expect(tab.locator("input[name=shared_fields][value=name]")).to_be_checked()
    expect(tab.locator("input[name=shared_fields][value=contact]")).to_be_checked()
    expect(tab.locator("input[name=shared_fields][value=safe_contact]")).not_to_be_checked()
    expect(tab.locator("input[name=needs][value=legal_aid]")).to_be_checked()
    expect(tab.locator("#priority")).to_have_value("")  # chosen by the caseworker
    tab.select_option("#priority", "routine")
    tab.get_by_role("button", name="Send the referral").click()
    tab.wait_for_url(f"**{url}")
    tab.context.close()

    referral = db.session.scalar(db.select(Referral))
    assert referral is not None and referral.consent_id == consent.id
    assert referral.service_id == lawyers.id
    assert referral.shared_field_list == ["name", "contact"]
