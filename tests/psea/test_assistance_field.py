"""Field readiness, victim assistance: a record opened from an allegation starts from what
the allegation says, a survivor is not referred twice at once to the same service, and
closing the record stands apart from the everyday work on its page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from referral.assistance.models import AssistanceNeed, AssistanceRecord
from referral.directory.models import AgeGroup, Sex
from referral.extensions import db
from referral.psea.models import SurvivorAgeGroup, SurvivorSex
from referral.referrals.models import Referral
from tests.conftest import form_post, sign_in
from tests.factories import Network, Services, record_allegation, the_area


def _selected(html: str, name: str) -> str | None:
    select = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select)
    return (chosen.group(1) or chosen.group(2)) if chosen else None


def _va(app: Flask, network: Network) -> FlaskClient:
    client = app.test_client()
    sign_in(client, network.va)
    return client


def _open_record(va: FlaskClient) -> str:
    """A record of an adult woman of the test area, opened directly; its page's address."""
    response = form_post(
        va,
        "/assistance/new",
        {
            "consents_to_assistance": "y",
            "age_group": AgeGroup.ADULT.value,
            "sex": Sex.FEMALE.value,
            "area": the_area().public_id,
            "needs": [AssistanceNeed.MEDICAL.value],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def test_r21_record_opened_from_an_allegation_is_prefilled(app: Flask, network: Network) -> None:
    """Field readiness, VA prefill: age group, sex and area come from the allegation; an
    allegation about several survivors leaves age group and sex to be chosen."""
    one = record_allegation(
        network.ngo_focal,
        consents_to_assistance=True,
        area=the_area(),
        survivors={(SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1},
    )
    va = _va(app, network)
    html = va.get(f"/assistance/new?allegation={one.public_id}").get_data(as_text=True)
    assert _selected(html, "age_group") == AgeGroup.ADULT.value
    assert _selected(html, "sex") == Sex.FEMALE.value
    assert _selected(html, "area") == the_area().public_id
    several = record_allegation(
        network.ngo_focal,
        consents_to_assistance=True,
        survivors={
            (SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1,
            (SurvivorAgeGroup.UNDER_18, SurvivorSex.FEMALE): 1,
        },
    )
    html = va.get(f"/assistance/new?allegation={several.public_id}").get_data(as_text=True)
    assert _selected(html, "age_group") in (None, "")
    assert _selected(html, "sex") in (None, "")


def test_r13_a_second_pending_referral_to_the_same_service_is_refused(
    app: Flask, network: Network, gbv_services: Services
) -> None:
    """Field readiness, VA: one pending referral at a time to the same service."""
    va = _va(app, network)
    record_url = _open_record(va)
    referral = {
        "service": gbv_services.case_management.public_id,
        "priority": "urgent",
        "survivor_consents": "y",
    }
    first = form_post(va, f"{record_url}/refer", referral, page=record_url)
    assert first.status_code == 302, first.get_data(as_text=True)
    again = form_post(va, f"{record_url}/refer", referral, page=record_url)
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "still pending" in html and "(R13)" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1


def test_closing_the_record_stands_apart_from_the_everyday_work(
    app: Flask, network: Network, gbv_services: Services
) -> None:
    """Field readiness, destructive buttons: the close button is styled as dangerous and
    sits in its own section after the referral form, never beside "Send referral"."""
    va = _va(app, network)
    _open_record(va)
    record = db.session.scalar(sa.select(AssistanceRecord))
    assert record is not None
    html = va.get(f"/assistance/{record.public_id}").get_data(as_text=True)
    refer_form = html.split(f'action="/assistance/{record.public_id}/refer"', 1)[1]
    refer_form = refer_form.split("</form>", 1)[0]
    assert "danger" not in refer_form and "Send referral" in refer_form
    zone = html.split('<section class="danger-zone"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'class="button danger">Close the assistance record<', zone)
    assert html.index('class="danger-zone"') > html.index("Send referral")
