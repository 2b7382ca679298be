"""Directory pages: the service browser (every signed-in role), areas and services
(GBV coordinators)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from referral.admin.services import organisation_choices
from referral.db import Organisation
from referral.db.work import attempt
from referral.directory import services
from referral.directory.forms import AreaForm, AreaImportForm, ServiceForm, ServiceSearchForm
from referral.directory.labels import (
    AGE_GROUP_LABELS,
    AREA_LEVEL_LABELS,
    COST_LABELS,
    SECTOR_LABELS,
    SERVICE_STATUS_CLASSES,
    SERVICE_STATUS_LABELS,
    SEX_LABELS,
)
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
from referral.forms import blank_first
from referral.i18n import in_current_language
from referral.security.policy import Permission, requires
from referral.security.records import find

blueprint = Blueprint("directory", __name__, url_prefix="/directory")

Page = str | tuple[str, int] | Response


@blueprint.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "sector_labels": in_current_language(SECTOR_LABELS),
        "service_status_labels": in_current_language(SERVICE_STATUS_LABELS),
        "service_status_classes": SERVICE_STATUS_CLASSES,
        "age_group_labels": in_current_language(AGE_GROUP_LABELS),
        "sex_labels": in_current_language(SEX_LABELS),
        "area_level_labels": in_current_language(AREA_LEVEL_LABELS),
        "cost_labels": in_current_language(COST_LABELS),
        "area_label": services.area_label,
    }


def _area_or_404(public_id: str) -> Area:
    area = services.area_by_public_id(public_id)
    if area is None:
        abort(404)
    return area


def _service_or_404(public_id: str) -> Service:
    service = services.service_by_public_id(public_id)
    if service is None:
        abort(404)
    return service


# --- services ----------------------------------------------------------------------------


@blueprint.route("/")
@requires(Permission.BROWSE_DIRECTORY)
def index() -> Page:
    form = ServiceSearchForm(request.args)
    form.area.choices = services.area_choices(blank=_("Any area"))
    valid = form.validate()
    filters = services.ServiceFilter()
    if valid:
        filters = services.ServiceFilter(
            area=services.area_by_public_id(form.area.data) if form.area.data else None,
            sector=Sector(form.sector.data) if form.sector.data else None,
            age_group=AgeGroup(form.age_group.data) if form.age_group.data else None,
            sex=Sex(form.sex.data) if form.sex.data else None,
            status=ServiceStatus(form.status.data) if form.status.data else None,
        )
    cursor = request.args.get("cursor")
    page = services.search_services(
        filters, cursor=cursor, limit=int(current_app.config["PAGE_SIZE"])
    )
    next_url = None
    if page.next_cursor is not None:
        args = MultiDict(request.args)
        args["cursor"] = page.next_cursor
        next_url = url_for("directory.index") + "?" + urlencode(args.to_dict())
    return render_template(
        "directory/index.html",
        form=form,
        page=page,
        filters=filters,
        next_url=next_url,
        first_url=url_for("directory.index")
        + "?"
        + urlencode({k: v for k, v in request.args.items() if k != "cursor"})
        if cursor
        else None,
    ), (200 if valid else 400)


@blueprint.route("/services/<public_id>")
@requires(Permission.BROWSE_DIRECTORY)
def service(public_id: str) -> Page:
    return render_template("directory/service.html", service=_service_or_404(public_id))


def _service_form(service: Service | None = None) -> ServiceForm:
    form = ServiceForm(obj=service)
    form.organisation.choices = blank_first(organisation_choices(providers_only=True))
    form.areas.choices = services.area_choices()
    if service is not None and request.method == "GET":
        form.organisation.data = service.organisation.public_id
        form.sector.data = service.sector.value
        form.areas.data = [a.public_id for a in service.areas]
        form.age_groups.data = [g.value for g in service.accepted_age_groups]
        form.sexes.data = [s.value for s in service.accepted_sexes]
        form.cost.data = service.cost.value
        form.status.data = service.status.value
    elif service is None and request.method == "GET":
        form.age_groups.data = [g.value for g in AgeGroup]
        form.sexes.data = [s.value for s in Sex]
    return form


def _service_data(form: ServiceForm) -> services.ServiceData:
    organisation = find(Organisation, form.organisation.data)
    if organisation is None:
        abort(400)
    areas = services.areas_by_public_ids(form.areas.data or [])
    return services.ServiceData(
        organisation=organisation,
        sector=Sector(form.sector.data),
        name=form.name.data or "",
        areas=areas,
        address=form.address.data or "",
        opening_hours=form.opening_hours.data or "",
        languages=form.languages.data or "",
        age_groups=[AgeGroup(v) for v in form.age_groups.data or []],
        sexes=[Sex(v) for v in form.sexes.data or []],
        cost=Cost(form.cost.data),
        accessibility=form.accessibility.data or "",
        what_to_bring=form.what_to_bring.data or "",
        focal_point_name=form.focal_point_name.data or "",
        focal_point_phone=form.focal_point_phone.data or "",
        focal_point_email=form.focal_point_email.data or "",
        status=ServiceStatus(form.status.data),
        status_note=form.status_note.data or "",
    )


@blueprint.route("/services/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def new_service() -> Page:
    form = _service_form()
    if request.method == "POST":
        created = (
            attempt(lambda: services.create_service(_service_data(form), actor=current_user), form)
            if form.validate()
            else None
        )
        if created:
            flash(_("Service created."), "success")
            return redirect(url_for("directory.service", public_id=created.value.public_id))
        return render_template("directory/service_form.html", form=form, service=None), 400
    return render_template("directory/service_form.html", form=form, service=None)


@blueprint.route("/services/<public_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def edit_service(public_id: str) -> Page:
    service = _service_or_404(public_id)
    form = _service_form(service)
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.update_service(service, _service_data(form), actor=current_user), form
        ):
            flash(_("Service saved."), "success")
            return redirect(url_for("directory.service", public_id=service.public_id))
        return render_template("directory/service_form.html", form=form, service=service), 400
    return render_template("directory/service_form.html", form=form, service=service)


# --- areas -------------------------------------------------------------------------------


@blueprint.route("/areas")
@requires(Permission.MANAGE_DIRECTORY)
def areas() -> Page:
    return render_template("directory/areas.html", areas=services.all_areas())


def _area_form(area: Area | None = None) -> AreaForm:
    form = AreaForm(obj=area)
    form.parent.choices = services.area_choices(blank=_("(none: a country)"))
    if area is not None and request.method == "GET":
        form.level.data = area.level.value
        form.parent.data = area.parent.public_id if area.parent else ""
    return form


def _area_data(form: AreaForm) -> services.AreaData:
    parent = services.area_by_public_id(form.parent.data) if form.parent.data else None
    return services.AreaData(
        code=form.code.data or "",
        name=form.name.data or "",
        level=AreaLevel(form.level.data),
        parent=parent,
    )


@blueprint.route("/areas/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def new_area() -> Page:
    form = _area_form()
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.create_area(_area_data(form), actor=current_user), form
        ):
            flash(_("Area created."), "success")
            return redirect(url_for("directory.areas"))
        return render_template("directory/area_form.html", form=form, area=None), 400
    return render_template("directory/area_form.html", form=form, area=None)


@blueprint.route("/areas/<public_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def edit_area(public_id: str) -> Page:
    area = _area_or_404(public_id)
    form = _area_form(area)
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.update_area(area, _area_data(form), actor=current_user), form
        ):
            flash(_("Area saved."), "success")
            return redirect(url_for("directory.areas"))
        return render_template("directory/area_form.html", form=form, area=area), 400
    return render_template("directory/area_form.html", form=form, area=area)


@blueprint.route("/areas/import", methods=["GET", "POST"])
@requires(Permission.MANAGE_DIRECTORY)
def import_areas() -> Page:
    form = AreaImportForm()
    result = None
    if request.method == "POST":
        if form.validate():
            raw = form.file.data.read()
            try:
                content = raw.decode("utf-8")
            except UnicodeDecodeError:
                form.file.errors.append(_("The file is not UTF-8 text."))
            else:
                result = services.import_areas_csv(content, actor=current_user)
                if result.ok:
                    flash(
                        _(
                            "Areas imported: %(created)d created, %(updated)d updated.",
                            created=result.created,
                            updated=result.updated,
                        ),
                        "success",
                    )
                    return redirect(url_for("directory.areas"))
        return render_template("directory/area_import.html", form=form, result=result), 400
    return render_template("directory/area_import.html", form=form, result=None)
