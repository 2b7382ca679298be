"""Pathway rules: versions and their workflow (R15, R16), steps, the SOP, the lookup.

The case workflow calls :func:`lookup_pathway`; keep its signature stable.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from referral.audit import record
from referral.clinical import open_windows
from referral.clock import utcnow
from referral.db import User, paging
from referral.db.paging import Keyset, Page
from referral.directory.models import AgeGroup, Area, Sector, Service, ServiceStatus, Sex
from referral.directory.services import area_chain
from referral.extensions import db
from referral.formatting import day_text
from referral.messages import lazy_gettext as _l
from referral.pathways.models import (
    PATHWAY_TRANSITIONS,
    PathwayStatus,
    PathwayStep,
    PathwayVersion,
)
from referral.workflow import RuleError

# --- loading -----------------------------------------------------------------------------


def current_versions() -> list[PathwayVersion]:
    """Every version not archived (drafts, in review, published), for the index."""
    return list(
        db.session.scalars(
            select(PathwayVersion).where(PathwayVersion.status != PathwayStatus.ARCHIVED)
        )
    )


# A pathway version is read with its steps and their services in one statement: a
# pathway has a handful of steps of a few services each.
WITH_STEPS = joinedload(PathwayVersion.steps).joinedload(PathwayStep.services)


def version_by_public_id(public_id: str) -> PathwayVersion | None:
    return db.session.scalar(
        select(PathwayVersion).where(PathwayVersion.public_id == public_id).options(WITH_STEPS)
    )


def versions_of(area: Area) -> list[PathwayVersion]:
    """The area's versions, newest first, with the name of who approved each (not the
    rest of their account)."""
    return list(
        db.session.scalars(
            select(PathwayVersion)
            .where(PathwayVersion.area_id == area.id)
            .order_by(PathwayVersion.number.desc())
            .options(
                joinedload(PathwayVersion.published_by)
                .load_only(User.full_name)
                .lazyload(User.organisation)
            )
        )
    )


def published_version(area: Area) -> PathwayVersion | None:
    """The published version of exactly this area (no walking up)."""
    return published_pathway_for(area, [area])


def published_pathway_for(area: Area, chain: list[Area] | None = None) -> PathwayVersion | None:
    """The published pathway that applies in ``area``: its own, else the nearest parent's
    (one statement). ``chain``: ``area_chain(area)`` when the caller has it already."""
    serving = area_chain(area) if chain is None else chain
    nearest_first = {a.id: position for position, a in enumerate(serving)}
    return db.session.scalar(
        select(PathwayVersion)
        .where(
            PathwayVersion.area_id.in_(nearest_first),
            PathwayVersion.status == PathwayStatus.PUBLISHED,
        )
        .order_by(case(nearest_first, value=PathwayVersion.area_id))
        .limit(1)
        .options(WITH_STEPS)
    )


PUBLISHED_ORDER = Keyset((PathwayVersion.public_id,))


def published_versions(*, cursor: str | None = None, limit: int = 50) -> Page[PathwayVersion]:
    """Every published version (one per area at most), keyset-paged on the public id."""
    query = (
        select(PathwayVersion)
        .where(PathwayVersion.status == PathwayStatus.PUBLISHED)
        .options(selectinload(PathwayVersion.steps).selectinload(PathwayStep.services))
    )
    return paging.page(query, PUBLISHED_ORDER, cursor=cursor, limit=limit)


# --- drafting ----------------------------------------------------------------------------


def create_version(area: Area, *, actor: User, title: str = "") -> PathwayVersion:
    """A new draft for ``area``, starting from its latest version when there is one."""
    latest = db.session.scalar(
        select(PathwayVersion)
        .where(PathwayVersion.area_id == area.id)
        .order_by(PathwayVersion.number.desc())
        .limit(1)
    )
    number = (latest.number + 1) if latest is not None else 1
    now = utcnow()
    version = PathwayVersion(
        area=area,
        number=number,
        status=PathwayStatus.DRAFT,
        title=title or (latest.title if latest else str(_l("Referral pathway"))),
        sop_markdown=latest.sop_markdown if latest else "",
        sea_reporting_procedure=latest.sea_reporting_procedure if latest else "",
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    if latest is not None:
        version.steps = [
            PathwayStep(
                position=step.position,
                sector=step.sector,
                guidance=step.guidance,
                services=list(step.services),
            )
            for step in latest.steps
        ]
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError as error:  # two drafts started at once: numbers clash
        raise RuleError(
            "", _l("Someone else started a version at the same time. Try again.")
        ) from error
    record(
        "pathways.version_created",
        actor=actor,
        obj_type="pathway_version",
        obj_id=version.public_id,
        detail={"area": area.public_id, "number": number},
    )
    return version


def _flush() -> None:
    """Write now; a version changed by someone else since it was read is refused
    (optimistic lock on ``row_version``), never overwritten."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise RuleError(
            "", _l("Someone else changed this version meanwhile. Open it again.")
        ) from error


def _require_draft(version: PathwayVersion) -> None:
    if not version.editable:
        raise RuleError("", _l("Only a draft can be changed. Return it to draft first."))


def update_version(
    version: PathwayVersion,
    *,
    title: str,
    sop_markdown: str,
    sea_reporting_procedure: str,
    change_note: str,
    actor: User,
) -> None:
    _require_draft(version)
    version.title = title
    version.sop_markdown = sop_markdown
    version.sea_reporting_procedure = sea_reporting_procedure
    version.change_note = change_note
    version.updated_at = utcnow()
    _flush()
    record(
        "pathways.version_updated",
        actor=actor,
        obj_type="pathway_version",
        obj_id=version.public_id,
    )


def services_allowed_in(area: Area) -> list[Service]:
    """Services that may appear in a pathway of ``area``: covering it, above or inside it."""
    from referral.directory.services import ServiceFilter, search_services

    return search_services(ServiceFilter(area=area, include_within=True), limit=1000).rows


def _check_step_services(
    version: PathwayVersion, sector: Sector, services: Sequence[Service]
) -> None:
    if not services:
        raise RuleError("services", _l("Choose at least one service for this step."))
    allowed = {s.id for s in services_allowed_in(version.area)}
    if any(s.id not in allowed for s in services):
        raise RuleError("services", _l("A chosen service does not serve this area."))
    if any(s.sector is not sector for s in services) and sector is not Sector.OTHER:
        raise RuleError(
            "services", _l("Choose services of the step's sector (or use the sector Other).")
        )


def save_step(
    version: PathwayVersion,
    *,
    step: PathwayStep | None,
    sector: Sector,
    guidance: str,
    services: Sequence[Service],
    actor: User,
) -> PathwayStep:
    """Add a step at the end (``step`` None) or change an existing one."""
    _require_draft(version)
    _check_step_services(version, sector, services)
    if step is None:
        position = max((s.position for s in version.steps), default=0) + 1
        step = PathwayStep(position=position, sector=sector, guidance=guidance)
        version.steps.append(step)
    step.sector = sector
    step.guidance = guidance
    step.services = list(services)
    version.updated_at = utcnow()
    _flush()
    record(
        "pathways.step_saved",
        actor=actor,
        obj_type="pathway_version",
        obj_id=version.public_id,
        detail={"position": step.position, "sector": sector.value},
    )
    return step


def _renumber(version: PathwayVersion, ordered: list[PathwayStep]) -> None:
    # Two passes so the unique (version, position) never clashes mid-way.
    for index, step in enumerate(ordered, start=1):
        step.position = -index
    db.session.flush()
    for index, step in enumerate(ordered, start=1):
        step.position = index
    version.steps = ordered
    db.session.flush()


def delete_step(version: PathwayVersion, step: PathwayStep, *, actor: User) -> None:
    _require_draft(version)
    remaining = [s for s in version.steps if s is not step]
    version.steps.remove(step)
    db.session.flush()
    _renumber(version, remaining)
    version.updated_at = utcnow()
    _flush()
    record(
        "pathways.step_deleted",
        actor=actor,
        obj_type="pathway_version",
        obj_id=version.public_id,
    )


def move_step(version: PathwayVersion, step: PathwayStep, offset: int, *, actor: User) -> None:
    _require_draft(version)
    ordered = list(version.steps)
    index = ordered.index(step)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(version, ordered)
    version.updated_at = utcnow()
    _flush()
    record(
        "pathways.step_moved",
        actor=actor,
        obj_type="pathway_version",
        obj_id=version.public_id,
    )


# --- R16: the SEA reporting procedure ----------------------------------------------------

SEA_PROCEDURE_MIN_CHARACTERS = 60
_PLACEHOLDERS = {"tbd", "todo", "n/a", "na", "none", "to be confirmed", "tbc", "-", "..."}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"(?:\+?\d[\d ()./-]{5,}\d)")


def sea_procedure_problem(text: str) -> str | None:
    """R16: why the SEA reporting procedure is not good enough to publish, or None.

    It must say who the PSEA focal points are and how to reach them: a real paragraph
    (not a placeholder) with at least one phone number or e-mail address.
    """
    stripped = " ".join(text.split())
    if not stripped or stripped.lower().strip(".") in _PLACEHOLDERS:
        return str(
            _l(
                "The SOP must include the local procedure for reporting sexual exploitation "
                "and abuse (SEA): who the PSEA focal points are and how to reach them. "
                "Publishing is refused without it."
            )
        )
    if len(stripped) < SEA_PROCEDURE_MIN_CHARACTERS:
        return str(
            _l(
                "The SEA reporting procedure is too short to be followed: say who the PSEA "
                "focal points are and how to reach them (at least %(n)d characters).",
                n=SEA_PROCEDURE_MIN_CHARACTERS,
            )
        )
    if not (_EMAIL.search(stripped) or _PHONE.search(stripped)):
        return str(
            _l(
                "The SEA reporting procedure must say how to reach the PSEA focal points: "
                "give at least one phone number or e-mail address."
            )
        )
    return None


# --- the workflow (R15) ------------------------------------------------------------------


def four_eyes() -> bool:
    """R15: whether the author of a version is kept from publishing it (the default)."""
    return bool(current_app.config["PATHWAY_FOUR_EYES"])


def is_author(version: PathwayVersion, actor: User) -> bool:
    """The coordinator who started the version or sent it for review."""
    return actor.id in (version.created_by_id, version.submitted_by_id)


def publish_refusal(version: PathwayVersion, actor: User) -> str | None:
    """Why ``actor`` may not publish ``version`` under the four-eyes rule, or None."""
    if four_eyes() and is_author(version, actor):
        return str(
            _l(
                "You started this version or sent it for review: another GBV coordinator "
                "approves and publishes it (four eyes)."
            )
        )
    return None


def _locked(version: PathwayVersion) -> PathwayVersion:
    """Lock the area's row, then re-read the version under the lock.

    Every transition of any version of an area takes the same area lock, so two
    coordinators acting at once are serialised on PostgreSQL; SQLite serialises writers
    itself and the partial unique index is the last guard on both.
    """
    db.session.execute(select(Area.id).where(Area.id == version.area_id).with_for_update())
    db.session.execute(
        select(PathwayVersion.id).where(PathwayVersion.id == version.id).with_for_update()
    )
    db.session.refresh(version)
    return version


def transition(
    version: PathwayVersion,
    target: PathwayStatus,
    *,
    actor: User,
    replaces: str | None = None,
) -> PathwayVersion | None:
    """Move ``version`` to ``target``; returns the version archived by a publication.

    For a publication, ``replaces`` is the public id of the published version the
    coordinator saw ("" for none): if another version was published meanwhile the
    publication is refused, so of two coordinators publishing at once exactly one wins.
    """
    version = _locked(version)
    PATHWAY_TRANSITIONS.check(version.status, target)
    now = utcnow()
    archived: PathwayVersion | None = None
    if target is PathwayStatus.IN_REVIEW:
        if not version.steps:
            raise RuleError("", _l("Add at least one step before asking for review."))
        version.submitted_by, version.submitted_at = actor, now
    elif target is PathwayStatus.DRAFT:
        version.submitted_by, version.submitted_at = None, None
    elif target is PathwayStatus.PUBLISHED:
        refusal = publish_refusal(version, actor)
        if refusal:
            raise RuleError("", refusal)
        problem = sea_procedure_problem(version.sea_reporting_procedure)
        if problem:
            raise RuleError("sea_reporting_procedure", problem)
        current = db.session.scalar(
            select(PathwayVersion).where(
                PathwayVersion.area_id == version.area_id,
                PathwayVersion.status == PathwayStatus.PUBLISHED,
            )
        )
        if replaces is not None and (current.public_id if current else "") != replaces:
            raise RuleError(
                "",
                _l(
                    "Another version of this pathway was published meanwhile. "
                    "Look at it before publishing this one."
                ),
            )
        if current is not None:
            current.status, current.archived_at = PathwayStatus.ARCHIVED, now
            archived = current
            db.session.flush()
        version.published_by, version.published_at = actor, now
    elif target is PathwayStatus.ARCHIVED:
        version.archived_at = now
    version.status = target
    version.updated_at = now
    try:
        db.session.flush()
    except (IntegrityError, OperationalError, StaleDataError) as error:
        # The partial unique index (or SQLite's writer lock) stopped a second publication.
        raise RuleError(
            "", _l("Another version of this pathway was published at the same time.")
        ) from error
    record(
        f"pathways.version_{target.value}",
        actor=actor,
        obj_type="pathway_version",
        obj_id=version.public_id,
        detail={
            "area": version.area.public_id,
            "number": version.number,
            **({"archived": archived.public_id} if archived else {}),
            **(
                {"four_eyes": four_eyes(), "self_approved": is_author(version, actor)}
                if target is PathwayStatus.PUBLISHED
                else {}
            ),
        },
    )
    return archived


# --- SOP rendering -----------------------------------------------------------------------

SAFE_LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")

    def validate_link(url: str) -> bool:
        lowered = url.strip().lower()
        return lowered.startswith(SAFE_LINK_SCHEMES) or lowered.startswith(("#", "/"))

    md.validateLink = validate_link  # type: ignore[method-assign]
    return md


_MD = _markdown()


def render_markdown(text: str) -> Markup:
    """SOP Markdown to HTML: raw HTML is escaped, images dropped, links only to safe
    schemes (http, https, mailto, tel) or within the site."""
    return Markup(_MD.render(text))  # noqa: S704 - markdown-it escapes, html is disabled


# --- text rendering and diff -------------------------------------------------------------


def as_text(version: PathwayVersion, sector_labels: dict[Sector, object]) -> list[str]:
    """A plain-text rendering of a version, line by line, for comparing two versions."""
    lines = [f"# {version.title}", ""]
    for step in version.steps:
        lines.append(f"## {step.position}. {sector_labels.get(step.sector, step.sector.value)}")
        lines += [f"- {s.name} ({s.organisation.acronym})" for s in step.services]
        lines += [line for line in step.guidance.splitlines() if line.strip()]
        lines.append("")
    lines += ["## SOP", *version.sop_markdown.splitlines(), ""]
    lines += ["## SEA reporting", *version.sea_reporting_procedure.splitlines()]
    return lines


def diff_versions(
    old: PathwayVersion, new: PathwayVersion, sector_labels: dict[Sector, object]
) -> list[tuple[str, str]]:
    """(kind, line) pairs: kind is "same", "removed", "added" or "gap"."""
    result: list[tuple[str, str]] = []
    old_lines, new_lines = as_text(old, sector_labels), as_text(new, sector_labels)
    for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            result.append(("gap", ""))
        elif line.startswith("-"):
            result.append(("removed", line[1:]))
        elif line.startswith("+"):
            result.append(("added", line[1:]))
        else:
            result.append(("same", line[1:]))
    return result


# --- the lookup used by the case workflow (R14, R8) --------------------------------------


class Eligibility(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"  # does not accept the survivor's age group or sex
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class PathwayOption:
    """One service of the published pathway, as offered for a referral."""

    step_position: int
    sector: Sector
    guidance: str
    service: Service
    eligibility: Eligibility
    reasons: tuple[str, ...] = ()  # why not eligible / suspended (plain words)
    urgent: bool = False  # a health service while a clinical window is open (R8)
    urgent_reasons: tuple[str, ...] = ()
    limited_capacity: bool = False
    pathway_version_id: str = ""  # public id of the published version used
    pathway_area_id: str = ""  # public id of the area whose pathway applied

    @property
    def eligible(self) -> bool:
        return self.eligibility is Eligibility.ELIGIBLE

    @property
    def needs_reason_to_pick(self) -> bool:
        """R14: picking a suspended or not-eligible service needs a written reason."""
        return not self.eligible


def _urgency(
    sector: Sector, incident_type: str | None, hours_since_incident: float | None
) -> tuple[str, ...]:
    """R8: why a health service is urgent now (one reason per open clinical window)."""
    if sector is not Sector.HEALTH or hours_since_incident is None:
        return ()
    now = utcnow()
    incident_at = now - timedelta(hours=hours_since_incident)
    return tuple(
        str(
            _l(
                "%(care)s window open: %(hours)d h left",
                care=window.label,
                hours=int(window.time_left(now).total_seconds() // 3600),
            )
        )
        for window in open_windows(incident_type, incident_at, now)
    )


def lookup_pathway(
    area: Area,
    incident_type: str | None,
    age_group: AgeGroup,
    sex: Sex,
    hours_since_incident: float | None,
) -> list[PathwayOption]:
    """The services of the published pathway for ``area``, in step order (R14).

    - The pathway is the area's own published version, else the nearest parent area's;
      an empty list means no pathway is published for the area or above it.
    - Each service is marked ``eligible``, ``not_eligible`` (does not accept the
      survivor's age group or sex) or ``suspended``, with the reasons in plain words;
      a service with limited capacity stays eligible and says so.
    - Health services are ``urgent`` while a clinical window is open
      (R8, :mod:`referral.clinical`).
    - A service appearing in several steps is offered once per step.
    """
    version = published_pathway_for(area)
    if version is None:
        return []
    options = []
    for step in version.steps:
        urgent_reasons = _urgency(step.sector, incident_type, hours_since_incident)
        for service in step.services:
            reasons = []
            eligibility = Eligibility.ELIGIBLE
            if service.status is ServiceStatus.SUSPENDED:
                eligibility = Eligibility.SUSPENDED
                note = f": {service.status_note}" if service.status_note else ""
                reasons.append(
                    str(
                        _l(
                            "suspended since %(date)s",
                            date=day_text(service.status_changed_at),
                        )
                    )
                    + note
                )
            if not service.accepts_age(age_group):
                if eligibility is Eligibility.ELIGIBLE:
                    eligibility = Eligibility.NOT_ELIGIBLE
                reasons.append(
                    str(_l("does not accept age group %(group)s", group=age_group.value))
                )
            if not service.accepts_sex(sex):
                if eligibility is Eligibility.ELIGIBLE:
                    eligibility = Eligibility.NOT_ELIGIBLE
                reasons.append(str(_l("does not accept survivors of sex %(sex)s", sex=sex.value)))
            options.append(
                PathwayOption(
                    step_position=step.position,
                    sector=step.sector,
                    guidance=step.guidance,
                    service=service,
                    eligibility=eligibility,
                    reasons=tuple(reasons),
                    urgent=bool(urgent_reasons) and eligibility is not Eligibility.SUSPENDED,
                    urgent_reasons=urgent_reasons,
                    limited_capacity=service.status is ServiceStatus.LIMITED,
                    pathway_version_id=version.public_id,
                    pathway_area_id=version.area.public_id,
                )
            )
    return options


def versions_awaiting_review(limit: int = 20) -> tuple[list[PathwayVersion], int]:
    """Versions in review, oldest submission first, and how many there are in all."""
    rows = list(
        db.session.scalars(
            select(PathwayVersion)
            .where(PathwayVersion.status == PathwayStatus.IN_REVIEW)
            .order_by(PathwayVersion.submitted_at, PathwayVersion.id)
            .limit(limit)
        )
    )
    total = db.session.scalar(
        select(func.count())
        .select_from(PathwayVersion)
        .where(PathwayVersion.status == PathwayStatus.IN_REVIEW)
    )
    return rows, int(total or 0)
