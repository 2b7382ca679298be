"""Item 2: the GBVIMS intake data dictionary: survivor and incident answers, perpetrators
as a list, the six context flags (R7), the Incident Recorder's answer per sector derived
from referral records, and a migration that keeps the data recorded before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from referral import clock
from referral.admin import lists
from referral.admin.lists import CountryList
from referral.cases import services as cases
from referral.cases.dictionary import PerpetratorData
from referral.cases.models import (
    AbductionType,
    AgeBand,
    Case,
    DisabilityType,
    DisplacementStage,
    GbvimsRelationship,
    HarmfulPractice,
    Incident,
    LegalAction,
    LocationType,
    MaritalStatus,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PerpetratorSex,
    ReferralAnswer,
    SeparationStatus,
    TimeOfDay,
)
from referral.db import Organisation
from referral.directory.models import Sector, Sex
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import ConsentKind
from referral.reports import incident_recorder
from referral.reports.services import Granularity, StatsScope
from referral.security.policy import Role
from referral.workflow import RuleError
from tests.conftest import form_post, sign_in
from tests.factories import (
    Person,
    make_person,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
    the_area,
)


def _data(**extra: Any) -> cases.IncidentData:
    now = clock.utcnow()
    values: dict[str, Any] = {
        "answers": {"penetration": True},
        "incident_at": now - timedelta(hours=30),
        "reported_on": now.date(),
        "time_of_day": TimeOfDay.EVENING_NIGHT,
        "location_type": LocationType.HOME,
        "perpetrator_count": 2,
        "perpetrator_sex": Sex.MALE,
        "perpetrator_age_group": PerpetratorAgeGroup.ADULT,
        "perpetrator_relationship": PerpetratorRelationship.STRANGER,
    }
    values.update(extra)
    return cases.IncidentData(**values)


def _ethnicity(caseworker: Person) -> None:
    lists.add_item(CountryList.ETHNICITY, "kesani", "Kesani", actor=caseworker.user)
    db.session.commit()


def test_item2_intake_records_the_survivor_gbvims_answers(
    client: FlaskClient, caseworker: Person
) -> None:
    _ethnicity(caseworker)
    sign_in(client, caseworker)
    response = form_post(
        client,
        "/cases/new",
        {
            "mandatory_reporting_explained": "y",
            "age": "24",
            "sex": "female",
            "area": the_area().public_id,
            "risk_level": "medium",
            "displacement_status": "stateless",
            "disability_type": "physical",  # decides the yes/no tick box
            "separation_status": "",
            "ethnicity": "kesani",
            "country_of_origin": "CF",
            "referred_from": "health_medical",
            "marital_status": "widowed",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case = db.session.scalars(select(Case)).one()
    assert case.ethnicity == "kesani" and case.country_of_origin == "CF"
    assert case.marital_status is MaritalStatus.WIDOWED
    assert case.disability_type is DisabilityType.PHYSICAL and case.has_disability
    assert case.separation_status is None and not case.unaccompanied_or_separated
    assert case.referred_by == "health_medical"
    assert case.displacement_status.value == "stateless"
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    for shown in ("Kesani", "Central African Republic", "Widowed", "Physical disability"):
        assert shown in page
    edit = client.get(f"/cases/{case.public_id}/edit").get_data(as_text=True)
    assert 'selected value="kesani"' in edit and 'selected value="CF"' in edit


@pytest.mark.parametrize(
    ("field", "value"),
    [("ethnicity", "nowhere"), ("country_of_origin", "XX"), ("referred_from", "oracle")],
)
def test_item2_unknown_list_codes_are_refused(
    client: FlaskClient, caseworker: Person, field: str, value: str
) -> None:
    with pytest.raises(RuleError) as refused:
        open_case(caseworker.user, **{field: value})  # type: ignore[arg-type]
    assert refused.value.field == field
    sign_in(client, caseworker)
    response = form_post(
        client,
        "/cases/new",
        {
            "mandatory_reporting_explained": "y",
            "age": "24",
            "sex": "female",
            "area": the_area().public_id,
            "risk_level": "medium",
            "displacement_status": "idp",
            field: value,
        },
    )
    assert response.status_code == 400
    assert db.session.query(Case).count() == 0


def test_item2_perpetrators_are_a_list_and_the_summary_follows_the_primary(
    caseworker: Person,
) -> None:
    case = open_case(caseworker.user)
    incident = cases.record_incident(
        case,
        _data(
            perpetrators=(
                PerpetratorData(
                    primary=False,
                    sex=PerpetratorSex.FEMALE,
                    age_band=AgeBand.AGE_41_60,
                    relation=GbvimsRelationship.FAMILY_OTHER,
                ),
                PerpetratorData(
                    primary=True,
                    sex=PerpetratorSex.MALE,
                    age_band=AgeBand.AGE_12_17,
                    relation=GbvimsRelationship.INTIMATE_PARTNER,
                    occupation="student",
                    previous_incident=True,
                ),
            )
        ),
        actor=caseworker.user,
    )
    assert [(p.position, p.primary, p.sex) for p in incident.perpetrators] == [
        (1, False, PerpetratorSex.FEMALE),
        (2, True, PerpetratorSex.MALE),
    ]
    assert incident.perpetrator_sex is Sex.MALE
    assert incident.perpetrator_age_group is PerpetratorAgeGroup.UNDER_18
    assert incident.perpetrator_relationship is PerpetratorRelationship.INTIMATE_PARTNER
    assert incident.intimate_partner_violence  # R7, from the primary perpetrator
    with pytest.raises(RuleError):
        cases.record_incident(
            case,
            _data(perpetrators=(PerpetratorData(occupation="astronaut"),)),
            actor=caseworker.user,
        )


def test_item2_r7_six_context_flags_are_derived_with_child_status_at_the_incident(
    caseworker: Person,
) -> None:
    adult_now = open_case(caseworker.user, age=19)
    incident = cases.record_incident(
        adult_now,
        _data(
            survivor_age=16,  # a child then
            abduction_type=AbductionType.TRAFFICKED,
            harmful_practice=HarmfulPractice.FGM_C,
            goods_or_money_exchanged=True,
        ),
        actor=caseworker.user,
    )
    assert incident.child_sexual_abuse and incident.survivor_child
    assert incident.abduction and incident.possible_sexual_slavery
    assert incident.harmful_traditional_practice
    assert incident.possible_sexual_exploitation
    assert not incident.early_marriage and not incident.intimate_partner_violence
    later = cases.record_incident(
        adult_now,
        _data(
            survivor_age=19,
            answers={"physical_assault": True},
            abduction_type=AbductionType.NONE,
            harmful_practice=HarmfulPractice.NO,
        ),
        actor=caseworker.user,
    )
    assert not (later.child_sexual_abuse or later.possible_sexual_slavery)
    assert not later.harmful_traditional_practice and not later.abduction


def test_item2_incident_form_records_perpetrators_answers_and_shows_them_again(
    client: FlaskClient, caseworker: Person
) -> None:
    case = open_case(caseworker.user)
    sign_in(client, caseworker)
    today = clock.utcnow().date()
    response = form_post(
        client,
        f"/cases/{case.public_id}/incident",
        {
            "penetration": "no",
            "unwanted_sexual_contact": "no",
            "physical_assault": "yes",
            "forced_marriage": "no",
            "denial_of_resources": "no",
            "psychological_abuse": "no",
            "incident_date": (today - timedelta(days=2)).isoformat(),
            "time_of_day": "morning",
            "location_type": "market",
            "area": the_area().public_id,
            "reported_on": today.isoformat(),
            "perpetrator_count": "1",
            "perpetrator_sex": "",
            "perpetrator_age_group": "unknown",
            "perpetrator_relationship": "unknown",
            "previously_reported": "no",
            "survivor_age": "30",
            "displacement_stage": "during_flight",
            "previous_incidents": "yes",
            "wants_legal_action": "undecided",
            "perpetrators-0-primary": "y",
            "perpetrators-0-sex": "both",
            "perpetrators-0-age_band": "26-40",
            "perpetrators-0-relation": "supervisor_employer",
            "perpetrators-0-occupation": "trader",
            "perpetrators-0-previous_incident": "no",
            "perpetrators-1-age_band": "unknown",
            "perpetrators-2-age_band": "unknown",
            "answer_health": "own_agency",
            "answer_legal": "declined",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    incident = db.session.scalars(select(Incident)).one()
    assert incident.area_id == the_area().id and incident.survivor_age == 30
    assert incident.displacement_stage is DisplacementStage.DURING_FLIGHT
    assert incident.previous_incidents is True
    assert incident.wants_legal_action is LegalAction.UNDECIDED
    (perpetrator,) = incident.perpetrators
    assert perpetrator.sex is PerpetratorSex.BOTH and perpetrator.occupation == "trader"
    assert perpetrator.relation is GbvimsRelationship.SUPERVISOR_EMPLOYER
    assert perpetrator.previous_incident is False
    assert incident.perpetrator_relationship is PerpetratorRelationship.TEACHER_OR_SUPERVISOR
    assert incident.answers_by_sector() == {
        "health": ReferralAnswer.OWN_AGENCY,
        "legal": ReferralAnswer.DECLINED,
    }
    html = client.get(f"/cases/{case.public_id}/incidents/{incident.public_id}").get_data(
        as_text=True
    )
    assert 'selected value="supervisor_employer"' in html
    assert 'selected value="own_agency"' in html and 'selected value="during_flight"' in html


def test_item2_sector_answer_is_referred_when_a_referral_record_exists(
    caseworker: Person, org: Organisation
) -> None:
    case = open_case(caseworker.user)
    incident = cases.record_incident(
        case,
        _data(
            sector_answers={
                "health": ReferralAnswer.NOT_APPLICABLE,
                "psychosocial": ReferralAnswer.UNAVAILABLE,
            }
        ),
        actor=caseworker.user,
    )
    engine.record_consent(
        case, ConsentKind.STATISTICS, actor=caseworker.user, survivor_is_child=False
    )
    service = make_service(org, Sector.HEALTH)
    publish_pathway(make_person(Role.GBV_COORDINATOR, org).user, [service])
    engine.create_referral(
        case.regarding(incident),
        request(service),
        consent=referral_consent(case, caseworker.user, service),
        actor=caseworker.user,
    )
    db.session.commit()
    today = clock.utcnow().date()
    scope = StatsScope(today - timedelta(days=5), today, Granularity.MONTH, org.id)
    (row,) = incident_recorder.rows(scope, org)
    values = dict(zip(incident_recorder.KEYS, row, strict=True))
    assert values["health"] == "Referred"  # the record wins over the typed answer
    assert values["psychosocial"] == "Service unavailable"
    assert values["legal"] is None


def test_item2_migration_keeps_the_data_recorded_before(app: Flask, caseworker: Person) -> None:
    case = open_case(caseworker.user)
    cases.record_incident(
        case,
        _data(
            perpetrator_sex=Sex.FEMALE,
            perpetrator_relationship=PerpetratorRelationship.CAREGIVER,
            perpetrators=(),
        ),
        actor=caseworker.user,
    )
    db.session.commit()
    case_id = case.id
    db.session.remove()
    downgrade(revision="0022")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE cases SET has_disability = true, referred_by = 'self' WHERE id = :id"),
            {"id": case_id},
        )
    upgrade()
    stored = db.session.get(Case, case_id)
    assert stored is not None
    assert stored.has_disability and stored.disability_type is None  # yes, type not known
    assert stored.separation_status is SeparationStatus.NO
    assert stored.referred_by == "self_referral"
    (incident,) = stored.incidents
    assert incident.abduction_type is AbductionType.NONE
    (perpetrator,) = incident.perpetrators
    assert perpetrator.primary and perpetrator.sex is PerpetratorSex.FEMALE
    assert perpetrator.relation is GbvimsRelationship.PRIMARY_CAREGIVER
    assert perpetrator.age_band is AgeBand.UNKNOWN


def test_item2_incident_recorder_columns_come_from_the_dictionary(
    caseworker: Person, org: Organisation
) -> None:
    _ethnicity(caseworker)
    case = open_case(
        caseworker.user,
        age=15,
        ethnicity="kesani",
        country_of_origin="SS",
        marital_status=MaritalStatus.SINGLE,
        disability_type=DisabilityType.MENTAL,
        separation_status=SeparationStatus.UNACCOMPANIED,
        referred_from="teacher_school",
    )
    cases.record_incident(
        case,
        _data(
            answers={"unwanted_sexual_contact": True},
            survivor_age=14,
            displacement_stage=DisplacementStage.DURING_REFUGE,
            harmful_practice=HarmfulPractice.FGM_C,
            abduction_type=AbductionType.FORCED_CONSCRIPTION,
            previous_incidents=False,
            wants_legal_action=LegalAction.YES,
            perpetrators=(
                PerpetratorData(
                    sex=PerpetratorSex.FEMALE,
                    age_band=AgeBand.AGE_41_60,
                    relation=GbvimsRelationship.PRIMARY_CAREGIVER,
                    occupation="farmer",
                    previous_incident=True,
                ),
                PerpetratorData(
                    primary=False, sex=PerpetratorSex.MALE, relation=GbvimsRelationship.OTHER
                ),
            ),
        ),
        actor=caseworker.user,
    )
    engine.record_consent(
        case,
        ConsentKind.STATISTICS,
        actor=caseworker.user,
        survivor_is_child=True,
        child=engine.ChildConsent(
            caregiver_consented=False,
            child_assented=True,
            best_interest_note="Fictional: no caregiver.",
        ),
    )
    db.session.commit()
    today = clock.utcnow().date()
    scope = StatsScope(today - timedelta(days=5), today, Granularity.MONTH, org.id)
    (row,) = incident_recorder.rows(scope, org)
    values = dict(zip(incident_recorder.KEYS, row, strict=True))
    assert values["country_of_origin"] == "South Sudan"
    assert values["marital_status"] == "Single"
    assert values["disability"] == "Mental disability"
    assert values["unaccompanied_separated"] == "Unaccompanied Minor"
    assert values["stage_of_displacement"] == "During Refuge"
    assert values["harmful_traditional_practice"] == "Female Genital Mutilation / Cutting"
    assert values["abduction_type"] == "Forced Conscription"
    assert values["previous_incidents"] == "No"
    assert values["perpetrator_sex"] == "F"  # the primary one only
    assert values["perpetrator_previous"] == "Yes"
    assert values["perpetrator_age"] == "Age 41 - 60"
    assert values["perpetrator_relationship"] == "Primary Caregiver"
    assert values["perpetrator_occupation"] == "Farmer or herder"
    assert values["referred_from"] == "Teacher / School Official"
    assert values["wants_legal_action"] == "Yes"
    assert values["ethnicity"] is None  # withheld
