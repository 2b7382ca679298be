"""Pathway pages: the field page of each area (printable), versions, editing, the
workflow, and the comparison of two versions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.db.work import attempt
from referral.directory.labels import SECTOR_LABELS
from referral.directory.models import Area, Sector
from referral.directory.services import (
    all_areas,
    area_by_public_id,
    area_chain,
    services_by_public_ids,
)
from referral.i18n import in_current_language
from referral.messages import lazy_gettext as _l
from referral.pathways import services
from referral.pathways.forms import ActionForm, ArchiveForm, PublishForm, StepForm, VersionForm
from referral.pathways.models import PathwayStatus, PathwayStep, PathwayVersion
from referral.security.policy import Permission, authorize, has_permission, requires

blueprint = Blueprint("pathways", __name__, url_prefix="/pathways")

Page = str | tuple[str, int] | Response

# Readers who do not manage pathways see published and archived versions only.
_PUBLIC_STATES = {PathwayStatus.PUBLISHED, PathwayStatus.ARCHIVED}


PATHWAY_STATUS_LABELS = {
    PathwayStatus.DRAFT: _l("Draft"),
    PathwayStatus.IN_REVIEW: _l("In review"),
    PathwayStatus.PUBLISHED: _l("Published"),
    PathwayStatus.ARCHIVED: _l("Archived"),
}
PATHWAY_STATUS_CLASSES = {
    PathwayStatus.DRAFT: "off",
    PathwayStatus.IN_REVIEW: "warn",
    PathwayStatus.PUBLISHED: "ok",
    PathwayStatus.ARCHIVED: "off",
}


@blueprint.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "pathway_status_labels": in_current_language(PATHWAY_STATUS_LABELS),
        "pathway_status_classes": PATHWAY_STATUS_CLASSES,
    }


@blueprint.app_template_filter("markdown")
def _markdown(text: str) -> object:
    return services.render_markdown(text or "")


def _area_or_404(public_id: str) -> Area:
    area = area_by_public_id(public_id)
    if area is None:
        abort(404)
    return area


def _version(public_id: str) -> PathwayVersion:
    """Load -> authorise: drafts and versions in review are for pathway managers only."""
    version = services.version_by_public_id(public_id)
    if version is None:
        abort(404)
    authorize(
        version.status in _PUBLIC_STATES
        or has_permission(current_user, Permission.MANAGE_PATHWAYS),
        reason="pathway version not published",
        obj_type="pathway_version",
        obj_id=public_id,
    )
    return version


def _step(version: PathwayVersion, public_id: str) -> PathwayStep:
    for step in version.steps:
        if step.public_id == public_id:
            return step
    abort(404)


@blueprint.route("/")
@requires(Permission.READ_PATHWAYS)
def index() -> Page:
    areas = all_areas()
    versions = services.current_versions()
    by_area: dict[int, list[PathwayVersion]] = {}
    for version in versions:
        by_area.setdefault(version.area_id, []).append(version)
    return render_template(
        "pathways/index.html",
        areas=areas,
        by_area=by_area,
        manager=has_permission(current_user, Permission.MANAGE_PATHWAYS),
    )


@blueprint.route("/areas/<public_id>")
@requires(Permission.READ_PATHWAYS)
def area(public_id: str) -> Page:
    """The field page: the pathway that applies in the area, made to print."""
    area = _area_or_404(public_id)
    chain = area_chain(area)
    version = services.published_pathway_for(area, chain)
    history = services.versions_of(area)
    if not has_permission(current_user, Permission.MANAGE_PATHWAYS):
        history = [v for v in history if v.status in _PUBLIC_STATES]
    return render_template(
        "pathways/area.html",
        area=area,
        version=version,
        history=history,
        chain=chain,
        new_form=ActionForm(),
    )


@blueprint.route("/areas/<public_id>/new", methods=["POST"])
@requires(Permission.MANAGE_PATHWAYS)
def new_version(public_id: str) -> Page:
    area = _area_or_404(public_id)
    if not ActionForm().validate():
        abort(400)
    created = attempt(lambda: services.create_version(area, actor=current_user))
    if not created:
        flash(created.message, "error")
        return redirect(url_for("pathways.area", public_id=area.public_id))
    version = created.value
    flash(_("Draft version %(n)d started.", n=version.number), "success")
    return redirect(url_for("pathways.version", public_id=version.public_id))


@blueprint.route("/versions/<public_id>")
@requires(Permission.READ_PATHWAYS)
def version(public_id: str) -> Page:
    return _version_page(_version(public_id))


def _version_page(
    version: PathwayVersion, status: int = 200, archive_form: ArchiveForm | None = None
) -> Page:
    others = [v for v in services.versions_of(version.area) if v.id != version.id]
    if not has_permission(current_user, Permission.MANAGE_PATHWAYS):
        others = [v for v in others if v.status in _PUBLIC_STATES]
    return render_template(
        "pathways/version.html",
        version=version,
        others=others,
        action=ActionForm(formdata=None),
        archive_form=archive_form or ArchiveForm(formdata=None),
        sea_problem=services.sea_procedure_problem(version.sea_reporting_procedure),
        four_eyes=services.four_eyes(),
        publish_refusal=services.publish_refusal(version, current_user),
    ), status


@blueprint.route("/versions/<public_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_PATHWAYS)
def edit_version(public_id: str) -> Page:
    version = _version(public_id)
    form = VersionForm(obj=version)
    if request.method == "POST":
        if form.validate():
            saved = attempt(
                lambda: services.update_version(
                    version,
                    title=form.title.data or "",
                    sop_markdown=form.sop_markdown.data or "",
                    sea_reporting_procedure=form.sea_reporting_procedure.data or "",
                    change_note=form.change_note.data or "",
                    actor=current_user,
                )
            )
            if saved:
                flash(_("Draft saved."), "success")
                return redirect(url_for("pathways.version", public_id=version.public_id))
            flash(saved.message, "error")
        return render_template("pathways/version_form.html", form=form, version=version), 400
    return render_template("pathways/version_form.html", form=form, version=version)


def _step_form(version: PathwayVersion, step: PathwayStep | None) -> StepForm:
    form = StepForm(obj=step)
    form.services.choices = [
        (s.public_id, f"{s.name} · {s.organisation.acronym} · {SECTOR_LABELS[s.sector]}")
        for s in services.services_allowed_in(version.area)
    ]
    if step is not None and request.method == "GET":
        form.sector.data = step.sector.value
        form.services.data = [s.public_id for s in step.services]
    return form


@blueprint.route("/versions/<public_id>/steps/new", methods=["GET", "POST"])
@blueprint.route("/versions/<public_id>/steps/<step_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_PATHWAYS)
def edit_step(public_id: str, step_id: str | None = None) -> Page:
    version = _version(public_id)
    step = _step(version, step_id) if step_id else None
    form = _step_form(version, step)
    if request.method == "POST":
        if form.validate():
            chosen = services_by_public_ids(form.services.data or [])
            if attempt(
                lambda: services.save_step(
                    version,
                    step=step,
                    sector=Sector(form.sector.data),
                    guidance=form.guidance.data or "",
                    services=chosen,
                    actor=current_user,
                ),
                form,
                default="",
            ):
                flash(_("Step saved."), "success")
                return redirect(url_for("pathways.version", public_id=version.public_id))
        return render_template(
            "pathways/step_form.html", form=form, version=version, step=step
        ), 400
    return render_template("pathways/step_form.html", form=form, version=version, step=step)


@blueprint.route("/versions/<public_id>/steps/<step_id>/<action>", methods=["POST"])
@requires(Permission.MANAGE_PATHWAYS)
def step_action(public_id: str, step_id: str, action: str) -> Page:
    version = _version(public_id)
    step = _step(version, step_id)
    if action not in ("up", "down", "delete") or not ActionForm().validate():
        abort(400)
    done = attempt(
        lambda: (
            services.delete_step(version, step, actor=current_user)
            if action == "delete"
            else services.move_step(version, step, -1 if action == "up" else 1, actor=current_user)
        )
    )
    if not done:
        flash(done.message, "error")
    return redirect(url_for("pathways.version", public_id=version.public_id))


_SIMPLE_TRANSITIONS = {
    "submit": (PathwayStatus.IN_REVIEW, _l("Sent for review.")),
    "return": (PathwayStatus.DRAFT, _l("Returned to draft.")),
    "archive": (PathwayStatus.ARCHIVED, _l("Version archived.")),
}


@blueprint.route("/versions/<public_id>/<action>", methods=["POST"])
@requires(Permission.MANAGE_PATHWAYS)
def move(public_id: str, action: str) -> Page:
    version = _version(public_id)
    if action not in _SIMPLE_TRANSITIONS:
        abort(400)
    target, message = _SIMPLE_TRANSITIONS[action]
    if target is PathwayStatus.ARCHIVED:
        # Archiving cannot be undone (a published version stops applying at once).
        archive_form = ArchiveForm()
        if not archive_form.validate():
            return _version_page(version, 400, archive_form)
    elif not ActionForm().validate():
        abort(400)
    moved = attempt(lambda: services.transition(version, target, actor=current_user))
    if not moved:
        flash(
            moved.message or _("This version cannot make that move from its current state."),
            "error",
        )
        return redirect(url_for("pathways.version", public_id=public_id))
    flash(str(message), "success")
    return redirect(url_for("pathways.version", public_id=public_id))


@blueprint.route("/versions/<public_id>/publish", methods=["GET", "POST"])
@requires(Permission.PUBLISH_PATHWAYS)
def publish(public_id: str) -> Page:
    version = _version(public_id)
    current = services.published_version(version.area)
    form = PublishForm()
    if request.method == "GET":
        form.replaces.data = current.public_id if current else ""
    elif form.validate():
        published = attempt(
            lambda: services.transition(
                version,
                PathwayStatus.PUBLISHED,
                actor=current_user,
                replaces=form.replaces.data or "",
            )
        )
        if published.status == 409:
            form.form_errors.append(
                _(
                    "Only a version in review can be published; this one is %(state)s.",
                    state=version.status.value,
                )
            )
        elif not published:
            form.form_errors.append(published.message)
        else:
            flash(_("Version %(n)d is published.", n=version.number), "success")
            return redirect(url_for("pathways.area", public_id=version.area.public_id))
        return _publish_page(version, form, current, 409)
    else:
        return _publish_page(version, form, current, 400)
    return _publish_page(version, form, current)


def _publish_page(
    version: PathwayVersion, form: PublishForm, current: PathwayVersion | None, status: int = 200
) -> Page:
    return render_template(
        "pathways/publish.html",
        form=form,
        version=version,
        current=current,
        four_eyes=services.four_eyes(),
        publish_refusal=services.publish_refusal(version, current_user),
    ), status


@blueprint.route("/versions/<public_id>/compare")
@requires(Permission.READ_PATHWAYS)
def compare(public_id: str) -> Page:
    version = _version(public_id)
    other_id = request.args.get("with", "")
    other = _version(other_id) if other_id else None
    if other is None or other.area_id != version.area_id:
        abort(404)
    old, new = sorted((version, other), key=lambda v: v.number)
    return render_template(
        "pathways/compare.html",
        old=old,
        new=new,
        lines=services.diff_versions(old, new, dict(SECTOR_LABELS)),
    )
