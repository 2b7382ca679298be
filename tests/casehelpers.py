"""Builders shared by the case and referral tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from referral.audit.services import pending_events
from referral.cases import services as cases
from referral.cases.models import (
    Case,
    Incident,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    RiskLevel,
    TimeOfDay,
)
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.directory.models import (
    Area,
    AreaLevel,
    Sector,
    Service,
    ServiceStatus,
    Sex,
)
from referral.extensions import db
from referral.pathways.models import PathwayStatus, PathwayStep, PathwayVersion
from referral.referrals import services as engine
from referral.referrals.models import (
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Need,
    Priority,
)


def the_area() -> Area:
    area = db.session.scalar(select(Area).where(Area.code == "AR-LOM"))
    if area is None:
        area = Area(code="AR-LOM", name="Lomara", level=AreaLevel.PROVINCE)
        db.session.add(area)
        db.session.commit()
    return area


def make_service(
    organisation: Organisation,
    sector: Sector = Sector.HEALTH,
    *,
    name: str | None = None,
    status: ServiceStatus = ServiceStatus.AVAILABLE,
    adults_only: bool = False,
) -> Service:
    service = Service(
        organisation_id=organisation.id,
        sector=sector,
        name=name or f"{organisation.acronym} {sector.value}",
        status=status,
        status_changed_at=utcnow(),
        accepts_0_11=not adults_only,
        accepts_12_17=not adults_only,
    )
    service.areas.append(the_area())
    db.session.add(service)
    db.session.commit()
    return service


def publish_pathway(creator: User, services: list[Service]) -> PathwayVersion:
    """A published pathway for the test area: one step per service, in order."""
    earlier = db.session.scalars(
        db.select(PathwayVersion).where(PathwayVersion.area_id == the_area().id)
    ).all()
    for old in earlier:
        if old.status is PathwayStatus.PUBLISHED:
            old.status = PathwayStatus.ARCHIVED
    db.session.flush()
    version = PathwayVersion(
        area_id=the_area().id,
        number=len(earlier) + 1,
        status=PathwayStatus.PUBLISHED,
        title="Lomara pathway",
        sea_reporting_procedure="Report SEA to the PSEA focal points.",
        created_by_id=creator.id,
        created_at=utcnow(),
        updated_at=utcnow(),
        published_at=utcnow(),
        published_by_id=creator.id,
    )
    for position, service in enumerate(services, start=1):
        step = PathwayStep(position=position, sector=service.sector)
        step.services.append(service)
        version.steps.append(step)
    db.session.add(version)
    db.session.commit()
    return version


def open_case(actor: User, *, age: int | None = 29, **kwargs: Any) -> Case:
    intake = cases.Intake(
        mandatory_reporting_explained=True,
        sex=kwargs.pop("sex", Sex.FEMALE),
        risk_level=kwargs.pop("risk_level", RiskLevel.MEDIUM),
        area=kwargs.pop("area", None) or the_area(),
        age=age,
        age_group=kwargs.pop("age_group", None),
        **kwargs,
    )
    case = cases.open_case(intake, actor=actor)
    db.session.commit()
    return case


def incident(case: Case, actor: User, *, hours_ago: float = 10, **answers: bool) -> Incident:
    """A new incident of the case."""
    return _record_incident(case, actor, hours_ago, answers, None)


def correct_incident(recorded: Incident, actor: User, *, hours_ago: float = 10) -> Incident:
    """Save one incident of a case again (the answers of :func:`incident`)."""
    return _record_incident(recorded.case, actor, hours_ago, {}, recorded)


def _record_incident(
    case: Case,
    actor: User,
    hours_ago: float,
    answers: dict[str, bool],
    correcting: Incident | None,
) -> Incident:
    data = cases.IncidentData(
        answers=answers or {"penetration": True},
        incident_at=utcnow() - timedelta(hours=hours_ago),
        reported_on=utcnow().date(),
        time_of_day=TimeOfDay.EVENING_NIGHT,
        location_type=LocationType.ROAD,
        perpetrator_count=1,
        perpetrator_sex=Sex.MALE,
        perpetrator_age_group=PerpetratorAgeGroup.ADULT,
        perpetrator_relationship=PerpetratorRelationship.STRANGER,
    )
    recorded = cases.record_incident(case, data, actor=actor, incident=correcting)
    db.session.commit()
    return recorded


def referral_consent(
    case: Case,
    actor: User,
    service: Service,
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
        receiving_organisation=service.organisation,
        sector=service.sector,
        shared_fields=shared,
        child=child,
    )
    db.session.commit()
    return consent


def request(
    service: Service,
    priority: Priority = Priority.ROUTINE,
    shared: tuple[str, ...] = (),
    note: str = "",
    off_pathway_reason: str = "",
) -> engine.ReferralRequest:
    return engine.ReferralRequest(
        service=service,
        priority=priority,
        needs=[Need.HEALTH],
        note=note,
        shared_fields=shared,
        off_pathway_reason=off_pathway_reason,
    )


@contextmanager
def captured_events() -> Iterator[list[dict[str, Any]]]:
    """Audit events queued (not yet committed) while the block runs."""
    before = len(pending_events())
    seen: list[dict[str, Any]] = []
    try:
        yield seen
    finally:
        seen.extend(event.fields for event in pending_events()[before:])
