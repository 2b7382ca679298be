"""Builders for areas, services and pathways shared by the directory and pathway tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referral.db import Organisation, User
from referral.directory import services as directory
from referral.directory.models import AgeGroup, Area, AreaLevel, Sector, Service, ServiceStatus, Sex
from referral.extensions import db
from referral.pathways import services as pathways
from referral.pathways.models import PathwayStatus, PathwayVersion

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


def make_service(
    organisation: Organisation,
    sector: Sector,
    name: str,
    areas: Sequence[Area],
    *,
    age_groups: Sequence[AgeGroup] = tuple(AgeGroup),
    sexes: Sequence[Sex] = tuple(Sex),
    status: ServiceStatus = ServiceStatus.AVAILABLE,
    status_note: str = "",
) -> Service:
    service = directory.create_service(
        directory.ServiceData(
            organisation=organisation,
            sector=sector,
            name=name,
            areas=areas,
            age_groups=age_groups,
            sexes=sexes,
            status=status,
            status_note=status_note or ("closed for repairs" if status == "suspended" else ""),
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
