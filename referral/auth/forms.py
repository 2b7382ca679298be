from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from referral.auth import services
from referral.db import User
from referral.forms import confirmation_field, no_control_characters, strip_filter
from referral.messages import lazy_gettext as _l
from referral.security.passwords import MAX_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), no_control_characters],
        filters=[strip_filter],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=40), no_control_characters],
        filters=[strip_filter],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )
    submit = SubmitField(_l("Verify"))


class EnrolForm(FlaskForm):
    code = StringField(
        _l("6-digit code shown by your authenticator app"),
        validators=[DataRequired(), Length(min=6, max=8), no_control_characters],
        filters=[strip_filter],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Confirm and continue"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set password"))


class ReauthenticationForm(FlaskForm):
    """The password and a current authenticator code, asked again before a change that a
    stolen session alone must not make (new recovery codes, password, second factor,
    signing out everywhere)."""

    current = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Code from your authenticator app now"),
        validators=[DataRequired(), Length(min=6, max=8), no_control_characters],
        filters=[strip_filter],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )

    def reauthenticates(self, user: User, purpose: str) -> bool:
        """True when the password and code are right; else an error on the password field
        (the failure is audited and counted)."""
        if services.reauthenticate(
            user, self.current.data or "", self.code.data or "", purpose=purpose
        ):
            return True
        self.current.errors.append(_l("The password or the authenticator code is not correct."))
        return False


class ChangePasswordForm(NewPasswordForm, ReauthenticationForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmForm(FlaskForm):
    """A POST-only action with nothing to fill in (CSRF token only)."""

    submit = SubmitField(_l("Confirm"))


class NewRecoveryCodesForm(ReauthenticationForm):
    confirm = confirmation_field(
        _l(
            "This cannot be undone: your current recovery codes stop working at once, "
            "including any you have written down."
        )
    )


class SignOutEverywhereForm(ReauthenticationForm):
    confirm = confirmation_field(
        _l(
            "This cannot be undone: every session of your account ends at once, this one "
            "included; you sign in again with your password and authenticator."
        )
    )


# Each language named in itself, so anyone can find their own.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية"}


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=[("", _l("As my browser asks")), *LANGUAGE_NAMES.items()],
        validate_choice=True,
    )
    submit = SubmitField(_l("Save language"))
