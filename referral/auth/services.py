"""Sign-in rules, free of HTTP: credentials, password changes, second factor."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from referral.audit.models import AuditEvent
from referral.auth import throttle
from referral.clock import utcnow
from referral.db import RecoveryCode, User
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.security import events, passwords, totp
from referral.workflow import RuleError


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_credentials(email: str, password: str) -> User | None:
    """The user when e-mail and password match an active account, else None.

    Unknown accounts cost the same argon2 verification as wrong passwords, and every
    failure looks the same to the caller (no user enumeration). The right one-time
    password after it expired is refused with a :class:`RuleError` saying so.
    """
    user = find_user_by_email(email)
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active or user.service_account:
        if not valid:
            throttle.note_failure(email)
        events.emit(
            "auth.sign_in_failed",
            outcome="denied",
            user=user,
            detail={"reason": "inactive" if valid and user else "bad_credentials"},
        )
        db.session.commit()
        return None
    throttle.forget_failures(email)
    expires = user.one_time_password_expires_at
    if user.must_change_password and expires is not None and utcnow() >= expires:
        # Only someone holding the password learns that it expired.
        events.emit(
            "auth.sign_in_failed",
            outcome="denied",
            user=user,
            detail={"reason": "one_time_password_expired"},
        )
        db.session.commit()
        raise RuleError(
            "password",
            _l("This one-time password has expired. Ask your administrator to set a new one."),
        )
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    events.emit("auth.password_accepted", user=user)
    db.session.commit()
    return user


def sign_in_wait(email: str) -> int:
    """Seconds before a password for this address is checked again (0: now).

    A refused attempt is audited; it costs no password verification.
    """
    wait = throttle.seconds_to_wait(email)
    if wait:
        events.emit(
            "auth.sign_in_delayed",
            outcome="denied",
            user=find_user_by_email(email),
            detail={"wait_seconds": wait},
        )
        db.session.commit()
    return wait


def password_problems(user: User, password: str) -> list[str]:
    verdict = passwords.check_strength(
        password, personal=[user.email, user.full_name, *user.email.split("@")]
    )
    messages = {
        "too_short": _("Use at least %(n)d characters.", n=passwords.MIN_LENGTH),
        "too_long": _("Use at most %(n)d characters.", n=passwords.MAX_LENGTH),
        "too_guessable": _(
            "This password is too easy to guess. Add more unrelated words; avoid names, "
            "dates and common phrases."
        ),
    }
    problems = [messages[p] for p in verdict.problems]
    if not problems and passwords.verify_password(user.password_hash, password):
        problems.append(_("Choose a password different from the current one."))
    return problems


def set_password(user: User, password: str) -> None:
    """Store a new password and revoke every existing session (caller commits)."""
    from referral.auth.sessions import end_all_sessions

    user.password_hash = passwords.hash_password(password)
    user.must_change_password = False
    user.one_time_password_expires_at = None
    user.password_changed_at = utcnow()
    end_all_sessions(user, reason="password_changed")
    events.emit("auth.password_changed", user=user, obj_type="user", obj_id=user.public_id)


def ensure_enrolment_secret(user: User) -> str:
    """The secret being enrolled; a new one is drawn until enrolment is confirmed."""
    if user.has_totp:
        raise ValueError("user already enrolled")
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        db.session.commit()
    return user.totp_secret


def enrolment_uri(user: User, secret: str) -> str:
    return totp.provisioning_uri(secret, user.email, current_app.config["TOTP_ISSUER"])


def _accept_totp(user: User, code: str) -> bool:
    """Accept a code once: a step at or before the last accepted one is a replay."""
    if not user.totp_secret:
        return False
    step = totp.matching_step(user.totp_secret, code, utcnow())
    if step is None:
        return False
    if step <= user.totp_last_step:
        events.emit("auth.totp_replay", outcome="denied", user=user)
        return False
    user.totp_last_step = step
    return True


def reauthenticate(user: User, password: str, code: str, *, purpose: str) -> bool:
    """The password and a current TOTP code (not a recovery code, not a replay) again,
    before ``purpose``; a failure is audited."""
    password_ok = passwords.verify_password(user.password_hash, password)
    if password_ok and _accept_totp(user, code):
        return True
    throttle.note_reauthentication_failure()
    events.emit(
        "auth.reauthentication_failed",
        outcome="denied",
        user=user,
        obj_type="user",
        obj_id=user.public_id,
        detail={"purpose": purpose, "reason": "code" if password_ok else "password"},
    )  # a denied event: kept when the refused request is rolled back
    return False


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Confirm the authenticator with a first code; returns the recovery codes (shown once)."""
    if user.has_totp or not _accept_totp(user, code):
        events.emit("auth.totp_enrol_failed", outcome="denied", user=user)
        db.session.commit()
        return None
    user.totp_enrolled_at = utcnow()
    codes = replace_recovery_codes(user)
    events.emit("auth.totp_enrolled", user=user)
    db.session.commit()
    return codes


def replace_recovery_codes(user: User) -> list[str]:
    codes = totp.new_recovery_codes()
    user.recovery_codes = [RecoveryCode(code_hash=totp.hash_recovery_code(c)) for c in codes]
    return codes


def verify_second_factor(user: User, code: str) -> bool:
    """A TOTP code (not replayed) or an unused recovery code, which is then spent."""
    if _accept_totp(user, code):
        events.emit("auth.totp_verified", user=user)
        db.session.commit()
        return True
    digest = totp.hash_recovery_code(code)
    if len(totp.normalise_recovery_code(code)) == 20:
        recovery = db.session.scalar(
            select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == digest,
                RecoveryCode.used_at.is_(None),
            )
            .with_for_update()
        )
        if recovery is not None:
            recovery.used_at = utcnow()
            events.emit("auth.recovery_code_used", user=user)
            db.session.commit()
            return True
    events.emit("auth.second_factor_failed", outcome="denied", user=user)
    db.session.commit()
    return False


def remaining_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


def next_step_endpoint(user: User) -> str:
    """Where a user who passed the password goes next."""
    if user.must_change_password:
        return "auth.first_password"
    if not user.has_totp:
        return "auth.enrol"
    return "auth.second_factor"


ADMIN_RESET_ACTIONS = ("admin.password_reset", "admin.two_factor_reset")


def admin_resets(user: User, *, limit: int = 5) -> list[tuple[str, datetime]]:
    """The latest resets of the user's password or second factor by an administrator, from
    the audit log (which an administrator cannot edit), newest first."""
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.occurred_at)
        .where(
            AuditEvent.obj_type == "user",
            AuditEvent.obj_id == user.public_id,
            AuditEvent.action.in_(ADMIN_RESET_ACTIONS),
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [(action, when) for action, when in rows]
