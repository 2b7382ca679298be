"""Field readiness, consent entered once (R3, R4): the refer page and the send pick up
the referral consent that covers the chosen service."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from referral.db import Organisation, OrganisationType
from referral.directory.models import Sector
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import Referral
from referral.security.policy import Role
from tests.conftest import form_post, sign_in
from tests.factories import (
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
)


def test_r4_consent_entered_once_matches_the_service_on_the_refer_page_and_on_send(
    client: FlaskClient, org: Organisation
) -> None:
    caseworker = make_person(Role.CASEWORKER, org)
    clinic = make_organisation("CLINIC", OrganisationType.NATIONAL_NGO)
    health = make_service(clinic, Sector.HEALTH)
    counselling = make_service(clinic, Sector.PSYCHOSOCIAL)
    publish_pathway(caseworker.user, [health, counselling])
    case = open_case(caseworker.user, name="Amina")
    other = referral_consent(case, caseworker.user, counselling)
    consent = referral_consent(case, caseworker.user, health, shared=("name",))
    consents = engine.usable_referral_consents(case)
    assert engine.matching_consent(consents, health) == consent
    assert engine.matching_consent(consents, counselling) == other

    sign_in(client, caseworker)
    refer = f"/cases/{case.public_id}/refer"
    page = client.get(f"{refer}?service={health.public_id}").get_data(as_text=True)
    assert f'<option selected value="{consent.public_id}">' in page
    boxes = re.findall(r'<input[^>]*name="shared_fields"[^>]*>', page)
    assert [b for b in boxes if "checked" in b] == [b for b in boxes if 'value="name"' in b]
    assert re.search(r'<input[^>]*checked[^>]*value="health"', page)  # the need

    # the consent left on "No consent recorded": the one covering the service applies
    sent = form_post(
        client,
        refer,
        {
            "service": health.public_id,
            "priority": "routine",
            "needs": "health",
            "consent": "",
            "shared_fields": "name",
        },
    )
    assert sent.status_code == 302
    referral = db.session.scalar(db.select(Referral))
    assert referral is not None and referral.consent_id == consent.id
