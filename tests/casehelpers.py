"""Builders shared by the case and referral tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from referral.cases import services as cases
from referral.cases.models import (
    Case,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    RiskLevel,
    TimeOfDay,
)
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.extensions import db
from referral.referrals import services as engine
from referral.referrals.models import (
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Need,
    Priority,
    SurvivorAgeGroup,
    SurvivorSex,
)
from referral.security.events import security_event


def open_case(actor: User, *, age: int | None = 29, **kwargs: Any) -> Case:
    intake = cases.Intake(
        mandatory_reporting_explained=True,
        sex=kwargs.pop("sex", SurvivorSex.FEMALE),
        risk_level=kwargs.pop("risk_level", RiskLevel.MEDIUM),
        age=age,
        age_group=kwargs.pop("age_group", None if age is not None else SurvivorAgeGroup.UNKNOWN),
        **kwargs,
    )
    case = cases.open_case(intake, actor=actor)
    db.session.commit()
    return case


def incident(
    case: Case, actor: User, *, hours_ago: float = 10, **answers: bool
) -> None:
    data = cases.IncidentData(
        answers=answers or {"penetration": True},
        incident_at=utcnow() - timedelta(hours=hours_ago),
        reported_on=utcnow().date(),
        time_of_day=TimeOfDay.EVENING_NIGHT,
        location_type=LocationType.ROAD,
        perpetrator_count=1,
        perpetrator_sex=SurvivorSex.MALE,
        perpetrator_age_group=PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=PerpetratorRelationship.STRANGER,
    )
    cases.record_incident(case, data, actor=actor)
    db.session.commit()


def referral_consent(
    case: Case,
    actor: User,
    receiver: Organisation,
    sector: str = "health",
    shared: tuple[str, ...] = (),
) -> Consent:
    child = None
    if case.is_child:
        child = engine.ChildConsent(
            caregiver_consented=True,
            caregiver_relationship=CaregiverRelationship.MOTHER,
            caregiver_is_alleged_perpetrator=False,
            child_assented=True,
        )
    consent = engine.record_consent(
        case,
        ConsentKind.REFERRAL,
        actor=actor,
        survivor_is_child=case.is_child,
        receiving_organisation=receiver,
        sector=sector,
        shared_fields=shared,
        child=child,
    )
    db.session.commit()
    return consent


def request(
    receiver: Organisation,
    sector: str = "health",
    priority: Priority = Priority.ROUTINE,
    shared: tuple[str, ...] = (),
    note: str = "",
) -> engine.ReferralRequest:
    return engine.ReferralRequest(
        receiving_organisation=receiver,
        sector=sector,
        priority=priority,
        needs=[Need.HEALTH],
        note=note,
        shared_fields=shared,
    )


@contextmanager
def captured_events() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    security_event.connect(listener)
    try:
        yield seen
    finally:
        security_event.disconnect(listener)
