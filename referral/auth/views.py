"""Sign-in pages, second factor, sign-out and the user's own account."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.auth import services
from referral.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    EnrolForm,
    LanguageForm,
    NewPasswordForm,
    NewRecoveryCodesForm,
    SecondFactorForm,
    SignInForm,
    SignOutEverywhereForm,
)
from referral.auth.sessions import (
    PENDING_KEY,
    begin_pending,
    end_all_sessions,
    end_session,
    pending_user,
    start_session,
)
from referral.auth.throttle import reauthentication_limit
from referral.db import User
from referral.extensions import limiter
from referral.security import events, totp
from referral.security.policy import partially_signed_in, public, signed_in
from referral.security.sessions import SessionEnd
from referral.workflow import RuleError

blueprint = Blueprint("auth", __name__, url_prefix="/auth")

Page = str | tuple[str, int] | Response


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _pending_key() -> str:
    pending = session.get(PENDING_KEY)
    return "totp:" + (pending.get("user", "") if isinstance(pending, dict) else "")


def _failed(response: Response) -> bool:
    return response.status_code == 401


# Wrong codes per pending sign-in, shared by enrolment and verification.
second_factor_limit = limiter.limit(
    lambda: current_app.config["TOTP_LIMIT_PER_ACCOUNT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="totp",
)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"], scope="sign-in-ip"
)
def sign_in() -> Page:
    if current_user.is_authenticated:
        return redirect(url_for("home.inbox"))
    form = SignInForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("auth/sign_in.html", form=form), 400
        wait = services.sign_in_wait(form.email.data or "")
        if wait:
            form.password.errors.append(
                ngettext(
                    "Too many wrong passwords for this account. Try again in %(num)d second.",
                    "Too many wrong passwords for this account. Try again in %(num)d seconds.",
                    wait,
                )
            )
            return render_template("auth/sign_in.html", form=form), 429
        try:
            user = services.check_credentials(form.email.data or "", form.password.data or "")
        except RuleError as refusal:
            form.password.errors.append(str(refusal))
            return render_template("auth/sign_in.html", form=form), 401
        if user is None:
            form.password.errors.append(_("The e-mail or password is not correct."))
            return render_template("auth/sign_in.html", form=form), 401
        next_target = safe_next(request.args.get("next"))
        begin_pending(user)
        if next_target:
            session["next"] = next_target
        return redirect(url_for(services.next_step_endpoint(user)))
    return render_template("auth/sign_in.html", form=form)


def _pending_or_restart() -> User | Response:
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return user


@blueprint.route("/first-password", methods=["GET", "POST"])
@partially_signed_in
def first_password() -> Page:
    user = _pending_or_restart()
    if isinstance(user, Response):
        return user
    if not user.must_change_password:
        return redirect(url_for(services.next_step_endpoint(user)))
    form = NewPasswordForm()
    if request.method == "POST":
        valid = form.validate()
        problems = services.password_problems(user, form.password.data or "") if valid else []
        if not valid or problems:
            form.password.errors = [*form.password.errors, *problems]
            return render_template("auth/first_password.html", form=form), 400
        services.set_password(user, form.password.data or "")
        keep_next = session.get("next")
        begin_pending(user)  # the session version moved on; carry the sign-in forward
        if keep_next:
            session["next"] = keep_next
        flash(_("Your password is set."), "success")
        return redirect(url_for(services.next_step_endpoint(user)))
    return render_template("auth/first_password.html", form=form)


@blueprint.route("/enrol", methods=["GET", "POST"])
@partially_signed_in
@second_factor_limit
def enrol() -> Page:
    user = _pending_or_restart()
    if isinstance(user, Response):
        return user
    if user.must_change_password or user.has_totp:
        return redirect(url_for(services.next_step_endpoint(user)))
    secret = services.ensure_enrolment_secret(user)
    uri = services.enrolment_uri(user, secret)
    form = EnrolForm()
    context = {"form": form, "secret": secret, "qr_svg": totp.qr_svg(uri)}
    if request.method == "POST":
        if not form.validate():
            return render_template("auth/enrol.html", **context), 400
        codes = services.confirm_enrolment(user, form.code.data or "")
        if codes is None:
            form.code.errors.append(
                _("That code is not right. Check your phone's clock and try the next code.")
            )
            return render_template("auth/enrol.html", **context), 401
        next_target = session.get("next")
        start_session(user)
        return render_template(
            "auth/recovery_codes.html", codes=codes, next_target=safe_next(next_target)
        )
    return render_template("auth/enrol.html", **context)


@blueprint.route("/verify", methods=["GET", "POST"])
@partially_signed_in
@second_factor_limit
def second_factor() -> Page:
    user = _pending_or_restart()
    if isinstance(user, Response):
        return user
    if user.must_change_password or not user.has_totp:
        return redirect(url_for(services.next_step_endpoint(user)))
    form = SecondFactorForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("auth/second_factor.html", form=form), 400
        if not services.verify_second_factor(user, form.code.data or ""):
            form.code.errors.append(_("That code is not right, or it was already used."))
            return render_template("auth/second_factor.html", form=form), 401
        next_target = safe_next(session.get("next"))
        start_session(user)
        remaining = services.remaining_recovery_codes(user)
        if remaining <= 3:
            flash(
                _(
                    "You have %(n)d recovery codes left. Create new ones on your account page.",
                    n=remaining,
                ),
                "warning",
            )
        return redirect(next_target or url_for("home.inbox"))
    return render_template("auth/second_factor.html", form=form)


@blueprint.route("/sign-out", methods=["POST"])
@signed_in
def sign_out() -> Response:
    ConfirmForm().validate_on_submit()  # CSRF checked globally; nothing else to read
    end_session(SessionEnd.SIGNED_OUT)
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/sign-out-everywhere", methods=["POST"])
@signed_in
@reauthentication_limit
def sign_out_everywhere() -> Page:
    user: User = current_user._get_current_object()
    form = SignOutEverywhereForm(prefix="everywhere")
    if not (form.validate() and form.reauthenticates(user, "sign_out_everywhere")):
        return _account_page(user, ChangePasswordForm(formdata=None), 400, everywhere=form)
    end_all_sessions(user, reason="sign_out_everywhere")
    end_session(SessionEnd.REVOKED)
    flash(_("You are signed out on every device."), "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/account", methods=["GET"])
@signed_in
def account() -> Page:
    user: User = current_user._get_current_object()
    return _account_page(user, ChangePasswordForm())


def _account_page(
    user: User,
    form: ChangePasswordForm,
    status: int = 200,
    *,
    codes: NewRecoveryCodesForm | None = None,
    everywhere: SignOutEverywhereForm | None = None,
) -> tuple[str, int]:
    return render_template(
        "auth/account.html",
        form=form,
        codes_form=codes or NewRecoveryCodesForm(formdata=None, prefix="codes"),
        everywhere_form=everywhere or SignOutEverywhereForm(formdata=None, prefix="everywhere"),
        language=LanguageForm(locale=user.locale or ""),
        remaining_codes=services.remaining_recovery_codes(user),
        admin_resets=services.admin_resets(user),
        reset_labels={
            "admin.password_reset": _("Password reset"),
            "admin.two_factor_reset": _("Two-factor sign-in reset"),
        },
    ), status


@blueprint.route("/account/password", methods=["POST"])
@signed_in
@reauthentication_limit
def change_password() -> Page:
    user: User = current_user._get_current_object()
    form = ChangePasswordForm()
    valid = form.validate() and form.reauthenticates(user, "password_change")
    problems = services.password_problems(user, form.password.data or "") if valid else []
    if not valid or problems:
        form.password.errors = [*form.password.errors, *problems]
        return _account_page(user, form, 400)
    services.set_password(user, form.password.data or "")
    end_session(SessionEnd.REVOKED)
    flash(_("Your password is changed. Please sign in with the new password."), "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/account/recovery-codes", methods=["POST"])
@signed_in
@reauthentication_limit
def new_recovery_codes() -> Page:
    user: User = current_user._get_current_object()
    form = NewRecoveryCodesForm(prefix="codes")
    if not (form.validate() and form.reauthenticates(user, "new_recovery_codes")):
        return _account_page(user, ChangePasswordForm(formdata=None), 400, codes=form)
    codes = services.replace_recovery_codes(user)
    events.emit("auth.recovery_codes_replaced", user=user)
    return render_template("auth/recovery_codes.html", codes=codes, next_target=None)


@blueprint.route("/account/language", methods=["POST"])
@signed_in
def set_language() -> Page:
    user: User = current_user._get_current_object()
    form = LanguageForm()
    if not form.validate():
        return _account_page(user, ChangePasswordForm(), 400)
    user.locale = form.locale.data or None
    events.emit("auth.language_changed", user=user, detail={"locale": user.locale or ""})
    flash(_("Language saved."), "success")
    return redirect(url_for("auth.account"))
