"""Fictional demo cases and referrals for the province of Lomara (idempotent).

Builds a few dozen cases in every step, with incidents, consents, action plans and
referrals in every state, through the same service functions the pages use. Every
name and story here is invented. Uses the published pathway of Lomara when the
directory demo made one; otherwise creates a small one.
"""

from __future__ import annotations

import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from referral import clock
from referral.cases import services as cases
from referral.cases.demo_history import load_history
from referral.cases.models import (
    Case,
    CaseStage,
    ClosureReason,
    DisplacementStatus,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    RiskLevel,
    TimeOfDay,
)
from referral.db import Organisation, User
from referral.directory.models import Area, AreaLevel, Sector, Service, Sex
from referral.extensions import db
from referral.pathways.models import PathwayStatus, PathwayStep, PathwayVersion
from referral.pathways.services import published_pathway_for
from referral.referrals import services as engine
from referral.referrals.models import (
    CaregiverRelationship,
    ConsentKind,
    Need,
    Priority,
    ReferralState,
)

DEMO_CASES = 32
FIRST_NAMES = ["Amina", "Bintou", "Chantal", "Delphine", "Esperance", "Fanta", "Grace", "Halima"]
STORIES = [
    "Fictional account: attacked on the road back from the market.",
    "Fictional account: threatened and locked in the house by a relative.",
    "Fictional account: pressured to exchange sex for food rations.",
    "Fictional account: married against her will last season.",
]
ANSWER_SETS: list[dict[str, bool]] = [
    {"penetration": True},
    {"unwanted_sexual_contact": True},
    {"physical_assault": True},
    {"forced_marriage": True},
    {"denial_of_resources": True},
    {"psychological_abuse": True},
]
DEMO_SERVICES = [
    ("LWHA", Sector.HEALTH, "Kesa Women's Clinic"),
    ("KCSS", Sector.PSYCHOSOCIAL, "Kesa Safe Space"),
    ("LLAN", Sector.LEGAL_AID, "Lomara Legal Aid Desk"),
    ("MOSA", Sector.SHELTER, "Lomara Safe House"),
]


def _area() -> Area:
    """Kesa district (directory demo) when it exists, else a province of our own."""
    for code in ("AR-LOM-KES", "AR-LOM"):
        area = db.session.scalar(select(Area).where(Area.code == code))
        if area is not None:
            return area
    country = db.session.scalar(select(Area).where(Area.code == "AR"))
    if country is None:
        country = Area(code="AR", name="Republic of Ardenia", level=AreaLevel.COUNTRY)
        db.session.add(country)
    area = Area(code="AR-LOM", name="Lomara", level=AreaLevel.PROVINCE, parent=country)
    db.session.add(area)
    db.session.flush()
    return area


def _pathway(area: Area, by_acronym: dict[str, Organisation], coordinator: User) -> None:
    """Use the published pathway that applies to the area (directory demo); else make one."""
    if published_pathway_for(area) is not None:
        return
    now = clock.utcnow()
    number = (
        db.session.scalar(
            select(func.max(PathwayVersion.number)).where(PathwayVersion.area_id == area.id)
        )
        or 0
    ) + 1
    version = PathwayVersion(
        area_id=area.id,
        number=number,
        status=PathwayStatus.PUBLISHED,
        title="Lomara GBV referral pathway (demo)",
        sop_markdown="Fictional demo SOP.",
        sea_reporting_procedure="Report SEA to the PSEA focal points of the network (demo).",
        created_by_id=coordinator.id,
        created_at=now,
        updated_at=now,
        published_at=now,
        published_by_id=coordinator.id,
    )
    for position, (acronym, sector, name) in enumerate(DEMO_SERVICES, start=1):
        service = db.session.scalar(select(Service).where(Service.name == name))
        if service is None:
            service = Service(
                organisation_id=by_acronym[acronym].id,
                sector=sector,
                name=name,
                status_changed_at=now,
            )
            service.areas.append(area)
            db.session.add(service)
        step = PathwayStep(position=position, sector=sector)
        step.services.append(service)
        version.steps.append(step)
    db.session.add(version)
    db.session.flush()


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise RuntimeError(f"demo user {email} is missing; load the demo users first")
    return user


def load_case_demo(by_acronym: dict[str, Organisation]) -> list[str]:
    """Create the demo cases once; return lines to print."""
    worker = _user("caseworker@demo.example.org")
    if db.session.scalar(select(func.count()).where(Case.owner_id == worker.id)):
        return []
    supervisor = _user("supervisor@demo.example.org")
    coordinator = _user("coordinator@demo.example.org")
    receivers = {
        "LWHA": _user("clinic@demo.example.org"),
        "LLAN": _user("legal@demo.example.org"),
    }
    with current_app.test_request_context():
        area = _area()
        _pathway(area, by_acronym, coordinator)
        db.session.commit()
        rng = random.Random(7)  # noqa: S311 - fictional data, not security
        real_now = clock.utcnow()
        was_frozen = clock.frozen_at()
        states: dict[ReferralState, int] = {}
        try:
            for index in range(DEMO_CASES):
                opened = real_now - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
                clock.freeze(opened)
                _one_case(index, rng, area, worker, supervisor, receivers, states)
                db.session.commit()
        finally:
            if was_frozen is not None:
                clock.freeze(was_frozen)
            else:
                clock.unfreeze()
        history = load_history(rng, real_now, _history_areas(area), worker, supervisor)
        db.session.commit()
    summary = ", ".join(f"{state.value} {n}" for state, n in sorted(states.items()))
    return [
        f"Demo cases: {DEMO_CASES} (referrals: {summary}), "
        f"and {history} past cases over the last year for the statistics"
    ]


def _history_areas(area: Area) -> list[Area]:
    """Where the past cases happened: the demo districts and camp, else the one area."""
    found = list(
        db.session.scalars(
            select(Area).where(
                Area.code.in_(["AR-LOM-KES", "AR-LOM-KES-C1", "AR-LOM-DAL", "AR-LOM-MAV"])
            )
        )
    )
    return found or [area]


def _one_case(
    index: int,
    rng: random.Random,
    area: Area,
    worker: User,
    supervisor: User,
    receivers: dict[str, User],
    states: dict[ReferralState, int],
) -> None:
    age = rng.choice([9, 14, 16, 19, 24, 31, 38, 45, 63])
    case = cases.open_case(
        cases.Intake(
            mandatory_reporting_explained=True,
            sex=Sex.FEMALE if index % 7 else Sex.MALE,
            risk_level=rng.choice(list(RiskLevel)),
            area=area,
            age=age,
            displacement_status=rng.choice(list(DisplacementStatus)),
            has_disability=index % 9 == 0,
            name=f"{FIRST_NAMES[index % len(FIRST_NAMES)]} (fictional)" if index % 3 == 0 else "",
            narrative=STORIES[index % len(STORIES)],
        ),
        actor=worker if index % 4 else supervisor,
    )
    if case.is_child:
        child = engine.ChildConsent(
            caregiver_consented=index % 5 != 0,
            caregiver_relationship=CaregiverRelationship.MOTHER,
            caregiver_is_alleged_perpetrator=False,
            child_assented=True,
            best_interest_note="Fictional: caregiver unreachable; best interest to act.",
        )
    else:
        child = None
    engine.record_consent(
        case, ConsentKind.SERVICES, actor=case.owner, survivor_is_child=case.is_child, child=child
    )
    if index % 5:
        engine.record_consent(
            case,
            ConsentKind.STATISTICS,
            actor=case.owner,
            survivor_is_child=case.is_child,
            child=child,
        )
    if index % 6 == 2:
        # a returning survivor: an earlier incident by her partner, recorded first
        earlier = clock.utcnow() - timedelta(days=45)
        cases.record_incident(
            case,
            cases.IncidentData(
                answers={"physical_assault": True},
                incident_at=earlier,
                reported_on=earlier.date(),
                time_of_day=TimeOfDay.EVENING_NIGHT,
                location_type=LocationType.HOME,
                perpetrator_count=1,
                perpetrator_sex=Sex.MALE,
                perpetrator_age_group=PerpetratorAgeGroup.ADULT,
                perpetrator_relationship=PerpetratorRelationship.INTIMATE_PARTNER,
            ),
            actor=case.owner,
        )
    hours_ago = rng.choice([6, 30, 60, 100, 200, 500])
    cases.record_incident(
        case,
        cases.IncidentData(
            answers=ANSWER_SETS[index % len(ANSWER_SETS)],
            incident_at=clock.utcnow() - timedelta(hours=hours_ago),
            reported_on=clock.utcnow().date(),
            time_of_day=rng.choice(list(TimeOfDay)),
            location_type=rng.choice(list(LocationType)),
            perpetrator_count=rng.choice([1, 1, 2]),
            perpetrator_sex=Sex.MALE,
            perpetrator_age_group=PerpetratorAgeGroup.ADULT,
            perpetrator_relationship=rng.choice(list(PerpetratorRelationship)),
            goods_or_money_exchanged=index % 6 == 1,
        ),
        actor=case.owner,
    )
    target_state = list(ReferralState)[index % len(ReferralState)]
    options = [o for o in engine.pathway_options(case) if o.eligible]
    if target_state not in (ReferralState.DRAFT, ReferralState.SENT, ReferralState.WITHDRAWN):
        options = [o for o in options if o.service.organisation.acronym in receivers]
    if options and index % 8 != 7:
        option = options[index % len(options)]
        consent = engine.record_consent(
            case,
            ConsentKind.REFERRAL,
            actor=case.owner,
            survivor_is_child=case.is_child,
            receiving_organisation=option.service.organisation,
            sector=option.service.sector,
            shared_fields=["name"] if index % 2 else [],
            child=child,
        )
        drawn = rng.choice(list(Priority))
        referral = engine.create_referral(
            case,
            engine.ReferralRequest(
                service=option.service,
                # R8: an emergency while a clinical window is open
                priority=Priority.EMERGENCY if option.urgent else drawn,
                needs=[option.service.sector],
                note="Fictional referral note.",
                shared_fields=["name"] if index % 2 else [],
            ),
            consent=consent,
            actor=case.owner,
            send=target_state is not ReferralState.DRAFT,
        )
        receiver = receivers.get(option.service.organisation.acronym)
        _drive(referral.public_id, target_state, case.owner, receiver)
        db.session.flush()
        states[referral.state] = states.get(referral.state, 0) + 1
    cases.add_action_item(
        case, Need.SAFETY_SECURITY, "Fictional: agree a safety plan.", None, actor=case.owner
    )
    _advance(case, index, supervisor)


def _drive(public_id: str, target: ReferralState, sender: User, receiver: User | None) -> None:
    steps: dict[ReferralState, list[ReferralState]] = {
        ReferralState.ACCEPTED: [ReferralState.ACCEPTED],
        ReferralState.DECLINED: [ReferralState.DECLINED],
        ReferralState.COMPLETED: [ReferralState.ACCEPTED, ReferralState.COMPLETED],
        ReferralState.CLOSED: [ReferralState.ACCEPTED, ReferralState.CLOSED],
    }
    if target is ReferralState.WITHDRAWN:
        engine.transition(
            public_id, target, actor=sender, reason="Fictional: survivor moved", as_sender=True
        )
        return
    if receiver is None:
        return
    for step in steps.get(target, []):
        engine.transition(public_id, step, actor=receiver, reason="Fictional reason")


def _advance(case: Case, index: int, supervisor: User) -> None:
    path = [
        CaseStage.ASSESSMENT,
        CaseStage.ACTION_PLAN,
        CaseStage.IMPLEMENTATION,
        CaseStage.FOLLOW_UP,
    ]
    for stage in path[: index % 5]:
        cases.move_stage(case, stage, actor=case.owner)
    if index % 5 == 4 and index % 2 == 0:
        cases.request_closure(case, ClosureReason.NEEDS_MET, "", actor=case.owner)
        if index % 4 == 0:
            clock.freeze(clock.utcnow() + timedelta(hours=2))
            cases.decide_closure(case, approve=True, actor=supervisor)
