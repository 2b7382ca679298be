"""Administration pages: organisations and users."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.admin import lists, services
from referral.admin.forms import (
    ListItemEditForm,
    ListItemForm,
    OrganisationForm,
    ResetPasswordForm,
    ResetTwoFactorForm,
    UserForm,
)
from referral.auth.throttle import reauthentication_limit
from referral.db import Organisation, OrganisationType, User
from referral.db.work import attempt
from referral.forms import blank_first
from referral.security.policy import Permission, Role, requires
from referral.security.records import load_or_404

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.context_processor
def _list_labels() -> dict[str, object]:
    return {"list_labels": lists.LIST_LABELS}


Page = str | tuple[str, int] | Response


def _organisation_data(form: OrganisationForm) -> services.OrganisationData:
    return services.OrganisationData(
        name=form.name.data or "",
        acronym=form.acronym.data or "",
        org_type=OrganisationType(form.org_type.data),
        provides_services=bool(form.provides_services.data),
        time_zone=form.time_zone.data or "UTC",
        active=bool(form.active.data),
    )


@blueprint.route("/organisations")
@requires(Permission.MANAGE_ORGANISATIONS)
def organisations() -> Page:
    return render_template("admin/organisations.html", organisations=services.all_organisations())


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_ORGANISATIONS)
def new_organisation() -> Page:
    form = OrganisationForm()
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.create_organisation(_organisation_data(form), actor=current_user),
            form,
        ):
            flash(_("Organisation created."), "success")
            return redirect(url_for("admin.organisations"))
        return render_template("admin/organisation_form.html", form=form, organisation=None), 400
    return render_template("admin/organisation_form.html", form=form, organisation=None)


@blueprint.route("/organisations/<public_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_ORGANISATIONS)
def edit_organisation(public_id: str) -> Page:
    organisation = load_or_404(Organisation, public_id, obj_type="organisation")
    form = OrganisationForm(obj=organisation)
    form.currently_active = organisation.active
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.update_organisation(
                organisation, _organisation_data(form), actor=current_user
            ),
            form,
        ):
            flash(_("Organisation saved."), "success")
            return redirect(url_for("admin.organisations"))
        return render_template(
            "admin/organisation_form.html", form=form, organisation=organisation
        ), 400
    return render_template("admin/organisation_form.html", form=form, organisation=organisation)


@blueprint.route("/users")
@requires(Permission.MANAGE_USERS)
def users() -> Page:
    return render_template("admin/users.html", users=services.all_users())


def _user_form(user: User | None = None, *, posted: bool = True) -> UserForm:
    """The user form; ``posted=False`` shows the stored user even on a POST (another form of
    the page was sent)."""
    form = UserForm(obj=user) if posted else UserForm(formdata=None, obj=user)
    form.organisation.choices = blank_first(services.organisation_choices())
    if user is not None:
        form.currently_active = user.active
        if request.method == "GET" or not posted:
            form.organisation.data = user.organisation.public_id
            form.role.data = user.role.value
    return form


def _user_page(
    user: User,
    form: UserForm,
    status: int = 200,
    *,
    reset_password_form: ResetPasswordForm | None = None,
    reset_two_factor_form: ResetTwoFactorForm | None = None,
) -> Page:
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_password_form=reset_password_form
        or ResetPasswordForm(formdata=None, prefix="reset-password"),
        reset_two_factor_form=reset_two_factor_form
        or ResetTwoFactorForm(formdata=None, prefix="reset-2fa"),
    ), status


def _user_data(form: UserForm, user: User | None) -> services.UserData:
    """The form's values; a new user is active (the form shows the box only for a stored
    user, and a box that is not shown would read as unticked)."""
    return services.UserData(
        email=form.email.data or "",
        full_name=form.full_name.data or "",
        role=Role(form.role.data),
        organisation=load_or_404(
            Organisation, form.organisation.data or "", obj_type="organisation"
        ),
        active=bool(form.active.data) if user is not None else True,
    )


@blueprint.route("/users/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def new_user() -> Page:
    form = _user_form()
    if request.method == "POST":
        created = (
            attempt(lambda: services.create_user(_user_data(form, None), actor=current_user), form)
            if form.validate()
            else None
        )
        if created:
            user, one_time_password = created.value
            return render_template(
                "admin/one_time_password.html", user=user, password=one_time_password
            )
        return render_template("admin/user_form.html", form=form, user=None), 400
    return render_template("admin/user_form.html", form=form, user=None)


@blueprint.route("/users/<public_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def edit_user(public_id: str) -> Page:
    user = load_or_404(User, public_id, obj_type="user")
    form = _user_form(user)
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: services.update_user(user, _user_data(form, user), actor=current_user), form
        ):
            flash(_("User saved."), "success")
            return redirect(url_for("admin.users"))
        return _user_page(user, form, 400)
    return _user_page(user, form)


@blueprint.route("/users/<public_id>/reset-password", methods=["POST"])
@requires(Permission.MANAGE_USERS)
@reauthentication_limit
def reset_password(public_id: str) -> Page:
    user = load_or_404(User, public_id, obj_type="user")
    form = ResetPasswordForm(prefix="reset-password")
    if not (form.validate() and form.reauthenticates(current_user, "reset_password")):
        return _user_page(user, _user_form(user, posted=False), 400, reset_password_form=form)
    one_time_password = services.reset_password(user, actor=current_user)
    return render_template("admin/one_time_password.html", user=user, password=one_time_password)


@blueprint.route("/users/<public_id>/reset-2fa", methods=["POST"])
@requires(Permission.MANAGE_USERS)
@reauthentication_limit
def reset_two_factor(public_id: str) -> Page:
    user = load_or_404(User, public_id, obj_type="user")
    form = ResetTwoFactorForm(prefix="reset-2fa")
    if not (form.validate() and form.reauthenticates(current_user, "reset_two_factor")):
        return _user_page(user, _user_form(user, posted=False), 400, reset_two_factor_form=form)
    services.reset_two_factor(user, actor=current_user)
    flash(_("Two-factor sign-in was reset. The user enrols again at the next sign-in."), "success")
    return redirect(url_for("admin.edit_user", public_id=user.public_id))


# --- country-adapted lists --------------------------------------------------------------


def _list_or_404(name: str) -> lists.CountryList:
    if name not in lists.CountryList.__members__.values():
        abort(404)
    return lists.CountryList(name)


@blueprint.route("/lists")
@requires(Permission.MANAGE_LISTS)
def lists_index() -> Page:
    counts = {kind: len(lists.items(kind)) for kind in lists.CountryList}
    adapted = {kind: lists.is_adapted(kind) for kind in lists.CountryList}
    return render_template(
        "admin/lists.html", kinds=list(lists.CountryList), counts=counts, adapted=adapted
    )


@blueprint.route("/lists/<name>", methods=["GET", "POST"])
@requires(Permission.MANAGE_LISTS)
def country_list(name: str) -> Page:
    kind = _list_or_404(name)
    form = ListItemForm()
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: lists.add_item(
                kind, form.code.data or "", form.label.data or "", actor=current_user
            ),
            form,
        ):
            flash(_("Item added."), "success")
            return redirect(url_for("admin.country_list", name=kind.value))
        return _list_page(kind, form, 400)
    return _list_page(kind, form)


def _list_page(kind: lists.CountryList, form: ListItemForm, status: int = 200) -> Page:
    return render_template(
        "admin/list.html",
        kind=kind,
        items=lists.items(kind, include_inactive=True),
        adapted=lists.is_adapted(kind),
        form=form,
    ), status


@blueprint.route("/lists/<name>/<code>", methods=["GET", "POST"])
@requires(Permission.MANAGE_LISTS)
def list_item(name: str, code: str) -> Page:
    kind = _list_or_404(name)
    item = next((i for i in lists.items(kind, include_inactive=True) if i.code == code), None)
    if item is None:
        abort(404)
    form = ListItemEditForm(data={"label": item.label, "active": item.active})
    if request.method == "POST":
        if form.validate() and attempt(
            lambda: lists.update_item(
                kind, code, form.label.data or "", bool(form.active.data), actor=current_user
            ),
            form,
        ):
            flash(_("Item saved."), "success")
            return redirect(url_for("admin.country_list", name=kind.value))
        return render_template("admin/list_item.html", kind=kind, item=item, form=form), 400
    return render_template("admin/list_item.html", kind=kind, item=item, form=form)
