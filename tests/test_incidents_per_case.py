"""Several incidents per case (a returning survivor): numbered incidents, clinical windows
(R8), referrals and statistics (R24) per incident, and the migration that keeps the
one-incident cases recorded before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from referral import clock
from referral.cases import services as cases
from referral.cases.models import (
    Case,
    Incident,
    IncidentType,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PreviouslyReported,
    TimeOfDay,
)
from referral.db import Organisation, OrganisationType, User
from referral.directory.models import Sector, Service, Sex
from referral.extensions import db
from referral.home.inbox import inbox_for
from referral.referrals import services as engine
from referral.referrals.models import ConsentKind, Priority, Referral, ReferralState
from referral.reports import services as reports
from referral.security.crypto import generate_key_entry
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import form_post, make_app, sign_in
from tests.factories import (
    Person,
    incident,
    make_organisation,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
)
from tests.test_incident_recorder import data_rows, download, workbook_of
from tests.test_reports_statistics import row_of, scope_of, table


@pytest.fixture(autouse=True)
def _request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def health(clinic: Organisation, caseworker: Person) -> Service:
    service = make_service(clinic, Sector.HEALTH)
    publish_pathway(caseworker.user, [service])
    return service


def _data(hours_ago: float, **overrides: Any) -> cases.IncidentData:
    now = clock.utcnow()
    values: dict[str, Any] = {
        "answers": {"penetration": True},
        "incident_at": now - timedelta(hours=hours_ago),
        "reported_on": now.date(),
        "time_of_day": TimeOfDay.EVENING_NIGHT,
        "location_type": LocationType.HOME,
        "perpetrator_count": 1,
        "perpetrator_sex": Sex.MALE,
        "perpetrator_age_group": PerpetratorAgeGroup.ADULT,
        "perpetrator_relationship": PerpetratorRelationship.INTIMATE_PARTNER,
    }
    values.update(overrides)
    return cases.IncidentData(**values)


def _returning_survivor(caseworker: Person) -> tuple[Case, Incident, Incident]:
    """A case with an incident of a month ago (windows closed) and the survivor's return
    after a new rape 10 hours ago (windows open)."""
    case = open_case(caseworker.user)
    first = cases.record_incident(
        case, _data(24 * 30, answers={"physical_assault": True}), actor=caseworker.user
    )
    second = cases.record_incident(case, _data(10), actor=caseworker.user)
    db.session.commit()
    return case, first, second


# --- the model and the rule ----------------------------------------------------------------


def test_item1_several_incidents_per_case_numbered_and_corrected_one_by_one(
    caseworker: Person,
) -> None:
    case, first, second = _returning_survivor(caseworker)
    assert [i.number for i in case.incidents] == [1, 2]
    assert [i.incident_type for i in case.incidents] == [
        IncidentType.PHYSICAL_ASSAULT,
        IncidentType.RAPE,
    ]
    assert case.latest_incident is second
    # R7 per incident: the flags follow each incident's own answers
    assert first.intimate_partner_violence and not first.possible_sexual_exploitation
    corrected = cases.record_incident(
        case,
        _data(24 * 30, answers={"psychological_abuse": True}),
        actor=caseworker.user,
        incident=first,
    )
    db.session.commit()
    assert corrected is first and first.number == 1
    assert first.incident_type is IncidentType.PSYCHOLOGICAL_ABUSE
    assert second.incident_type is IncidentType.RAPE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 2


def test_item1_an_incident_of_another_case_cannot_be_corrected_through_this_one(
    caseworker: Person,
) -> None:
    _case, first, _second = _returning_survivor(caseworker)
    other = open_case(caseworker.user)
    with pytest.raises(RuleError):
        cases.record_incident(other, _data(5), actor=caseworker.user, incident=first)


def test_item1_r8_clinical_windows_of_every_incident(caseworker: Person) -> None:
    case, first, _second = _returning_survivor(caseworker)
    now = clock.utcnow()
    assert first.clinical_windows() == []  # physical assault: no window
    assert [(i.number, w.care.value) for i, w in case.open_clinical_windows(now)] == [
        (2, "pep"),
        (2, "ec"),
    ]
    # an older rape recorded later (number 3) whose PEP window is still open too
    third = cases.record_incident(case, _data(70), actor=caseworker.user)
    db.session.commit()
    assert third.number == 3
    windows = case.open_clinical_windows(now)
    assert windows[0][0] is third  # its PEP window closes first (in 2 hours)
    assert {i.number for i, _w in windows} == {2, 3}


def test_item1_r8_inbox_and_case_list_alarm_consider_every_incident(
    app: Flask, caseworker: Person
) -> None:
    """The case's first incident has no window; the returning survivor's new one has."""
    case, _first, _second = _returning_survivor(caseworker)
    items = {str(s.title): s.items for s in inbox_for(caseworker.user)}["Clinical windows closing"]
    assert [i.title for i in items] == [case.survivor_code]
    assert items[0].detail.startswith("Incident 2 · HIV post-exposure prophylaxis")
    client = app.test_client()
    sign_in(client, caseworker)
    listing = client.get("/cases/").get_data(as_text=True)
    assert "Clinical window open" in listing
    assert "(and 1 earlier incident)" in listing
    clock.advance(timedelta(hours=111))
    assert {str(s.title): s.items for s in inbox_for(caseworker.user)}[
        "Clinical windows closing"
    ] == []
    assert "Clinical window open" not in client.get("/cases/").get_data(as_text=True)


# --- referrals name their incident -----------------------------------------------------------


def test_item1_r8_a_referral_names_its_incident_and_takes_its_urgency(
    caseworker: Person, health: Service
) -> None:
    case, first, second = _returning_survivor(caseworker)
    consent = referral_consent(case, caseworker.user, health)
    about_old = cases.refer(
        case.regarding(first),
        request(health, priority=Priority.ROUTINE),
        consent=consent,
        actor=caseworker.user,
    )
    about_new = cases.refer(
        case.regarding(second), request(health), consent=consent, actor=caseworker.user
    )
    about_none = cases.refer(
        case.regarding(None),
        request(health, priority=Priority.ROUTINE),
        consent=consent,
        actor=caseworker.user,
    )
    db.session.commit()
    assert about_old.incident_public_id == first.public_id
    assert not about_old.time_critical and about_old.priority is Priority.ROUTINE
    assert about_new.incident_public_id == second.public_id
    assert about_new.time_critical and about_new.priority is Priority.EMERGENCY
    assert about_none.incident_public_id is None and not about_none.time_critical
    # a case alone refers about its latest incident
    default = cases.refer(case, request(health), consent=consent, actor=caseworker.user)
    assert default.incident_public_id == second.public_id


def test_item1_pages_add_an_incident_list_them_and_refer_for_one(
    app: Flask, caseworker: Person, health: Service
) -> None:
    case, first, second = _returning_survivor(caseworker)
    consent = referral_consent(case, caseworker.user, health)
    client = app.test_client()
    sign_in(client, caseworker)
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert "Incident 1" in page and "Incident 2" in page
    assert "Record another incident" in page

    today = clock.utcnow().date().isoformat()
    form = {
        "penetration": "no",
        "unwanted_sexual_contact": "yes",
        "physical_assault": "no",
        "forced_marriage": "no",
        "denial_of_resources": "no",
        "psychological_abuse": "no",
        "incident_date": today,
        "incident_time": "01:00",
        "time_of_day": "morning",
        "location_type": "home",
        "reported_on": today,
        "perpetrator_count": "1",
        "perpetrator_sex": "male",
        "perpetrator_age_group": "adult",
        "perpetrator_relationship": "intimate_partner",
        "previously_reported": "no",
    }
    response = form_post(client, f"/cases/{case.public_id}/incident", form)
    assert response.status_code == 302
    db.session.expire_all()
    third = db.session.scalar(sa.select(Incident).where(Incident.number == 3))
    assert third is not None and third.incident_type is IncidentType.SEXUAL_ASSAULT

    # correcting incident 1 shows its answers and changes it alone
    edit_url = f"/cases/{case.public_id}/incidents/{first.public_id}"
    edit_page = client.get(edit_url).get_data(as_text=True)
    assert 'checked id="physical_assault-0"' in edit_page  # incident 1's "yes"
    response = form_post(
        client, edit_url, {**form, "forced_marriage": "yes", "unwanted_sexual_contact": "no"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    numbers = dict(db.session.execute(sa.select(Incident.number, Incident.incident_type)).all())
    assert numbers == {
        1: IncidentType.FORCED_MARRIAGE,
        2: IncidentType.RAPE,
        3: IncidentType.SEXUAL_ASSAULT,
    }

    refer_url = f"/cases/{case.public_id}/refer?incident={second.public_id}"
    page = client.get(refer_url).get_data(as_text=True)
    assert "This referral concerns incident 2." in page
    response = form_post(
        client,
        refer_url,
        {
            "incident": second.public_id,
            "service": health.public_id,
            "priority": "emergency",  # R8: preselected while incident 2's window is open
            "needs": "health",
            "consent": consent.public_id,
        },
        page=refer_url,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    referral = db.session.scalar(sa.select(Referral))
    assert referral is not None and referral.incident_public_id == second.public_id
    assert referral.time_critical  # R8: incident 2's window is open
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert referral.reference in page


def test_item1_a_referral_cannot_name_an_incident_of_another_case(
    app: Flask, caseworker: Person, health: Service
) -> None:
    case, _first, _second = _returning_survivor(caseworker)
    other, stranger, _ = _returning_survivor(caseworker)
    consent = referral_consent(case, caseworker.user, health)
    client = app.test_client()
    sign_in(client, caseworker)
    url = f"/cases/{case.public_id}/refer"
    response = form_post(
        client,
        url,
        {
            "incident": stranger.public_id,
            "service": health.public_id,
            "priority": "routine",
            "needs": "health",
            "consent": consent.public_id,
        },
        page=url,
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    assert client.get(f"/cases/{case.public_id}/incidents/{stranger.public_id}").status_code == 404
    # the other case's own page corrects it
    assert client.get(f"/cases/{other.public_id}/incidents/{stranger.public_id}").status_code == 200


# --- statistics per incident (R24) -----------------------------------------------------------


def test_item1_r24_statistics_count_each_incident_and_its_own_referrals(
    caseworker: Person, org: Organisation, clinic: Organisation, health: Service
) -> None:
    """Five returning survivors, each with a rape counted elsewhere (reported to a GBVIMS
    organisation) and a new rape counted here: five incidents counted, not ten; the
    health referral made for the counted incident within 72 hours counts for it."""
    receiver = make_person(Role.SERVICE_FOCAL_POINT, clinic)
    for _ in range(5):
        case = open_case(caseworker.user)
        old = cases.record_incident(
            case,
            _data(24 * 5, previously_reported=PreviouslyReported.GBVIMS_ORG),
            actor=caseworker.user,
        )
        new = cases.record_incident(case, _data(5), actor=caseworker.user)
        engine.record_consent(
            case, ConsentKind.STATISTICS, actor=caseworker.user, survivor_is_child=False
        )
        consent = referral_consent(case, caseworker.user, health)
        for concerned in (old, new):
            referral = cases.refer(
                case.regarding(concerned), request(health), consent=consent, actor=caseworker.user
            )
            db.session.flush()
            engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
        db.session.commit()
    report = reports.gbv_report(scope_of(org))
    assert table(report, "Incidents by type and survivor sex").grand_total.text == "5"
    care = table(report, "Rape incidents: health care within 72 hours")
    assert row_of(care, "Reached health care within 72 hours") == ["5", "5"]
    # the referrals about the incidents counted elsewhere are left out with them
    by_state = table(report, "Referrals by sector and state")
    assert by_state.grand_total.text == "5"


# --- the migration ---------------------------------------------------------------------------


def test_item1_migration_0016_keeps_old_style_cases_and_names_their_incident(
    tmp_path: Path, engine_name: str
) -> None:
    if engine_name != "sqlite":
        pytest.skip("runs on its own SQLite file; the PostgreSQL schema is shared")
    app = make_app(f"sqlite:///{tmp_path / 'm.sqlite'}", ENCRYPTION_KEYS=generate_key_entry("m"))
    with app.app_context(), app.test_request_context():
        upgrade()
        org = make_organisation("AAA")
        clinic = make_organisation("CLN", OrganisationType.NATIONAL_NGO)
        caseworker = make_person(Role.CASEWORKER, org)
        service = make_service(clinic, Sector.HEALTH)
        publish_pathway(caseworker.user, [service])
        case = open_case(caseworker.user)
        recorded = incident(case, caseworker.user)
        bare = open_case(caseworker.user)  # a case without an incident
        consent = referral_consent(case, caseworker.user, service)
        cases.refer(case, request(service), consent=consent, actor=caseworker.user)
        cases.refer(
            bare,
            request(service),
            consent=referral_consent(bare, caseworker.user, service),
            actor=caseworker.user,
        )
        db.session.commit()
        incident_id, case_id, worker_id = recorded.public_id, case.public_id, caseworker.user.id
        db.session.remove()
        downgrade(revision="0015")
        with db.engine.connect() as c:
            columns = {col["name"] for col in sa.inspect(c).get_columns("referrals")}
            assert "incident_public_id" not in columns
            assert c.execute(sa.text("SELECT count(*) FROM incidents")).scalar() == 1
        upgrade()
        rows = db.session.execute(
            sa.select(Referral.source_public_id, Referral.incident_public_id).order_by(Referral.id)
        ).all()
        assert [incident for _source, incident in rows] == [incident_id, None]
        kept = db.session.scalar(sa.select(Incident))
        assert kept is not None and kept.number == 1 and kept.public_id == incident_id
        # the upgraded case takes a second incident
        reloaded = db.session.scalar(sa.select(Case).where(Case.public_id == case_id))
        assert reloaded is not None
        second = cases.record_incident(
            reloaded, _data(3), actor=db.session.get_one(User, worker_id)
        )
        db.session.commit()
        assert second.number == 2
        db.session.remove()
        db.engine.dispose()


def test_item1_r8_care_arranged_for_one_incident_does_not_silence_another(
    caseworker: Person, clinic: Organisation, health: Service
) -> None:
    """Health care accepted after the survivor's earlier rape does not cover the new one:
    the new incident's window still raises the alarm and its referral is urgent."""
    receiver = make_person(Role.SERVICE_FOCAL_POINT, clinic)
    case = open_case(caseworker.user)
    earlier = cases.record_incident(case, _data(60), actor=caseworker.user)
    consent = referral_consent(case, caseworker.user, health)
    referral = cases.refer(
        case.regarding(earlier), request(health), consent=consent, actor=caseworker.user
    )
    db.session.flush()
    engine.transition(referral.public_id, ReferralState.ACCEPTED, actor=receiver.user)
    db.session.commit()
    alarms = {str(s.title): s.items for s in inbox_for(caseworker.user)}["Clinical windows closing"]
    assert alarms == []  # care arranged for the only incident

    newer = cases.record_incident(case, _data(2), actor=caseworker.user)
    db.session.commit()
    alarms = {str(s.title): s.items for s in inbox_for(caseworker.user)}["Clinical windows closing"]
    assert [i.title for i in alarms] == [case.survivor_code]
    assert alarms[0].detail.startswith("Incident 2 · ")
    assert cases.incidents_with_care_arranged([case]) == {earlier.public_id}
    assert engine.pathway_options(case.regarding(newer))[0].urgent
    assert not engine.pathway_options(case.regarding(earlier))[0].urgent


def test_item1_incident_recorder_export_marks_referrals_for_their_own_incident(
    app: Flask, caseworker: Person, org: Organisation, health: Service
) -> None:
    """One row per incident; the health referral made for incident 2 marks incident 2's
    row only."""
    supervisor = make_person(Role.SUPERVISOR, org)
    case, first, second = _returning_survivor(caseworker)
    engine.record_consent(
        case, ConsentKind.STATISTICS, actor=caseworker.user, survivor_is_child=False
    )
    consent = referral_consent(case, caseworker.user, health)
    cases.refer(case.regarding(second), request(health), consent=consent, actor=caseworker.user)
    db.session.commit()
    client = app.test_client()
    sign_in(client, supervisor)
    rows = {row["INCIDENT ID"]: row for row in data_rows(workbook_of(download(client)))}
    assert set(rows) == {first.public_id, second.public_id}
    assert rows[second.public_id]["HEALTH / MEDICAL SERVICES"] == "Referred"
    assert rows[first.public_id]["HEALTH / MEDICAL SERVICES"] != "Referred"


def test_item1_case_page_sends_as_many_statements_for_three_incidents_as_for_one(
    app: Flask, caseworker: Person
) -> None:
    """Each incident's perpetrators are read with the incidents, not one query each."""
    from tests.test_query_counts import counting

    case = open_case(caseworker.user)
    cases.record_incident(case, _data(24 * 30), actor=caseworker.user)
    db.session.commit()
    client = app.test_client()
    sign_in(client, caseworker)
    url = f"/cases/{case.public_id}"
    assert client.get(url).status_code == 200
    with counting() as one:
        assert client.get(url).status_code == 200
    for hours_ago in (24 * 10, 10):
        cases.record_incident(case, _data(hours_ago, perpetrator_count=2), actor=caseworker.user)
    db.session.commit()
    with counting() as three:
        page = client.get(url)
    assert page.status_code == 200
    assert "Incident 3" in page.get_data(as_text=True)
    assert len(three) == len(one), "\n".join(s.split("\n")[0][:90] for s in three)
