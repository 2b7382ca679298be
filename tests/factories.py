"""The one typed factory module of the tests: organisations, users of every role, areas,
services, pathways, cases, incidents, consents, referrals, allegations, API tokens, and the
worlds built from them (two organisations with a person of every role; a PSEA network;
the fictional demo data).

Each builder commits what it makes, so the next request of a test sees it. Fixtures live
in tests/conftest.py (the people of every role) and in the few modules that need a whole
world per module (tests/demo_world.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from referral import clock
from referral.api import tokens
from referral.audit.services import pending_events
from referral.cases import services as cases
from referral.cases.models import (
    Case,
    Incident,
    LocationType,
    PerpetratorAgeGroup,
    PerpetratorRelationship,
    PreviouslyReported,
    RiskLevel,
    TimeOfDay,
)
from referral.clock import utcnow
from referral.db import Organisation, OrganisationType, User
from referral.directory import services as directory
from referral.directory.models import AgeGroup, Area, AreaLevel, Sector, Service, ServiceStatus, Sex
from referral.extensions import db
from referral.pathways import services as pathways
from referral.pathways.models import PathwayStatus, PathwayStep, PathwayVersion
from referral.psea import services as psea_services
from referral.psea.models import (
    Allegation,
    Category,
    Channel,
    EntityType,
    PersonnelCategory,
    SurvivorAgeGroup,
    SurvivorSex,
)
from referral.referrals import services as engine
from referral.referrals.models import (
    CaregiverRelationship,
    Consent,
    ConsentKind,
    Need,
    Priority,
    Referral,
    ReferralState,
)
from referral.security import passwords, totp
from referral.security.policy import Role, scopes_for

PASSWORD = "correct horse battery staple 42"


# --- people ----------------------------------------------------------------------------


@dataclass
class Person:
    """A user and what they need to sign in."""

    user: User
    password: str
    totp_secret: str | None

    @property
    def email(self) -> str:
        return self.user.email


def make_organisation(
    acronym: str = "HBI",
    org_type: OrganisationType = OrganisationType.INTERNATIONAL_NGO,
    provides_services: bool = True,
) -> Organisation:
    organisation = Organisation(
        name=f"{acronym} organisation",
        acronym=acronym,
        org_type=org_type,
        provides_services=provides_services,
    )
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_person(
    role: Role,
    organisation: Organisation,
    *,
    email: str | None = None,
    enrolled: bool = True,
    must_change_password: bool = False,
) -> Person:
    secret = totp.new_secret() if enrolled else None
    user = User(
        email=email or f"{role.value}.{organisation.acronym.lower()}@example.org",
        full_name=f"{role.value.replace('_', ' ').title()} of {organisation.acronym}",
        role=role,
        organisation=organisation,
        password_hash=passwords.hash_password(PASSWORD),
        must_change_password=must_change_password,
        totp_secret=secret,
        totp_enrolled_at=clock.utcnow() if enrolled else None,
    )
    db.session.add(user)
    db.session.commit()
    return Person(user, PASSWORD, secret)


# --- areas, services, pathways --------------------------------------------------------


SEA_PROCEDURE = (
    "Report any concern of sexual exploitation or abuse by aid workers to the PSEA "
    "focal points of the Lomara network: Hawa Kamara, +236 70 11 22 33, "
    "psea.lomara@example.org. Reports can be anonymous."
)


@dataclass
class Areas:
    country: Area
    province: Area
    kesa: Area
    dalo: Area
    camp: Area


def make_areas() -> Areas:
    def add(code: str, name: str, level: AreaLevel, parent: Area | None) -> Area:
        return directory.create_area(directory.AreaData(code, name, level, parent), actor=None)

    country = add("AR", "Republic of Ardenia", AreaLevel.COUNTRY, None)
    province = add("AR-LOM", "Lomara", AreaLevel.PROVINCE, country)
    kesa = add("AR-LOM-01", "Kesa", AreaLevel.DISTRICT, province)
    dalo = add("AR-LOM-02", "Dalo", AreaLevel.DISTRICT, province)
    camp = add("AR-LOM-01-C1", "Kesa camp", AreaLevel.SITE, kesa)
    db.session.commit()
    return Areas(country, province, kesa, dalo, camp)


def the_area() -> Area:
    area = db.session.scalar(select(Area).where(Area.code == "AR-LOM"))
    if area is None:
        area = Area(code="AR-LOM", name="Lomara", level=AreaLevel.PROVINCE)
        db.session.add(area)
        db.session.commit()
    return area


# A service for adults only (no child or adolescent).
ADULTS = (AgeGroup.ADULT, AgeGroup.OLDER_ADULT)


def make_service(
    organisation: Organisation,
    sector: Sector = Sector.HEALTH,
    name: str | None = None,
    areas: Sequence[Area] | None = None,
    *,
    age_groups: Sequence[AgeGroup] = tuple(AgeGroup),
    sexes: Sequence[Sex] = tuple(Sex),
    status: ServiceStatus = ServiceStatus.AVAILABLE,
    status_note: str = "",
) -> Service:
    """A service of the directory, made as the directory pages make it (audited); named
    after its organisation and sector and covering :func:`the_area` unless told."""
    suspended = status is ServiceStatus.SUSPENDED
    service = directory.create_service(
        directory.ServiceData(
            organisation=organisation,
            sector=sector,
            name=name or f"{organisation.acronym} {sector.value}",
            areas=areas or [the_area()],
            age_groups=age_groups,
            sexes=sexes,
            status=status,
            status_note=status_note or ("closed for repairs" if suspended else ""),
            opening_hours="Mon-Fri 8:00-16:00",
        ),
        actor=None,
    )
    db.session.commit()
    return service


def make_pathway(
    area: Area,
    coordinator: User,
    steps: Sequence[tuple[Sector, Sequence[Service]]],
    *,
    status: PathwayStatus = PathwayStatus.PUBLISHED,
    sea: str = SEA_PROCEDURE,
) -> PathwayVersion:
    version = pathways.create_version(area, actor=coordinator, title="Pathway")
    pathways.update_version(
        version,
        title="Pathway",
        sop_markdown="# SOP\n\nFollow the steps.",
        sea_reporting_procedure=sea,
        change_note="",
        actor=coordinator,
    )
    for sector, chosen in steps:
        pathways.save_step(
            version, step=None, sector=sector, guidance="", services=chosen, actor=coordinator
        )
    if status in (PathwayStatus.IN_REVIEW, PathwayStatus.PUBLISHED):
        pathways.transition(version, PathwayStatus.IN_REVIEW, actor=coordinator)
    if status is PathwayStatus.PUBLISHED:
        pathways.transition(version, PathwayStatus.PUBLISHED, actor=coordinator)
    db.session.commit()
    return version


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


# --- cases, incidents, consents, referrals ---------------------------------------------


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


def correct_incident(
    recorded: Incident,
    actor: User,
    *,
    hours_ago: float = 10,
    answers: dict[str, bool] | None = None,
    previously_reported: PreviouslyReported = PreviouslyReported.NO,
) -> Incident:
    """Save one incident of a case again (by default the answers of :func:`incident`)."""
    return _record_incident(
        recorded.case, actor, hours_ago, answers or {}, recorded, previously_reported
    )


def _record_incident(
    case: Case,
    actor: User,
    hours_ago: float,
    answers: dict[str, bool],
    correcting: Incident | None,
    previously_reported: PreviouslyReported = PreviouslyReported.NO,
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
        previously_reported=previously_reported,
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
    priority: Priority | None = None,
    shared: tuple[str, ...] = (),
    note: str = "",
    off_pathway_reason: str = "",
) -> engine.ReferralRequest:
    if priority is None:
        # R8: a health referral is an emergency while a clinical window may be open; a
        # lower priority then needs a reason (tests of that rule say so explicitly).
        priority = Priority.EMERGENCY if service.sector is Sector.HEALTH else Priority.ROUTINE
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


# --- PSEA allegations and victim assistance -------------------------------------------


@dataclass
class Network:
    ngo: Organisation  # receives complaints, has a PSEA focal point
    agency: Organisation  # another member with a PSEA focal point
    mission: Organisation  # peacekeeping mission with a PSEA focal point (R23)
    outsider: Organisation  # no PSEA focal point: not a member for routing
    un: Organisation  # hosts the coordinator
    ngo_focal: Person
    agency_focal: Person
    mission_focal: Person
    coordinator: Person
    va: Person


def make_network() -> Network:
    """A PSEA network: members with focal points, a mission (R23), an outsider, the UN."""
    ngo = make_organisation("HBI")
    agency = make_organisation("LWHA", OrganisationType.NATIONAL_NGO)
    mission = make_organisation("UNSMA", OrganisationType.PEACEKEEPING_MISSION, False)
    outsider = make_organisation("OUTS", OrganisationType.GOVERNMENT, False)
    un = make_organisation("UNPOA", OrganisationType.UN_AGENCY, False)
    return Network(
        ngo=ngo,
        agency=agency,
        mission=mission,
        outsider=outsider,
        un=un,
        ngo_focal=make_person(Role.PSEA_FOCAL_POINT, ngo),
        agency_focal=make_person(Role.PSEA_FOCAL_POINT, agency),
        mission_focal=make_person(Role.PSEA_FOCAL_POINT, mission),
        coordinator=make_person(Role.PSEA_COORDINATOR, un),
        va=make_person(Role.VA_FOCAL_POINT, un),
    )


def allegation_data(**changes: Any) -> psea_services.AllegationData:
    values: dict[str, Any] = {
        "received_at": clock.utcnow(),
        "channel": Channel.HOTLINE,
        "incident_from": None,
        "incident_to": None,
        "area": None,
        "category": Category.SEXUAL_EXPLOITATION,
        "entity_type": EntityType.UNKNOWN,
        "entity_organisation": None,
        "personnel_category": PersonnelCategory.STAFF,
        "survivors": {(SurvivorAgeGroup.ADULT, SurvivorSex.FEMALE): 1},
        "consents_to_assistance": False,
        "narrative": None,
    }
    values.update(changes)
    return psea_services.AllegationData(**values)


def record_allegation(person: Person, **changes: Any) -> Allegation:
    """An allegation recorded by ``person`` (the values of :func:`allegation_data`)."""
    allegation = psea_services.record_allegation(allegation_data(**changes), actor=person.user)
    db.session.commit()
    return allegation


@dataclass
class Services:
    provider: Organisation
    receiver: Person
    case_management: Service
    health: Service


def make_gbv_services(network: Network) -> Services:
    """A provider of GBV case management and health in the PSEA network's area (R21)."""
    provider = make_organisation("KCSS", OrganisationType.COMMUNITY_BASED)
    receiver = make_person(Role.SERVICE_FOCAL_POINT, provider)
    coordinator = make_person(Role.GBV_COORDINATOR, network.un)
    case_management = make_service(provider, Sector.GBV_CASE_MANAGEMENT)
    health = make_service(provider, Sector.HEALTH)
    publish_pathway(coordinator.user, [health, case_management])
    return Services(provider, receiver, case_management, health)


# --- worlds: two organisations with a person of every role ----------------------------


@dataclass
class World:
    """Two organisations with one user of every role in the first (own) organisation and
    one of every role allowed there in the second (other) organisation."""

    own: Organisation
    other: Organisation
    people: dict[Role, Person] = field(default_factory=dict)
    others: dict[Role, Person] = field(default_factory=dict)
    # Records built once per world by the scenario makers, by name.
    records: dict[str, Any] = field(default_factory=dict)

    def once(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self.records:
            self.records[name] = build()
        return self.records[name]


def build_world() -> World:
    own = make_organisation("OWN", OrganisationType.INTERNATIONAL_NGO, True)
    other = make_organisation("OTHER", OrganisationType.NATIONAL_NGO, True)
    world = World(own, other)
    for role in Role:
        world.people[role] = make_person(role, own, email=f"{role.value}@own.example.org")
        world.others[role] = make_person(role, other, email=f"{role.value}@other.example.org")
    return world


# --- API tokens and the API's world ----------------------------------------------------


def issue(user: User, *scopes: Any, days: int = 30, name: str = "test") -> str:
    """A token's secret for ``user`` (every scope its role can use unless named)."""
    chosen = list(scopes) or scopes_for(user)
    if user.service_account:
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
        assert admin is not None
        actor = admin
    else:
        actor = user
    issued = tokens.issue_token(user, name=name, scopes=chosen, days=days, actor=actor)
    db.session.commit()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def send_referral(
    caseworker: User,
    service: Service,
    *,
    shared: tuple[str, ...] = (),
    note: str = "",
) -> Referral:
    case = open_case(
        caseworker,
        name="Amina Testname",
        contact="+236 70 00 00 00",
        narrative="Attacked on the road to the market.",
    )
    incident(case, caseworker)
    consent = referral_consent(case, caseworker, service, shared)
    referral = engine.create_referral(
        case, request(service, shared=shared, note=note), consent=consent, actor=caseworker
    )
    db.session.commit()
    return referral


@dataclass
class ApiWorld:
    own: Organisation
    other: Organisation
    people: dict[Role, Person]
    others: dict[Role, Person]
    own_service: Service
    other_service: Service
    # referrals received by own (from other) and by other (from own)
    to_own: Referral
    to_other: Referral
    secrets: dict[Role, str] = field(default_factory=dict)
    other_secrets: dict[Role, str] = field(default_factory=dict)


def build_api_world() -> ApiWorld:
    """The access world, with a service in each organisation on one published pathway,
    a referral each way, and a token per person carrying every scope its role can use."""
    base = build_world()
    own, other, people, others = base.own, base.other, base.people, base.others
    own_service = make_service(own, Sector.HEALTH, name="OWN clinic")
    other_service = make_service(other, Sector.HEALTH, name="OTHER clinic")
    publish_pathway(people[Role.GBV_COORDINATOR].user, [own_service, other_service])
    to_own = send_referral(
        others[Role.CASEWORKER].user,
        own_service,
        shared=("name", "contact", "incident_type"),
        note="Survivor prefers a female doctor; call after 5 pm.",
    )
    to_other = send_referral(people[Role.CASEWORKER].user, other_service)
    world = ApiWorld(own, other, people, others, own_service, other_service, to_own, to_other)
    for role in Role:
        if scopes_for(people[role].user):
            world.secrets[role] = issue(people[role].user)
            world.other_secrets[role] = issue(others[role].user)
    return world


# --- the fictional demo data (tests/demo_world.py loads it once per module) -----------


# The demo user who plays each role.
DEMO_EMAILS = {
    Role.ADMIN: "admin@demo.example.org",
    Role.AUDITOR: "auditor@demo.example.org",
    Role.GBV_COORDINATOR: "coordinator@demo.example.org",
    Role.SUPERVISOR: "supervisor@demo.example.org",
    Role.CASEWORKER: "caseworker@demo.example.org",
    Role.SERVICE_FOCAL_POINT: "clinic@demo.example.org",
    Role.PSEA_FOCAL_POINT: "psea.focal@demo.example.org",
    Role.PSEA_COORDINATOR: "psea.coordinator@demo.example.org",
    Role.VA_FOCAL_POINT: "va.focal@demo.example.org",
}
# The health service of LWHA in Kesa, whose focal point plays the service focal point.
CLINIC = "Kesa Women's Clinic: clinical management of rape"
# A second caseworker of the demo caseworker's organisation, who reads in Arabic: the
# language is a setting of the user, so it gets a user of its own.
ARABIC_READER = "arabic.reader@demo.example.org"


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    totp_secret: str

    def next_code(self) -> str:
        """A fresh code: moves the frozen clock to the next 30-second step first, since a
        code already used is refused."""
        clock.advance(timedelta(seconds=totp.STEP_SECONDS))
        return totp.code_at(self.totp_secret, clock.utcnow())


@dataclass(frozen=True)
class DemoWorld:
    accounts: dict[str, Account]  # by e-mail

    def account(self, who: Role | str) -> Account:
        return self.accounts[DEMO_EMAILS[who] if isinstance(who, Role) else who]


def enrol_every_demo_user() -> dict[str, Account]:
    """Every demo user (and a second caseworker who reads Arabic) with the test password
    and an enrolled authenticator."""
    password_hash = passwords.hash_password(PASSWORD)
    supervisor = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[Role.SUPERVISOR]))
    assert supervisor is not None
    db.session.add(
        User(
            email=ARABIC_READER,
            full_name="Nour Saleh",
            role=Role.CASEWORKER,
            organisation_id=supervisor.organisation_id,
            password_hash=password_hash,
            must_change_password=False,
        )
    )
    accounts = {}
    # Accounts past their first sign-in: own password set, authenticator enrolled (the
    # first sign-in itself: tests/test_auth.py::test_item6_demo_accounts_...).
    for user in db.session.scalars(select(User)):
        user.password_hash = password_hash
        user.must_change_password = False
        user.totp_secret = totp.new_secret()
        user.totp_enrolled_at = clock.utcnow()
        accounts[user.email] = Account(user.email, PASSWORD, user.totp_secret)
    db.session.commit()
    return accounts


def demo_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def demo_clinic() -> Service:
    service = db.session.scalar(select(Service).where(Service.name == CLINIC))
    assert service is not None
    return service


def sent_referral_to_the_clinic() -> Referral:
    """A new case of the demo caseworker, referred (with consent) to the clinic."""
    worker = demo_user(DEMO_EMAILS[Role.CASEWORKER])
    case = open_case(worker, area=demo_clinic().areas[0])
    consent = referral_consent(case, worker, demo_clinic(), shared=("name",))
    referral = engine.create_referral(
        case, request(demo_clinic(), note="Needs care today"), consent=consent, actor=worker
    )
    db.session.commit()
    assert referral.state is ReferralState.SENT
    return referral
