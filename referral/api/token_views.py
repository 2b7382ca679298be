"""API token pages: everyone manages their own tokens; administrators create service
accounts, issue their tokens and revoke anyone's. Ordinary pages: session and CSRF."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.admin.services import organisation_choices
from referral.api import tokens
from referral.api.forms import SCOPE_LABELS, RevokeForm, ServiceAccountForm, TokenForm
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.db.work import attempt
from referral.forms import blank_first
from referral.labels import ROLE_LABELS
from referral.security.policy import (
    Permission,
    Role,
    Scope,
    deny,
    requires,
    scopes_for,
    signed_in,
)
from referral.security.records import find, load_or_404

blueprint = Blueprint("tokens", __name__, url_prefix="/api-tokens")

Page = str | tuple[str, int] | Response


def _token_form(owner: User) -> TokenForm:
    form = TokenForm()
    form.scopes.choices = [(s.value, str(SCOPE_LABELS[s.value])) for s in scopes_for(owner)]
    if request.method == "GET":
        form.days.data = int(current_app.config["API_TOKEN_DEFAULT_DAYS"])
        form.scopes.data = [choice for choice, _label in form.scopes.choices]
    return form


def _issue(owner: User, form: TokenForm) -> tokens.IssuedToken | None:
    if not form.validate():
        return None
    done = attempt(
        lambda: tokens.issue_token(
            owner,
            name=form.name.data or "",
            scopes=[Scope(value) for value in form.scopes.data or []],
            days=int(form.days.data or 0),
            actor=current_user,
        ),
        form,
    )
    return done.value if done else None


def _page(template: str, owner: User, form: TokenForm, status: int = 200, **extra: object) -> Page:
    html = render_template(
        template,
        owner=owner,
        form=form,
        tokens=tokens.tokens_of(owner),
        revoke=RevokeForm(formdata=None),
        now=utcnow(),
        scope_labels=SCOPE_LABELS,
        usable=bool(scopes_for(owner)),
        **extra,
    )
    return (html, status) if status != 200 else html


def _tokens_page(template: str, owner: User) -> Page:
    """An account's tokens and the form to issue one; a new token's secret is shown on
    the answer to the POST only (never stored, never shown again)."""
    form = _token_form(owner)
    if request.method == "POST":
        issued = _issue(owner, form)
        if issued is None:
            return _page(template, owner, form, 400)
        return _page(template, owner, _token_form(owner), issued=issued)
    return _page(template, owner, form)


@blueprint.route("/", methods=["GET", "POST"])
@signed_in
def index() -> Page:
    """The user's own tokens; a new token's secret is shown on this answer only."""
    return _tokens_page("tokens/index.html", current_user._get_current_object())


@blueprint.route("/<public_id>/revoke", methods=["POST"])
@signed_in
def revoke(public_id: str) -> Response:
    token = tokens.token_by_public_id(public_id)
    if token is None or not tokens.may_revoke(current_user, token):
        deny("token not the user's", status=404, obj_type="api_token", obj_id=public_id)
    if RevokeForm().validate():
        tokens.revoke_token(token, actor=current_user)
        flash(_("Token %(name)s revoked.", name=token.name), "success")
    if token.user_id == current_user.id:
        return redirect(url_for("tokens.index"))
    if token.user.service_account:
        return redirect(url_for("tokens.service_account", public_id=token.user.public_id))
    return redirect(url_for("tokens.all_tokens"))


# --- administrators ---------------------------------------------------------------------------


def _account_form() -> ServiceAccountForm:
    form = ServiceAccountForm()
    form.organisation.choices = blank_first(organisation_choices())
    form.role.choices = blank_first(
        (role.value, str(ROLE_LABELS[role])) for role in Role if tokens.role_has_api_use(role)
    )
    return form


@blueprint.route("/service-accounts", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def service_accounts() -> Page:
    form = _account_form()
    status = 200
    if request.method == "POST":
        organisation = find(Organisation, form.organisation.data)
        if form.validate() and organisation is not None:
            done = attempt(
                lambda: tokens.create_service_account(
                    organisation,
                    name=form.name.data or "",
                    role=Role(form.role.data),
                    actor=current_user,
                ),
                form,
            )
            if done:
                flash(_("Service account created. Now issue it a token."), "success")
                return redirect(url_for("tokens.service_account", public_id=done.value.public_id))
        status = 400
    html = render_template(
        "tokens/service_accounts.html", form=form, accounts=tokens.service_accounts()
    )
    return (html, status) if status != 200 else html


def _service_account_or_404(public_id: str) -> User:
    return load_or_404(
        User, public_id, may=User.service_account.is_(True), obj_type="service_account"
    )


@blueprint.route("/service-accounts/<public_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def service_account(public_id: str) -> Page:
    return _tokens_page("tokens/service_account.html", _service_account_or_404(public_id))


@blueprint.route("/all")
@requires(Permission.MANAGE_USERS)
def all_tokens() -> str:
    """Every token that still works, newest first (at most 500), for revoking."""
    now = utcnow()
    return render_template(
        "tokens/all.html",
        tokens=tokens.usable_tokens(now),
        revoke=RevokeForm(formdata=None),
        now=now,
    )
