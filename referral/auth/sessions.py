"""Server-side sessions: the cookie holds a random token; the server decides if it is alive.

Every request of a signed-in user checks its session row: ended, older than the
absolute timeout, idle too long, issued before the user's session version was bumped,
or belonging to a deactivated user -> the session ends and the user signs in again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from referral.clock import utcnow
from referral.db import AuthSession, Organisation, User
from referral.extensions import db, login_manager
from referral.formatting import when_text
from referral.messages import lazy_gettext as _l
from referral.security import events
from referral.security.policy import (
    Access,
    Requirement,
    Scope,
    authenticate_token,
    deny,
    requirement_of,
    satisfies,
    token_may,
    token_scope_of,
)
from referral.security.sessions import SessionEnd, expiry_reason, new_token, token_digest

PENDING_KEY = "pending_sign_in"
TOKEN_KEY = "sid"  # noqa: S105 - the session key name, not a secret
PENDING_LIFETIME = timedelta(minutes=10)


def _timeouts() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )


def start_session(user: User) -> None:
    """Finish sign-in: a brand-new session (nothing of the old cookie survives)."""
    session.clear()
    token = new_token()
    now = utcnow()
    db.session.add(
        AuthSession(
            token_hash=token_digest(token),
            user_id=user.id,
            session_version=user.session_version,
            created_at=now,
            last_seen_at=now,
            client_address=request.remote_addr,
        )
    )
    user.last_sign_in_at = now
    session[TOKEN_KEY] = token
    login_user(user, remember=False, fresh=True)
    events.emit("auth.sign_in", user=user)
    _tell_of_admin_resets(user)
    db.session.commit()


def _tell_of_admin_resets(user: User) -> None:
    """Once, at the first sign-in after it, tell the user that an administrator reset their
    password or second factor: the one way an administrator can take an account over."""
    resets = (
        (
            "password",
            user.password_reset_by_admin_at,
            _l(
                "Your password was reset by an administrator on %(when)s. "
                "If you did not ask for this, report it at once."
            ),
        ),
        (
            "two_factor",
            user.two_factor_reset_by_admin_at,
            _l(
                "Your two-factor sign-in was reset by an administrator on %(when)s. "
                "If you did not ask for this, report it at once."
            ),
        ),
    )
    told = [kind for kind, when, _message in resets if when is not None]
    if not told:
        return
    for _kind, when, message in resets:
        if when is not None:
            flash(str(message) % {"when": when_text(when)}, "warning")
    user.password_reset_by_admin_at = None
    user.two_factor_reset_by_admin_at = None
    events.emit(
        "auth.admin_reset_notice_shown",
        user=user,
        obj_type="user",
        obj_id=user.public_id,
        detail={"resets": told},
    )


def end_session(reason: SessionEnd) -> None:
    row: AuthSession | None = g.get("auth_session")
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
    events.emit("auth.sign_out", user=user, detail={"reason": reason.value})
    db.session.commit()
    logout_user()
    session.clear()


def end_all_sessions(user: User, reason: str) -> None:
    """Revoke every session of the user (caller commits): sign out everywhere, password
    change, role or organisation change, deactivation."""
    user.revoke_sessions()
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    events.emit(
        "auth.sessions_revoked",
        user=user,
        obj_type="user",
        obj_id=user.public_id,
        detail={"reason": reason},
    )


# What every signed-in request reads of the user and their organisation: who they are,
# what they may do, how pages speak to them, and whether the session still holds. The
# password hash, the second-factor secret and the sign-in bookkeeping stay in the
# database unless a page asks for them (loaded on access).
SESSION_USER = joinedload(AuthSession.user).load_only(
    User.public_id,
    User.email,
    User.full_name,
    User.role,
    User.organisation_id,
    User.active,
    User.locale,
    User.service_account,
    User.session_version,
)
SESSION_ORGANISATION = SESSION_USER.joinedload(User.organisation).load_only(
    Organisation.public_id,
    Organisation.name,
    Organisation.acronym,
    Organisation.org_type,
    Organisation.provides_services,
    Organisation.time_zone,
    Organisation.active,
)


def _load_user(public_id: str) -> User | None:
    token = session.get(TOKEN_KEY)
    if not token:
        return None
    row = db.session.scalar(
        select(AuthSession)
        .where(AuthSession.token_hash == token_digest(token))
        .options(SESSION_ORGANISATION)
    )
    if row is None or row.ended_at is not None or row.user.public_id != public_id:
        session.clear()
        return None
    now = utcnow()
    idle, absolute = _timeouts()
    reason = expiry_reason(
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        now=now,
        idle_timeout=idle,
        absolute_timeout=absolute,
    )
    if reason is None and row.session_version != row.user.session_version:
        reason = SessionEnd.REVOKED
    if reason is None and not row.user.is_active:
        reason = SessionEnd.INACTIVE_USER
    if reason is not None:
        row.ended_at = now
        events.emit("auth.session_ended", user=row.user, detail={"reason": reason.value})
        db.session.commit()
        session.clear()
        g.session_end_reason = reason
        return None
    if now - row.last_seen_at >= timedelta(minutes=current_app.config["SESSION_TOUCH_MINUTES"]):
        row.last_seen_at = now
        db.session.commit()
    g.auth_session = row
    return row.user


def pending_user() -> User | None:
    """The user who passed the password step but not yet the second factor."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    started = pending.get("at", 0)
    if utcnow().timestamp() - float(started) > PENDING_LIFETIME.total_seconds():
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.scalar(select(User).where(User.public_id == pending.get("user")))
    if user is None or not user.is_active or user.session_version != pending.get("version"):
        session.pop(PENDING_KEY, None)
        return None
    return user


def begin_pending(user: User) -> None:
    session.clear()
    session[PENDING_KEY] = {
        "user": user.public_id,
        "version": user.session_version,
        "at": utcnow().timestamp(),
    }


def session_expires_in_seconds() -> int | None:
    """Seconds until the idle timeout, for the expiry warning on pages."""
    row: AuthSession | None = g.get("auth_session")
    if row is None:
        return None
    idle, absolute = _timeouts()
    now = utcnow()
    remaining = min(row.last_seen_at + idle - now, row.created_at + absolute - now)
    return max(0, int(remaining.total_seconds()))


def _enforce_declared_access() -> Response | None:
    """Every endpoint declared what it needs (policy module); refuse the rest."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    requirement = requirement_of(view)
    if requirement is None:
        deny("endpoint declares no permission", status=403)
    scope = token_scope_of(view)
    if scope is not None:
        _enforce_token_access(requirement, scope)
        return None
    if requirement is Access.PUBLIC:
        return None
    if requirement is Access.PARTIAL:
        if pending_user() is None:
            flash(_("Please sign in."), "info")
            return redirect(url_for("auth.sign_in"))
        return None
    if not current_user.is_authenticated:
        return _send_to_sign_in()
    if not satisfies(current_user, requirement):
        wanted = requirement if isinstance(requirement, tuple) else (requirement,)
        deny("role lacks permission", status=403, permission=",".join(wanted))
    return None


def _enforce_token_access(requirement: Requirement, scope: Scope | str) -> None:
    """A token endpoint: the bearer token alone says who calls; the browser session
    (cookie) plays no part, so a page cannot be made to call the API on a user's behalf
    (the API has no CSRF token)."""
    g._login_user = login_manager.anonymous_user()  # never the session's user
    grant = authenticate_token()
    if grant is None:
        deny("no valid API token", status=401)
    g._login_user = grant.actor
    g.api_token_id = grant.token_id
    refusal = token_may(grant, requirement, scope)
    if refusal is not None:
        wanted = requirement if isinstance(requirement, tuple) else (requirement,)
        deny(refusal, status=403, permission=",".join(str(w) for w in wanted))


def _send_to_sign_in() -> Response:
    reason = g.get("session_end_reason")
    if reason in (SessionEnd.IDLE, SessionEnd.ABSOLUTE):
        flash(_("Your session expired. Please sign in again."), "info")
    elif reason is not None:
        flash(_("Your session was ended. Please sign in again."), "info")
    else:
        flash(_("Please sign in."), "info")
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=target.rstrip("?") if target else None))


def init_sessions(app: Flask) -> None:
    login_manager.session_protection = None  # our server-side sessions do this job
    login_manager.user_loader(_load_user)

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        return _send_to_sign_in()

    app.before_request(_enforce_declared_access)
