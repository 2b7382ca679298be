"""Directory rules: areas (with CSV import) and services (no HTTP here)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, select
from sqlalchemy.orm import aliased, selectinload

from referral.audit import record
from referral.clock import utcnow
from referral.db import Organisation, User, paging
from referral.db.paging import Keyset, Page
from referral.directory.models import (
    AGE_COLUMNS,
    SEX_COLUMNS,
    AgeGroup,
    Area,
    AreaLevel,
    Cost,
    Sector,
    Service,
    ServiceStatus,
    Sex,
    service_areas,
)
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.workflow import RuleError

# Safety bound on walking up the hierarchy (the four levels need at most four steps).
MAX_DEPTH = len(AreaLevel)


# --- areas -------------------------------------------------------------------------------


def areas_by_public_ids(public_ids: Iterable[str]) -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.public_id.in_(list(public_ids)))))


def area_by_public_id(public_id: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.public_id == public_id))


def area_chain(area: Area) -> list[Area]:
    """The area itself, then its parent, up to the country: the areas that serve it.
    The parents are read in one statement (a recursive query), whatever the depth."""
    if area.parent_id is None:
        return [area]
    up = (
        select(Area.id, Area.parent_id, literal(1).label("depth"))
        .where(Area.id == area.parent_id)
        .cte("up", recursive=True)
    )
    above = aliased(Area)
    up = up.union_all(
        select(above.id, above.parent_id, up.c.depth + 1).where(
            above.id == up.c.parent_id, up.c.depth < MAX_DEPTH
        )
    )
    parents = db.session.scalars(select(Area).join(up, Area.id == up.c.id).order_by(up.c.depth))
    return [area, *parents]


def areas_below(area: Area) -> list[Area]:
    """Every area below ``area`` (children, grandchildren...; not ``area`` itself)."""
    found: list[Area] = []
    frontier = [area.id]
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        children = list(db.session.scalars(select(Area).where(Area.parent_id.in_(frontier))))
        found += children
        frontier = [child.id for child in children]
    return found


def area_label(area: Area) -> str:
    """``Kesa district (Lomara)``: the name with its parent, for lists and selects."""
    if area.parent is not None:
        return f"{area.name} ({area.parent.name})"
    return area.name


def all_areas() -> list[Area]:
    """Every area in hierarchy order (parents before children, siblings by name)."""
    rows = db.session.scalars(select(Area).order_by(Area.name)).all()
    children: dict[int | None, list[Area]] = {}
    for area in rows:
        children.setdefault(area.parent_id, []).append(area)
    ordered: list[Area] = []

    def walk(parent_id: int | None) -> None:
        for child in children.get(parent_id, []):
            ordered.append(child)
            walk(child.id)

    walk(None)
    return ordered


AREA_ORDER = Keyset((Area.code,))  # P-codes sort parents before children


def list_areas(
    *,
    level: AreaLevel | None = None,
    parent: Area | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Area]:
    """Areas by code, keyset-paged on the code."""
    query = select(Area).options(selectinload(Area.parent))
    if level is not None:
        query = query.where(Area.level == level)
    if parent is not None:
        query = query.where(Area.parent_id == parent.id)
    return paging.page(query, AREA_ORDER, cursor=cursor, limit=limit)


def area_choices(*, blank: str | None = None) -> list[tuple[str, str]]:
    choices = [("", blank)] if blank is not None else []
    for area in all_areas():
        indent = "\u2003" * area.level.rank
        choices.append((area.public_id, f"{indent}{area.name}"))
    return choices


def _check_parent(level: AreaLevel, parent: Area | None, current: Area | None) -> None:
    if level is AreaLevel.COUNTRY:
        if parent is not None:
            raise RuleError("parent", _l("A country has no parent area."))
        return
    if parent is None:
        raise RuleError("parent", _l("Choose the area this one belongs to."))
    if parent.level.rank >= level.rank:
        raise RuleError("parent", _l("The parent area must be of a higher level than this one."))
    if current is not None and current in area_chain(parent):
        raise RuleError("parent", _l("An area cannot sit inside itself."))


@dataclass(frozen=True)
class AreaData:
    code: str
    name: str
    level: AreaLevel
    parent: Area | None


def create_area(data: AreaData, *, actor: User | None) -> Area:
    if db.session.scalar(select(Area.id).where(func.lower(Area.code) == data.code.lower())):
        raise RuleError("code", _l("An area with this code already exists."))
    _check_parent(data.level, data.parent, None)
    area = Area(code=data.code, name=data.name, level=data.level, parent=data.parent)
    db.session.add(area)
    db.session.flush()
    record("directory.area_created", actor=actor, obj_type="area", obj_id=area.public_id)
    return area


def update_area(area: Area, data: AreaData, *, actor: User) -> None:
    clash = db.session.scalar(select(Area).where(func.lower(Area.code) == data.code.lower()))
    if clash is not None and clash is not area:
        raise RuleError("code", _l("An area with this code already exists."))
    _check_parent(data.level, data.parent, area)
    if any(child.level.rank <= data.level.rank for child in area.children):
        raise RuleError(
            "level", _l("Areas inside this one would then be of the same or a higher level.")
        )
    changed = [
        key
        for key, value in (
            ("code", data.code),
            ("name", data.name),
            ("level", data.level),
            ("parent", data.parent),
        )
        if getattr(area, key) != value
    ]
    area.code, area.name, area.level, area.parent = data.code, data.name, data.level, data.parent
    record(
        "directory.area_updated",
        actor=actor,
        obj_type="area",
        obj_id=area.public_id,
        detail={"changed": changed},
    )


# --- CSV import of areas -----------------------------------------------------------------

CSV_COLUMNS = ("code", "name", "level", "parent_code")
MAX_IMPORT_ROWS = 5000


@dataclass
class RowError:
    line: int  # line number in the file, the header being line 1
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_areas_csv(content: str, *, actor: User) -> ImportResult:
    """Create or update areas from CSV (``code,name,level,parent_code``).

    All or nothing: every row is checked first; if any row has an error, nothing is
    written and every error is returned with its line number. A parent may be an area
    already in the directory or a row anywhere in the same file.
    """
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
        missing = [column for column in CSV_COLUMNS if column not in header]
        if missing:
            result.errors.append(
                RowError(1, str(_l("Missing columns: %(columns)s.", columns=", ".join(missing))))
            )
            return result
        reader.fieldnames = header
        records = (
            (index, {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)})
            for index, raw in enumerate(reader, start=2)
        )
        # Every row is read and checked before anything is written.
        return import_area_records(records, actor=actor)
    except csv.Error:
        # The csv module refuses a field over its limit (128 KiB) or a broken quote: the
        # file is refused at that line, never answered with a 500.
        message = _l("This line is not valid CSV: a field is far too long or a quote is open.")
        # line_num counts the lines read whole: the failing one is the next.
        return ImportResult(errors=[RowError(reader.line_num + 1, str(message))])


def import_area_records(
    records: Iterable[tuple[int, Mapping[str, str]]], *, actor: User
) -> ImportResult:
    """Create or update areas from records (line number, ``code``, ``name``, ``level``,
    ``parent_code``), all or nothing, as :func:`import_areas_csv` describes."""
    result = ImportResult()
    existing = {a.code.lower(): a for a in db.session.scalars(select(Area))}
    rows: dict[str, tuple[int, str, str, AreaLevel, str]] = {}
    levels = {level.value: level for level in AreaLevel}
    for count, (index, values) in enumerate(records, start=1):
        if count > MAX_IMPORT_ROWS:
            result.errors.append(
                RowError(index, str(_l("Too many rows (at most %(n)d).", n=MAX_IMPORT_ROWS)))
            )
            break
        code, name = values.get("code", ""), values.get("name", "")
        level_text, parent_code = values.get("level", "").lower(), values.get("parent_code", "")
        problems = []
        if not code or len(code) > 40:
            problems.append(str(_l("code is required (at most 40 characters)")))
        if not name or len(name) > 120:
            problems.append(str(_l("name is required (at most 120 characters)")))
        if any(ord(ch) < 32 for ch in code + name + parent_code):
            problems.append(str(_l("control characters are not allowed")))
        if level_text not in levels:
            problems.append(str(_l("level must be one of: %(levels)s", levels=", ".join(levels))))
        if code.lower() in rows:
            problems.append(
                str(
                    _l(
                        "code %(code)s is repeated (line %(line)d)",
                        code=code,
                        line=rows[code.lower()][0],
                    )
                )
            )
        if problems:
            result.errors.append(RowError(index, "; ".join(problems)))
            continue
        rows[code.lower()] = (index, code, name, levels[level_text], parent_code)

    def level_of(code: str) -> AreaLevel | None:
        if code.lower() in rows:
            return rows[code.lower()][3]
        if code.lower() in existing:
            return existing[code.lower()].level
        return None

    for line, _code, _name, level, parent_code in rows.values():
        if level is AreaLevel.COUNTRY:
            if parent_code:
                result.errors.append(RowError(line, str(_l("a country has no parent_code"))))
            continue
        if not parent_code:
            result.errors.append(RowError(line, str(_l("parent_code is required"))))
            continue
        parent_level = level_of(parent_code)
        if parent_level is None:
            result.errors.append(
                RowError(line, str(_l("unknown parent_code %(code)s", code=parent_code)))
            )
        elif parent_level.rank >= level.rank:
            result.errors.append(
                RowError(
                    line,
                    str(
                        _l("the parent must be of a higher level than %(level)s", level=level.value)
                    ),
                )
            )
    if not rows and not result.errors:
        result.errors.append(RowError(2, str(_l("The file has no rows."))))
    if result.errors:
        result.errors.sort(key=lambda error: error.line)
        return result

    # Apply, parents first (a parent's level rank is always lower than its child's).
    by_code = dict(existing)
    with db.session.begin_nested():
        for _line, code, name, level, _parent in sorted(rows.values(), key=lambda r: r[3].rank):
            area = by_code.get(code.lower())
            if area is None:
                area = Area(code=code, name=name, level=level)
                db.session.add(area)
                by_code[code.lower()] = area
                result.created += 1
            else:
                area.name, area.level = name, level
                result.updated += 1
        for _line, code, _name, _level, parent_code in rows.values():
            by_code[code.lower()].parent = by_code[parent_code.lower()] if parent_code else None
        db.session.flush()
    record(
        "directory.areas_imported",
        actor=actor,
        obj_type="area",
        detail={"created": result.created, "updated": result.updated},
    )
    return result


# --- services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceData:
    organisation: Organisation
    sector: Sector
    name: str
    areas: Sequence[Area]
    address: str = ""
    opening_hours: str = ""
    languages: str = ""
    age_groups: Sequence[AgeGroup] = tuple(AgeGroup)
    sexes: Sequence[Sex] = tuple(Sex)
    cost: Cost = Cost.FREE
    accessibility: str = ""
    what_to_bring: str = ""
    focal_point_name: str = ""
    focal_point_phone: str = ""
    focal_point_email: str = ""
    status: ServiceStatus = ServiceStatus.AVAILABLE
    status_note: str = ""


_PLAIN_FIELDS = (
    "sector",
    "name",
    "address",
    "opening_hours",
    "languages",
    "cost",
    "accessibility",
    "what_to_bring",
    "focal_point_name",
    "focal_point_phone",
    "focal_point_email",
    "status_note",
)


def _check_service(data: ServiceData) -> None:
    if not data.areas:
        raise RuleError("areas", _l("Choose at least one area the service covers."))
    if not data.age_groups:
        raise RuleError("age_groups", _l("Choose at least one accepted age group."))
    if not data.sexes:
        raise RuleError("sexes", _l("Choose at least one accepted sex."))
    if not data.organisation.active:
        raise RuleError("organisation", _l("This organisation is not active."))
    if data.status is ServiceStatus.SUSPENDED and not data.status_note:
        raise RuleError(
            "status_note", _l("Say why the service is suspended (shown to caseworkers).")
        )


def _apply(service: Service, data: ServiceData) -> list[str]:
    changed = []
    for key in _PLAIN_FIELDS:
        if getattr(service, key) != getattr(data, key):
            changed.append(key)
            setattr(service, key, getattr(data, key))
    if service.organisation_id != data.organisation.id:
        changed.append("organisation")
        service.organisation = data.organisation
    for group, column in AGE_COLUMNS.items():
        value = group in data.age_groups
        if getattr(service, column) != value:
            changed.append(column)
            setattr(service, column, value)
    for sex, column in SEX_COLUMNS.items():
        value = sex in data.sexes
        if getattr(service, column) != value:
            changed.append(column)
            setattr(service, column, value)
    if {a.id for a in service.areas} != {a.id for a in data.areas}:
        changed.append("areas")
        service.areas = list(data.areas)
    if service.status != data.status:
        changed.append("status")
        service.status = data.status
        service.status_changed_at = utcnow()
    return changed


def create_service(data: ServiceData, *, actor: User | None) -> Service:
    _check_service(data)
    service = Service(status=data.status, status_changed_at=utcnow(), areas=[])
    _apply(service, data)
    db.session.add(service)
    db.session.flush()
    record(
        "directory.service_created",
        actor=actor,
        obj_type="service",
        obj_id=service.public_id,
        detail={"sector": data.sector.value, "organisation": data.organisation.public_id},
    )
    return service


def update_service(service: Service, data: ServiceData, *, actor: User) -> list[str]:
    _check_service(data)
    changed = _apply(service, data)
    if changed:
        record(
            "directory.service_updated",
            actor=actor,
            obj_type="service",
            obj_id=service.public_id,
            detail={"changed": sorted(changed), "status": service.status.value},
        )
    return changed


# --- search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFilter:
    area: Area | None = None
    sector: Sector | None = None
    age_group: AgeGroup | None = None
    sex: Sex | None = None
    status: ServiceStatus | None = None
    organisation_id: int | None = None
    # Also match services covering areas inside ``area`` (used to pick services for a
    # pathway of a province, which may name a district clinic).
    include_within: bool = False


SERVICE_ORDER = Keyset((Service.name, Service.public_id))


def _filtered(filters: ServiceFilter) -> Select[Any]:
    query = select(Service)
    if filters.area is not None:
        # A service covering a province serves its districts and sites: match the area
        # itself and every area above it.
        serving = [a.id for a in area_chain(filters.area)]
        if filters.include_within:
            serving += [a.id for a in areas_below(filters.area)]
        query = query.where(
            exists().where(
                and_(service_areas.c.service_id == Service.id, service_areas.c.area_id.in_(serving))
            )
        )
    if filters.sector is not None:
        query = query.where(Service.sector == filters.sector)
    if filters.status is not None:
        query = query.where(Service.status == filters.status)
    if filters.age_group is not None:
        query = query.where(getattr(Service, AGE_COLUMNS[filters.age_group]).is_(True))
    if filters.sex is not None:
        query = query.where(getattr(Service, SEX_COLUMNS[filters.sex]).is_(True))
    if filters.organisation_id is not None:
        query = query.where(Service.organisation_id == filters.organisation_id)
    return query


def search_services(
    filters: ServiceFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[Service]:
    """Services matching the filters, by name, paged by keyset on (name, public_id)."""
    query = _filtered(filters).options(selectinload(Service.areas).joinedload(Area.parent))
    return paging.page(query, SERVICE_ORDER, cursor=cursor, limit=limit, unique=True)


def services_by_public_ids(public_ids: Iterable[str]) -> list[Service]:
    return list(db.session.scalars(select(Service).where(Service.public_id.in_(list(public_ids)))))


def service_by_public_id(public_id: str) -> Service | None:
    return db.session.scalar(select(Service).where(Service.public_id == public_id))
