"""HXL (Humanitarian Exchange Language): the service directory as a 4W-style table with a
hashtag row, read back from the same; administrative areas from a COD-style table of
P-codes.

A table has a header row for people and, below it, a row of HXL hashtags that say what
each column holds. Reading goes by hashtags, never by header text or column order, so a
file that went through another tool (HDX, a sub-cluster's 4W) still imports. Hashtags
compare without case, spaces or attribute order (``#adm1 +code`` = ``#adm1+code``).
The directory table has one row per service and area served (the 4W convention); the rows
of one service share its ``#activity+code``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from referral.audit import record
from referral.db import Organisation, User
from referral.directory import services as directory
from referral.directory.models import (
    AgeGroup,
    Area,
    AreaLevel,
    Cost,
    Sector,
    Service,
    ServiceStatus,
    Sex,
)
from referral.extensions import db
from referral.reports.exports import CSV_MIMETYPE, XLSX_MIMETYPE, neutralise
from referral.workflow import RuleError

__all__ = ["CSV_MIMETYPE", "XLSX_MIMETYPE"]

# The area column group of each level, from the country down (4W / COD conventions).
LEVEL_TAGS: dict[AreaLevel, str] = {
    AreaLevel.COUNTRY: "#country",
    AreaLevel.PROVINCE: "#adm1",
    AreaLevel.DISTRICT: "#adm2",
    AreaLevel.SITE: "#loc",
}
LIST_SEPARATOR = ";"
MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 25


def normal_tag(text: str) -> str:
    """``#Adm1 +Code`` -> ``#adm1+code``: lower case, no spaces, attributes sorted."""
    parts = [p for p in text.strip().lower().replace(" ", "").split("+") if p]
    if not parts or not parts[0].startswith("#"):
        return ""
    return "+".join([parts[0], *sorted(set(parts[1:]))])


# --- the directory table --------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    tag: str


def _columns() -> list[Column]:
    columns = [
        Column(_("Service id"), "#activity+code"),
        Column(_("Service"), "#activity+name"),
        Column(_("Sector"), "#sector+code"),
        Column(_("Organisation"), "#org+name"),
        Column(_("Organisation acronym"), "#org+acronym"),
    ]
    names = {
        AreaLevel.COUNTRY: _("Country"),
        AreaLevel.PROVINCE: _("Province"),
        AreaLevel.DISTRICT: _("District"),
        AreaLevel.SITE: _("Site"),
    }
    for level, tag in LEVEL_TAGS.items():
        columns.append(Column(names[level], f"{tag}+name"))
        columns.append(Column(_("%(level)s P-code", level=names[level]), f"{tag}+code"))
    columns += [
        Column(_("Status"), "#status"),
        Column(_("Status note"), "#status+note"),
        Column(_("Address"), "#loc+address"),
        Column(_("Opening hours"), "#meta+hours"),
        Column(_("Languages"), "#meta+languages"),
        Column(_("Cost"), "#meta+cost"),
        Column(_("Age groups accepted"), "#targeted+age"),
        Column(_("Sexes accepted"), "#targeted+sex"),
        Column(_("Accessibility"), "#access"),
        Column(_("Focal point"), "#contact+name"),
        Column(_("Focal point phone"), "#contact+phone"),
        Column(_("Focal point e-mail"), "#contact+email"),
    ]
    return columns


def _chain_by_level(area: Area) -> dict[AreaLevel, Area]:
    return {a.level: a for a in directory.area_chain(area)}


def _service_rows(service: Service) -> Iterator[list[str]]:
    common_start = [
        service.public_id,
        service.name,
        service.sector.value,
        service.organisation.name,
        service.organisation.acronym,
    ]
    common_end = [
        service.status.value,
        service.status_note,
        service.address,
        service.opening_hours,
        service.languages,
        service.cost.value,
        LIST_SEPARATOR.join(g.value for g in service.accepted_age_groups),
        LIST_SEPARATOR.join(s.value for s in service.accepted_sexes),
        service.accessibility,
        service.focal_point_name,
        service.focal_point_phone,
        service.focal_point_email,
    ]
    for area in service.areas:
        chain = _chain_by_level(area)
        places: list[str] = []
        for level in LEVEL_TAGS:
            found = chain.get(level)
            places += [found.name, found.code] if found else ["", ""]
        yield [*common_start, *places, *common_end]


def directory_table() -> tuple[list[Column], list[list[str]]]:
    """Every service, one row per area it serves, by service name."""
    services = db.session.scalars(
        select(Service)
        .order_by(Service.name, Service.public_id)
        .options(selectinload(Service.areas).selectinload(Area.parent))
    ).all()
    rows = [row for service in services for row in _service_rows(service)]
    return _columns(), rows


def as_csv(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c.header) for c in columns])
    writer.writerow([c.tag for c in columns])
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[str]], title: str) -> bytes:
    workbook = Workbook()
    workbook.properties.creator = "referral"
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([neutralise(c.header) for c in columns])
    sheet.append([c.tag for c in columns])
    for cell in (*sheet[1], *sheet[2]):
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_directory(file_format: str, *, actor: User) -> bytes:
    """R25: the export is an audited event."""
    columns, rows = directory_table()
    record(
        "directory.exported",
        actor=actor,
        obj_type="directory",
        detail={"format": file_format, "rows": len(rows), "standard": "hxl"},
    )
    if file_format == "xlsx":
        return as_xlsx(columns, rows, _("Services"))
    return as_csv(columns, rows)


# --- reading a tagged table -------------------------------------------------------------------


RowError = directory.RowError
ImportResult = directory.ImportResult


class TableError(ValueError):
    """The file cannot be read as a tagged table."""


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The file's rows as text (CSV in UTF-8, or the first sheet of an XLSX workbook)."""
    if filename.lower().endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise TableError(_("The file is not an XLSX workbook.")) from error
        sheet = workbook.worksheets[0]
        rows = []
        for count, values in enumerate(sheet.iter_rows(values_only=True)):
            if count > MAX_ROWS + HEADER_SEARCH_ROWS:
                break
            rows.append(["" if v is None else str(v) for v in values])
        workbook.close()
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError(_("The file is not UTF-8 text.")) from error
    try:
        return [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:
        raise TableError(_("The file is not CSV.")) from error


def _plain(value: str) -> str:
    """A cell as written: without the apostrophe an export puts before formula-like text."""
    value = value.strip()
    if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


@dataclass
class Tagged:
    """The rows below the hashtag row, each with its line number, read by hashtag."""

    tags: dict[str, int]
    rows: list[tuple[int, list[str]]]

    def has(self, tag: str) -> bool:
        return normal_tag(tag) in self.tags

    def get(self, row: list[str], tag: str) -> str:
        index = self.tags.get(normal_tag(tag))
        if index is None or index >= len(row):
            return ""
        return _plain(row[index])


def tagged(rows: list[list[str]]) -> Tagged:
    """Find the hashtag row (among the first rows) and index its columns."""
    for position, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [cell.strip() for cell in row if cell.strip()]
        if cells and all(cell.startswith("#") for cell in cells):
            tags: dict[str, int] = {}
            for index, cell in enumerate(row):
                tag = normal_tag(cell)
                if tag and tag not in tags:
                    tags[tag] = index
            body = [
                (number, row)
                for number, row in enumerate(rows[position + 1 :], start=position + 2)
                if any(cell.strip() for cell in row)
            ]
            if len(body) > MAX_ROWS:
                raise TableError(_("Too many rows (at most %(n)d).", n=MAX_ROWS))
            return Tagged(tags, body)
    raise TableError(_("No HXL hashtag row (a row of #tags such as #org, #adm1+code) found."))


# --- administrative areas from a COD table ------------------------------------------------------

# COD tables name levels admin0..admin3 with these hashtags; #loc is the project's site level.
COD_LEVELS: tuple[tuple[str, AreaLevel], ...] = (
    ("#country", AreaLevel.COUNTRY),
    ("#adm1", AreaLevel.PROVINCE),
    ("#adm2", AreaLevel.DISTRICT),
    ("#adm3", AreaLevel.SITE),
    ("#loc", AreaLevel.SITE),
)


def _name_tag(table: Tagged, base: str) -> str | None:
    """The column of a level's name: ``+name`` alone, else the English one, else any."""
    candidates = [t for t in table.tags if t.startswith(base + "+") and "+name" in t]
    if not candidates:
        return None
    for preferred in (f"{base}+name", f"{base}+i_en+name"):
        if preferred in candidates:
            return preferred
    return sorted(candidates)[0]


def import_cod_areas(rows: list[list[str]], *, actor: User) -> ImportResult:
    """Areas from a COD-style table: each row holds a unit and its ancestors, every level
    as a P-code (``#adm1+code``) and a name (``#adm1+name`` or ``#adm1+name+i_en``).

    Each distinct P-code becomes an area under the P-code of the level above it in the
    same row; existing areas (matched by P-code) are renamed. All or nothing.
    """
    result = ImportResult()
    try:
        table = tagged(rows)
    except TableError as error:
        result.errors.append(RowError(1, str(error)))
        return result
    levels = [
        (base, level, _name_tag(table, base))
        for base, level in COD_LEVELS
        if table.has(f"{base}+code")
    ]
    if not levels:
        result.errors.append(
            RowError(1, _("No P-code column (#country+code, #adm1+code, #adm2+code...)."))
        )
        return result
    records: dict[str, tuple[int, dict[str, str]]] = {}
    for line, row in table.rows:
        parent = ""
        for base, level, name_tag in levels:
            code = table.get(row, f"{base}+code")
            if not code:
                continue
            name = table.get(row, name_tag) if name_tag else ""
            values = {
                "code": code,
                "name": name or code,
                "level": level.value,
                "parent_code": parent,
            }
            known = records.get(code.lower())
            if known is None:
                records[code.lower()] = (line, values)
            elif known[1]["parent_code"].lower() != parent.lower():
                result.errors.append(
                    RowError(
                        line,
                        _(
                            "%(code)s sits under %(parent)s here and under %(other)s on line "
                            "%(line)d",
                            code=code,
                            parent=parent or "-",
                            other=known[1]["parent_code"] or "-",
                            line=known[0],
                        ),
                    )
                )
            parent = code
    if result.errors:
        return result
    imported = directory.import_area_records(records.values(), actor=actor)
    return imported


# --- the service directory from its HXL table ---------------------------------------------------


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", LIST_SEPARATOR).split(LIST_SEPARATOR)]


def _enum_values(enum: Any, value: str, what: str) -> list[Any]:
    chosen = []
    for part in _split(value):
        if not part:
            continue
        try:
            chosen.append(enum(part.lower()))
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise RuleError(
                what, _("%(what)s must be among: %(allowed)s", what=what, allowed=allowed)
            ) from None
    return chosen


def _one(enum: Any, value: str, what: str, default: Any) -> Any:
    if not value:
        return default
    values = _enum_values(enum, value, what)
    if len(values) != 1:
        raise RuleError(what, _("%(what)s takes one value", what=what))
    return values[0]


@dataclass
class _Draft:
    """One service gathered from its rows (a row per area it serves)."""

    line: int
    key: str
    values: dict[str, str]
    areas: list[Area] = field(default_factory=list)


SERVICE_TAGS = {
    "public_id": "#activity+code",
    "name": "#activity+name",
    "sector": "#sector+code",
    "org_name": "#org+name",
    "org_acronym": "#org+acronym",
    "status": "#status",
    "status_note": "#status+note",
    "address": "#loc+address",
    "opening_hours": "#meta+hours",
    "languages": "#meta+languages",
    "cost": "#meta+cost",
    "age_groups": "#targeted+age",
    "sexes": "#targeted+sex",
    "accessibility": "#access",
    "focal_point_name": "#contact+name",
    "focal_point_phone": "#contact+phone",
    "focal_point_email": "#contact+email",
}
REQUIRED_TAGS = ("#activity+name", "#sector+code")


def _row_area(table: Tagged, row: list[str], areas: dict[str, Area]) -> Area | str | None:
    """The most precise area of the row by P-code; a code not in the directory is an error
    text; None when the row names no area."""
    for tag in ("#loc+code", "#adm3+code", "#adm2+code", "#adm1+code", "#country+code"):
        code = table.get(row, tag)
        if code:
            return areas.get(code.lower()) or _(
                "unknown P-code %(code)s (import the areas first)", code=code
            )
    return None


def _organisation(values: dict[str, str], organisations: dict[str, Organisation]) -> Organisation:
    for key in ("org_acronym", "org_name"):
        value = values.get(key, "")
        if value and value.lower() in organisations:
            return organisations[value.lower()]
    raise RuleError(
        "organisation",
        _(
            "unknown organisation %(name)s (add it first)",
            name=values.get("org_acronym") or values.get("org_name") or "-",
        ),
    )


def _service_data(draft: _Draft, organisations: dict[str, Organisation]) -> directory.ServiceData:
    values = draft.values
    return directory.ServiceData(
        organisation=_organisation(values, organisations),
        sector=_one(Sector, values["sector"], "#sector+code", None),
        name=values["name"],
        areas=draft.areas,
        address=values["address"],
        opening_hours=values["opening_hours"],
        languages=values["languages"],
        age_groups=_enum_values(AgeGroup, values["age_groups"], "#targeted+age")
        if values["age_groups"]
        else tuple(AgeGroup),
        sexes=_enum_values(Sex, values["sexes"], "#targeted+sex")
        if values["sexes"]
        else tuple(Sex),
        cost=_one(Cost, values["cost"], "#meta+cost", Cost.FREE),
        accessibility=values["accessibility"],
        focal_point_name=values["focal_point_name"],
        focal_point_phone=values["focal_point_phone"],
        focal_point_email=values["focal_point_email"],
        status=_one(ServiceStatus, values["status"], "#status", ServiceStatus.AVAILABLE),
        status_note=values["status_note"],
    )


LIMITS = {
    "name": 160,
    "address": 300,
    "opening_hours": 200,
    "languages": 200,
    "focal_point_name": 120,
    "focal_point_phone": 60,
    "focal_point_email": 254,
    "status_note": 300,
    "accessibility": 2000,
}


def import_directory(rows: list[list[str]], *, actor: User) -> ImportResult:
    """Create or update services from an HXL directory table (as exported), all or nothing.

    A service is matched by ``#activity+code`` (its id in this directory), else by its
    organisation, sector and name; its areas are the P-codes of all its rows. The rules
    of the service form apply (the directory's own services check every value).
    """
    result = ImportResult()
    try:
        table = tagged(rows)
    except TableError as error:
        result.errors.append(RowError(1, str(error)))
        return result
    missing = [tag for tag in REQUIRED_TAGS if not table.has(tag)]
    if not (table.has("#org+acronym") or table.has("#org+name")):
        missing.append("#org")
    if missing:
        result.errors.append(RowError(1, _("Missing hashtags: %(tags)s.", tags=", ".join(missing))))
        return result
    areas = {a.code.lower(): a for a in db.session.scalars(select(Area))}
    organisations: dict[str, Organisation] = {}
    for organisation in db.session.scalars(select(Organisation)):
        organisations[organisation.acronym.lower()] = organisation
        organisations.setdefault(organisation.name.lower(), organisation)

    drafts: dict[str, _Draft] = {}
    for line, row in table.rows:
        values = {key: table.get(row, tag) for key, tag in SERVICE_TAGS.items()}
        problems = [
            _("%(tag)s: at most %(n)d characters", tag=SERVICE_TAGS[key], n=limit)
            for key, limit in LIMITS.items()
            if len(values[key]) > limit
        ]
        if any(ord(ch) < 32 and ch not in "\n\r\t" for text in values.values() for ch in text):
            problems.append(_("control characters are not allowed"))
        if not values["name"]:
            problems.append(_("#activity+name is required"))
        if not values["sector"]:
            problems.append(_("#sector+code is required"))
        area = _row_area(table, row, areas)
        if isinstance(area, str):
            problems.append(area)
        if problems:
            result.errors.append(RowError(line, "; ".join(problems)))
            continue
        who = values["org_acronym"] or values["org_name"]
        fallback = f"{who}|{values['sector']}|{values['name']}".lower()
        key = values["public_id"].upper() or fallback
        draft = drafts.setdefault(key, _Draft(line, key, values))
        if isinstance(area, Area) and area not in draft.areas:
            draft.areas.append(area)
    if result.errors:
        return result

    for draft in drafts.values():
        try:
            data = _service_data(draft, organisations)
            existing = _existing_service(draft.values, data)
            if existing is None:
                directory.create_service(data, actor=actor)
                result.created += 1
            else:
                directory.update_service(existing, data, actor=actor)
                result.updated += 1
        except RuleError as error:
            result.errors.append(RowError(draft.line, str(error)))
    if not drafts and not result.errors:
        result.errors.append(RowError(2, _("The file has no rows.")))
    if result.ok:
        record(
            "directory.imported",
            actor=actor,
            obj_type="directory",
            detail={"created": result.created, "updated": result.updated, "standard": "hxl"},
        )
    return result


def _existing_service(values: dict[str, str], data: directory.ServiceData) -> Service | None:
    if values["public_id"]:
        found = directory.service_by_public_id(values["public_id"].upper())
        if found is not None:
            return found
    return db.session.scalar(
        select(Service).where(
            Service.organisation_id == data.organisation.id,
            Service.sector == data.sector,
            func.lower(Service.name) == data.name.lower(),
        )
    )
