"""Pathway versions (R15), the SEA reporting procedure (R16), the lookup (R14, R8)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from referral.db import Organisation, User
from referral.directory.models import AgeGroup, Sector, ServiceStatus, Sex
from referral.extensions import db
from referral.pathways import services
from referral.pathways.models import PathwayStatus, PathwayVersion
from referral.pathways.services import Eligibility, lookup_pathway
from referral.security.policy import Role
from referral.workflow import IllegalTransitionError, RuleError
from tests.conftest import account_csrf, form_post, fresh, sign_in
from tests.factories import (
    SEA_PROCEDURE,
    Areas,
    Person,
    make_areas,
    make_organisation,
    make_pathway,
    make_person,
    make_service,
)


@pytest.fixture(autouse=True)
def _in_request(app: Flask) -> Iterator[None]:
    """Service functions build translated messages, which need a request (locale)."""
    with app.test_request_context():
        yield


@pytest.fixture
def areas() -> Areas:
    return make_areas()


@pytest.fixture
def other_coordinator(other_org: Organisation) -> Person:
    return make_person(Role.GBV_COORDINATOR, other_org)


def published_count(area_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(PathwayVersion)
            .where(
                PathwayVersion.area_id == area_id,
                PathwayVersion.status == PathwayStatus.PUBLISHED,
            )
        )
        or 0
    )


# --- R15: the version state machine ------------------------------------------------------


def test_r15_version_moves_draft_review_published_archived(
    areas: Areas, org: Organisation, coordinator: Person
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    first = make_pathway(areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])])
    assert first.status is PathwayStatus.PUBLISHED
    assert first.published_by_id == coordinator.user.id and first.published_at is not None

    second = services.create_version(areas.kesa, actor=coordinator.user)
    assert second.number == 2 and len(second.steps) == 1  # starts from the latest
    services.transition(second, PathwayStatus.IN_REVIEW, actor=coordinator.user)
    archived = services.transition(
        second, PathwayStatus.PUBLISHED, actor=coordinator.user, replaces=first.public_id
    )
    db.session.commit()
    assert archived is first and fresh(first).status is PathwayStatus.ARCHIVED
    assert published_count(areas.kesa.id) == 1
    # earlier versions stay readable, with who approved them and when
    assert first.published_by_id == coordinator.user.id and first.archived_at is not None


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], PathwayStatus.PUBLISHED),  # draft -> published skips review
        ([PathwayStatus.IN_REVIEW, PathwayStatus.PUBLISHED], PathwayStatus.DRAFT),
        ([PathwayStatus.IN_REVIEW, PathwayStatus.PUBLISHED], PathwayStatus.IN_REVIEW),
        ([PathwayStatus.ARCHIVED], PathwayStatus.DRAFT),
        ([PathwayStatus.ARCHIVED], PathwayStatus.PUBLISHED),
    ],
)
def test_r15_illegal_transitions_are_refused(
    areas: Areas,
    org: Organisation,
    coordinator: Person,
    path: list[PathwayStatus],
    target: PathwayStatus,
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(
        areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])], status=PathwayStatus.DRAFT
    )
    for state in path:
        services.transition(version, state, actor=coordinator.user)
    with pytest.raises(IllegalTransitionError):
        services.transition(version, target, actor=coordinator.user)


def test_r15_only_drafts_are_edited(areas: Areas, org: Organisation, coordinator: Person) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])])
    with pytest.raises(RuleError):
        services.update_version(
            version,
            title="x",
            sop_markdown="",
            sea_reporting_procedure=SEA_PROCEDURE,
            change_note="",
            actor=coordinator.user,
        )
    with pytest.raises(RuleError):
        services.save_step(
            version,
            step=None,
            sector=Sector.HEALTH,
            guidance="",
            services=[clinic],
            actor=coordinator.user,
        )


def test_r15_database_refuses_a_second_published_version(
    areas: Areas, org: Organisation, coordinator: Person
) -> None:
    """The partial unique index holds even if the service layer were bypassed."""
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    make_pathway(areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])])
    second = services.create_version(areas.kesa, actor=coordinator.user)
    db.session.flush()
    second.status = PathwayStatus.PUBLISHED
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_r15_stale_publication_is_refused(
    areas: Areas, org: Organisation, coordinator: Person, other_coordinator: Person
) -> None:
    """A coordinator who saw no published version cannot silently replace one."""
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    a = make_pathway(
        areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])], status=PathwayStatus.IN_REVIEW
    )
    b = services.create_version(areas.kesa, actor=other_coordinator.user)
    services.transition(b, PathwayStatus.IN_REVIEW, actor=other_coordinator.user)
    db.session.commit()
    services.transition(a, PathwayStatus.PUBLISHED, actor=coordinator.user, replaces="")
    db.session.commit()
    with pytest.raises(RuleError, match="published meanwhile"):
        services.transition(b, PathwayStatus.PUBLISHED, actor=other_coordinator.user, replaces="")


def _race(app: Flask, jobs: list[tuple[str, int, str]]) -> list[str]:
    """Run each (version public id, user id, replaces) publication in its own thread and
    database connection, released together; return each outcome."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = ["" for _ in jobs]

    def publish(index: int, public_id: str, user_id: int, replaces: str) -> None:
        with app.test_request_context():
            try:
                version = services.version_by_public_id(public_id)
                actor = db.session.get(User, user_id)
                assert version is not None and actor is not None
                barrier.wait(timeout=10)
                services.transition(
                    version, PathwayStatus.PUBLISHED, actor=actor, replaces=replaces
                )
                db.session.commit()
                outcomes[index] = "won"
            except (RuleError, IllegalTransitionError) as error:
                db.session.rollback()
                outcomes[index] = f"refused: {error}"
            except Exception as error:
                db.session.rollback()
                outcomes[index] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_r15_two_coordinators_publishing_at_once_exactly_one_wins(
    app: Flask,
    engine_name: str,
    areas: Areas,
    org: Organisation,
    coordinator: Person,
    other_coordinator: Person,
) -> None:
    """Two coordinators publish two versions of one area at the same moment (real
    connections, one per thread): exactly one wins, one version is published."""
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    a = make_pathway(
        areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])], status=PathwayStatus.IN_REVIEW
    )
    b = services.create_version(areas.kesa, actor=other_coordinator.user)
    services.transition(b, PathwayStatus.IN_REVIEW, actor=other_coordinator.user)
    db.session.commit()
    outcomes = _race(
        app,
        [
            (a.public_id, coordinator.user.id, ""),
            (b.public_id, other_coordinator.user.id, ""),
        ],
    )
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
    if engine_name == "postgresql":
        # The area lock serialised them: the loser saw the winner's publication.
        assert any("published meanwhile" in o for o in outcomes), outcomes
    db.session.expire_all()
    assert published_count(areas.kesa.id) == 1


def test_r15_same_version_published_twice_at_once_exactly_one_wins(
    app: Flask,
    engine_name: str,
    areas: Areas,
    org: Organisation,
    coordinator: Person,
    other_coordinator: Person,
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    a = make_pathway(
        areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])], status=PathwayStatus.IN_REVIEW
    )
    outcomes = _race(
        app,
        [
            (a.public_id, coordinator.user.id, ""),
            (a.public_id, other_coordinator.user.id, ""),
        ],
    )
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
    if engine_name == "postgresql":
        assert any("published -> published is not allowed" in o for o in outcomes), outcomes
    db.session.expire_all()
    assert published_count(areas.kesa.id) == 1


# --- R16: the SEA reporting procedure -----------------------------------------------------


@pytest.mark.parametrize(
    "sea",
    [
        "",
        "   ",
        "TBD",
        "Contact the PSEA focal point.",  # too short, no way to reach anyone
        "Report to the PSEA focal points of the network in Lomara province through the "
        "usual channels of your organisation.",  # long enough but no phone or e-mail
    ],
)
def test_r16_publishing_is_refused_without_a_sea_reporting_procedure(
    areas: Areas, org: Organisation, coordinator: Person, sea: str
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(
        areas.kesa,
        coordinator.user,
        [(Sector.HEALTH, [clinic])],
        status=PathwayStatus.IN_REVIEW,
        sea=sea,
    )
    with pytest.raises(RuleError) as error:
        services.transition(version, PathwayStatus.PUBLISHED, actor=coordinator.user)
    assert error.value.field == "sea_reporting_procedure"
    assert "SEA" in str(error.value.message)
    db.session.rollback()
    assert version.status is PathwayStatus.IN_REVIEW


def test_r16_publish_page_shows_the_refusal(
    client: FlaskClient, areas: Areas, org: Organisation, coordinator: Person
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(
        areas.kesa,
        coordinator.user,
        [(Sector.HEALTH, [clinic])],
        status=PathwayStatus.IN_REVIEW,
        sea="",
    )
    sign_in(client, coordinator)
    url = f"/pathways/versions/{version.public_id}/publish"
    response = form_post(client, url, {"confirm": "y", "replaces": ""})
    assert response.status_code == 409
    assert "Publishing is refused without it" in response.get_data(as_text=True)
    db.session.expire_all()
    assert version.status is PathwayStatus.IN_REVIEW


# --- R14 / R8: the lookup used by the case workflow --------------------------------------


@pytest.fixture
def published(areas: Areas, org: Organisation, coordinator: Person) -> dict[str, object]:
    lwha = make_organisation("LWHA2")
    clinic = make_service(
        lwha, Sector.HEALTH, "Women's clinic", [areas.province], sexes=[Sex.FEMALE]
    )
    hospital = make_service(org, Sector.HEALTH, "District hospital", [areas.kesa])
    space = make_service(
        org,
        Sector.PSYCHOSOCIAL,
        "Safe space",
        [areas.kesa],
        age_groups=[AgeGroup.ADOLESCENT, AgeGroup.ADULT, AgeGroup.OLDER_ADULT],
    )
    shelter = make_service(
        org,
        Sector.SHELTER,
        "Shelter",
        [areas.province],
        status=ServiceStatus.SUSPENDED,
        status_note="flooded",
    )
    version = make_pathway(
        areas.kesa,
        coordinator.user,
        [
            (Sector.HEALTH, [clinic, hospital]),
            (Sector.PSYCHOSOCIAL, [space]),
            (Sector.SHELTER, [shelter]),
        ],
    )
    return {
        "version": version,
        "clinic": clinic,
        "hospital": hospital,
        "space": space,
        "shelter": shelter,
    }


def test_r14_lookup_marks_eligibility_and_suspension(
    areas: Areas, published: dict[str, object]
) -> None:
    options = lookup_pathway(areas.kesa, "physical_assault", AgeGroup.CHILD, Sex.MALE, 10)
    by_name = {o.service.name: o for o in options}
    assert [o.step_position for o in options] == [1, 1, 2, 3]
    assert by_name["District hospital"].eligibility is Eligibility.ELIGIBLE
    clinic = by_name["Women's clinic"]
    assert clinic.eligibility is Eligibility.NOT_ELIGIBLE and clinic.needs_reason_to_pick
    assert any("sex male" in r for r in clinic.reasons)
    space = by_name["Safe space"]
    assert space.eligibility is Eligibility.NOT_ELIGIBLE
    assert any("age group 0-11" in r for r in space.reasons)
    shelter = by_name["Shelter"]
    assert shelter.eligibility is Eligibility.SUSPENDED and "flooded" in shelter.reasons[0]
    # physical assault: the clinical windows do not apply
    assert not any(o.urgent for o in options)


def test_r8_health_is_urgent_while_clinical_windows_are_open(
    areas: Areas, published: dict[str, object]
) -> None:
    def urgent(hours: float | None, incident: str | None = "rape") -> dict[str, bool]:
        return {
            o.service.name: o.urgent
            for o in lookup_pathway(areas.kesa, incident, AgeGroup.ADULT, Sex.FEMALE, hours)
        }

    assert urgent(10) == {
        "Women's clinic": True,
        "District hospital": True,
        "Safe space": False,
        "Shelter": False,
    }
    first = lookup_pathway(areas.kesa, "rape", AgeGroup.ADULT, Sex.FEMALE, 10)[0]
    assert len(first.urgent_reasons) == 2  # PEP and emergency contraception
    within_ec = lookup_pathway(areas.kesa, "sexual_assault", AgeGroup.ADULT, Sex.FEMALE, 100)[0]
    assert within_ec.urgent and len(within_ec.urgent_reasons) == 1  # PEP window closed
    assert urgent(120)["Women's clinic"] is False  # both windows closed
    assert urgent(None)["Women's clinic"] is False  # incident time unknown
    assert urgent(5, None)["Women's clinic"] is True  # type not known yet: safe side


def test_r8_clinical_windows_come_from_config(
    app: Flask, areas: Areas, published: dict[str, object]
) -> None:
    app.config["CLINICAL_WINDOW_EC_HOURS"] = 96
    try:
        options = lookup_pathway(areas.kesa, "rape", AgeGroup.ADULT, Sex.FEMALE, 100)
    finally:
        app.config["CLINICAL_WINDOW_EC_HOURS"] = 120
    assert not options[0].urgent


def test_r14_lookup_walks_up_to_the_parent_pathway(
    areas: Areas, org: Organisation, coordinator: Person, published: dict[str, object]
) -> None:
    # Kesa camp has no pathway of its own: it follows Kesa's.
    options = lookup_pathway(areas.camp, None, AgeGroup.ADULT, Sex.FEMALE, None)
    assert options and options[0].pathway_area_id == areas.kesa.public_id
    # Dalo has none and neither has Lomara: nothing to offer.
    assert lookup_pathway(areas.dalo, None, AgeGroup.ADULT, Sex.FEMALE, None) == []
    hotline = make_service(org, Sector.SAFETY_SECURITY, "Hotline", [areas.province])
    make_pathway(areas.province, coordinator.user, [(Sector.SAFETY_SECURITY, [hotline])])
    options = lookup_pathway(areas.dalo, None, AgeGroup.ADULT, Sex.FEMALE, None)
    assert [o.service.name for o in options] == ["Hotline"]
    # A draft is never offered.
    services.create_version(areas.dalo, actor=coordinator.user)
    db.session.commit()
    assert [
        o.service.name for o in lookup_pathway(areas.dalo, None, AgeGroup.ADULT, Sex.FEMALE, None)
    ] == ["Hotline"]


def test_r14_nearest_published_pathway_wins_read_in_one_statement(
    areas: Areas, org: Organisation, coordinator: Person, published: dict[str, object]
) -> None:
    """With pathways published for Kesa and for the province above it, Kesa camp follows
    Kesa's; the camp's parents are read in one statement, and the pathway with its steps
    and their services in one more."""
    from referral.directory.services import area_chain
    from tests.test_query_counts import counting

    hotline = make_service(org, Sector.SAFETY_SECURITY, "Hotline", [areas.province])
    make_pathway(areas.province, coordinator.user, [(Sector.SAFETY_SECURITY, [hotline])])
    db.session.commit()
    area_type = type(areas.camp)
    ids = [a.id for a in (areas.camp, areas.kesa, areas.province, areas.country)]
    db.session.expunge_all()
    camp = db.session.get_one(area_type, ids[0])
    with counting() as statements:
        chain = area_chain(camp)
        version = services.published_pathway_for(camp, chain)
        assert version is not None
        names = [s.name for step in version.steps for s in step.services]
    assert [a.id for a in chain] == ids
    assert version.area_id == ids[1]
    assert "District hospital" in names and "Hotline" not in names
    assert len(statements) == 2, statements
    province = services.published_version(db.session.get_one(area_type, ids[2]))
    assert province is not None
    assert [s.name for step in province.steps for s in step.services] == ["Hotline"]
    assert services.published_version(camp) is None


def test_a_step_only_takes_services_serving_the_area(
    areas: Areas, org: Organisation, coordinator: Person
) -> None:
    dalo_only = make_service(org, Sector.HEALTH, "Dalo clinic", [areas.dalo])
    version = services.create_version(areas.kesa, actor=coordinator.user)
    with pytest.raises(RuleError, match="does not serve"):
        services.save_step(
            version,
            step=None,
            sector=Sector.HEALTH,
            guidance="",
            services=[dalo_only],
            actor=coordinator.user,
        )


# --- SOP rendering and comparison --------------------------------------------------------


def test_sop_markdown_is_rendered_without_raw_html_or_unsafe_links() -> None:
    html = str(
        services.render_markdown(
            "# SOP\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) "
            "[ok](https://example.org) [call](tel:+23670112233) ![img](https://x.org/a.png)\n\n"
            '<a href="https://evil.example">x</a>'
        )
    )
    assert "<h1>SOP</h1>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.org">ok</a>' in html
    assert 'href="tel:+23670112233"' in html
    assert "<img" not in html
    assert '<a href="https://evil' not in html


def test_diff_between_two_versions(
    client: FlaskClient, areas: Areas, org: Organisation, coordinator: Person
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    space = make_service(org, Sector.PSYCHOSOCIAL, "Safe space", [areas.kesa])
    first = make_pathway(areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])])
    second = services.create_version(areas.kesa, actor=coordinator.user)
    services.save_step(
        second,
        step=None,
        sector=Sector.PSYCHOSOCIAL,
        guidance="After health",
        services=[space],
        actor=coordinator.user,
    )
    db.session.commit()
    lines = services.diff_versions(first, second, {})
    assert ("added", "- Safe space (HBI)") in lines
    assert ("added", "After health") in lines
    sign_in(client, coordinator)
    response = client.get(f"/pathways/versions/{second.public_id}/compare?with={first.public_id}")
    assert response.status_code == 200
    assert "Safe space (HBI)" in response.get_data(as_text=True)


# --- pages ------------------------------------------------------------------------------


def test_caseworker_reads_published_pathway_but_not_drafts(
    client: FlaskClient,
    areas: Areas,
    org: Organisation,
    coordinator: Person,
    published: dict[str, object],
) -> None:
    draft = services.create_version(areas.kesa, actor=coordinator.user)
    db.session.commit()
    caseworker = make_person(Role.CASEWORKER, org)
    sign_in(client, caseworker)
    page = client.get(f"/pathways/areas/{areas.camp.public_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "follows the pathway of Kesa" in html and "District hospital" in html
    assert "psea.lomara@example.org" in html  # the SEA procedure is on the sheet
    assert client.get(f"/pathways/versions/{draft.public_id}").status_code == 404
    version = published["version"]
    assert isinstance(version, PathwayVersion)
    assert client.get(f"/pathways/versions/{version.public_id}").status_code == 200
    archive = f"/pathways/versions/{version.public_id}/archive"
    assert client.post(archive, data={"csrf_token": account_csrf(client)}).status_code == 403
    assert client.get(f"/pathways/versions/{version.public_id}/publish").status_code == 403


def test_coordinator_drafts_reviews_and_publishes_over_http(
    client: FlaskClient, areas: Areas, org: Organisation, coordinator: Person
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    sign_in(client, coordinator)
    area_url = f"/pathways/areas/{areas.kesa.public_id}"
    response = form_post(client, f"{area_url}/new", {}, page=area_url)
    assert response.status_code == 302
    version = db.session.scalar(select(PathwayVersion))
    assert version is not None
    base = f"/pathways/versions/{version.public_id}"
    response = form_post(
        client,
        f"{base}/edit",
        {
            "title": "Kesa pathway",
            "sop_markdown": "Steps",
            "sea_reporting_procedure": SEA_PROCEDURE,
        },
    )
    assert response.status_code == 302
    response = form_post(
        client,
        f"{base}/steps/new",
        {
            "sector": "health",
            "services": [clinic.public_id],
            "guidance": "Health first",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert form_post(client, f"{base}/submit", {}, page=base).status_code == 302
    response = form_post(client, f"{base}/publish", {"confirm": "y", "replaces": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert version.status is PathwayStatus.PUBLISHED
    sheet = client.get(area_url).get_data(as_text=True)
    assert "Health first" in sheet and "Clinic" in sheet
    # Withdrawing the published version asks for confirmation first.
    refused = form_post(client, f"{base}/archive", {}, page=base)
    assert refused.status_code == 400 and "Tick this box to confirm" in refused.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert version.status is PathwayStatus.PUBLISHED
    assert form_post(client, f"{base}/archive", {"confirm": "y"}, page=base).status_code == 302
    assert fresh(version).status is PathwayStatus.ARCHIVED


def test_every_change_is_audited(areas: Areas, org: Organisation, coordinator: Person) -> None:
    from referral.audit.models import AuditEvent

    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])])
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.obj_id, AuditEvent.actor_id).order_by(AuditEvent.id)
    ).all()
    actions = [action for action, _, _ in rows]
    assert actions.count("directory.area_created") == 5
    assert "directory.service_created" in actions
    for action in (
        "pathways.version_created",
        "pathways.version_updated",
        "pathways.step_saved",
        "pathways.version_in_review",
        "pathways.version_published",
    ):
        assert (action, version.public_id, coordinator.user.id) in rows, action


def test_coordinator_inbox_lists_versions_in_review(
    client: FlaskClient, areas: Areas, org: Organisation, coordinator: Person
) -> None:
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(
        areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])], status=PathwayStatus.IN_REVIEW
    )
    sign_in(client, coordinator)
    html = client.get("/").get_data(as_text=True)
    assert "Pathway versions waiting for review (1)" in html
    assert f"/pathways/versions/{version.public_id}" in html


def test_demo_pathways_load_twice_and_serve_the_lookup(app: Flask) -> None:
    """The demo gives Kesa and Dalo (Lomara province) a published pathway; idempotent."""
    from referral.demo import load_demo
    from referral.directory.models import Area, Service

    load_demo()
    load_demo()
    assert db.session.scalar(select(func.count()).select_from(PathwayVersion)) == 2
    assert db.session.scalar(select(func.count()).select_from(Service)) == 10
    camp = db.session.scalar(select(Area).where(Area.code == "AR-LOM-KES-C1"))
    assert camp is not None
    options = lookup_pathway(camp, "rape", AgeGroup.ADOLESCENT, Sex.FEMALE, 30)
    assert options[0].sector is Sector.HEALTH and options[0].urgent
    dalo = db.session.scalar(select(Area).where(Area.code == "AR-LOM-DAL"))
    assert dalo is not None
    suspended = [
        o
        for o in lookup_pathway(dalo, None, AgeGroup.ADULT, Sex.FEMALE, None)
        if o.eligibility is Eligibility.SUSPENDED
    ]
    assert [o.service.name for o in suspended] == ["Women's economic empowerment, Dalo"]


def test_r15_an_edit_based_on_a_stale_read_is_refused(
    app: Flask, areas: Areas, org: Organisation, coordinator: Person
) -> None:
    """A coordinator edits a draft that another sent for review meanwhile: refused."""
    clinic = make_service(org, Sector.HEALTH, "Clinic", [areas.kesa])
    version = make_pathway(
        areas.kesa, coordinator.user, [(Sector.HEALTH, [clinic])], status=PathwayStatus.DRAFT
    )
    public_id, user_id = version.public_id, coordinator.user.id

    def submit_elsewhere() -> None:
        with app.test_request_context():
            other = services.version_by_public_id(public_id)
            actor = db.session.get(User, user_id)
            assert other is not None and actor is not None
            services.transition(other, PathwayStatus.IN_REVIEW, actor=actor)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=submit_elsewhere)
    thread.start()
    thread.join(timeout=30)
    assert version.status is PathwayStatus.DRAFT  # what this session read earlier
    with pytest.raises(RuleError, match="changed this version meanwhile"):
        services.update_version(
            version,
            title="Overwrite",
            sop_markdown="",
            sea_reporting_procedure="",
            change_note="",
            actor=coordinator.user,
        )
    db.session.rollback()
    assert fresh(version).status is PathwayStatus.IN_REVIEW and version.title == "Pathway"
