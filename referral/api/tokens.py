"""API token rules: issue (shown once), authenticate, revoke; service accounts.

No HTTP here except :func:`authenticate_request`, which reads the request's
``Authorization`` header for the policy (registered in ``init_tokens``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, request
from sqlalchemy import select

from referral.admin import services as admin_services
from referral.api.models import ApiToken
from referral.audit import Outcome, record
from referral.clock import utcnow
from referral.db import Organisation, User
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.security import passwords
from referral.security.policy import (
    Permission,
    Role,
    Scope,
    TokenGrant,
    has_permission,
    register_token_authenticator,
    scopes_for,
)
from referral.workflow import RuleError

TOKEN_PREFIX = "rfl_"  # noqa: S105 - marks the secret's kind (easy to find if leaked)
PREFIX_SHOWN = len(TOKEN_PREFIX) + 6
MAX_NAME_LENGTH = 80
SERVICE_ACCOUNT_DOMAIN = "service-account.invalid"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def max_days() -> int:
    return int(current_app.config["API_TOKEN_MAX_DAYS"])


# --- issuing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def may_issue_for(actor: User | None, owner: User) -> bool:
    """A person issues their own tokens; an administrator issues a service account's;
    the command line (no actor: the operator of the server) issues any."""
    if actor is None:
        return True
    if owner.service_account:
        return has_permission(actor, Permission.MANAGE_USERS)
    return actor.id == owner.id


def may_revoke(actor: User, token: ApiToken) -> bool:
    """The owner revokes their own tokens; an administrator revokes anyone's."""
    return actor.id == token.user_id or has_permission(actor, Permission.MANAGE_USERS)


def issue_token(
    owner: User,
    *,
    name: str,
    scopes: Iterable[Scope],
    days: int,
    actor: User | None,
) -> IssuedToken:
    """A new token for ``owner``. Only its digest is stored."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise RuleError("name", _l("Give the token a name (at most 80 characters)."))
    if not may_issue_for(actor, owner):
        raise RuleError("name", _l("You may not issue tokens for this account."))
    if not owner.is_active:
        raise RuleError("name", _l("This account is not active."))
    wanted = list(dict.fromkeys(scopes))
    if not wanted:
        raise RuleError("scopes", _l("Choose at least one scope."))
    allowed = set(scopes_for(owner))
    if any(scope not in allowed for scope in wanted):
        raise RuleError("scopes", _l("This account's role cannot use a chosen scope."))
    if not 1 <= days <= max_days():
        raise RuleError("days", _l("A token lasts from 1 to %(n)d days.", n=max_days()))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=owner.id,
        name=name,
        prefix=secret[:PREFIX_SHOWN],
        token_hash=digest(secret),
        scopes=",".join(scope.value for scope in wanted),
        role=owner.role,
        organisation_id=owner.organisation_id,
        created_by_id=actor.id if actor is not None else owner.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    record(
        "api.token_issued",
        actor=actor,
        obj_type="api_token",
        obj_id=token.public_id,
        detail={
            "owner": owner.public_id,
            "scopes": [scope.value for scope in wanted],
            "expires_at": token.expires_at.isoformat(),
            "service_account": owner.service_account,
        },
    )
    return IssuedToken(token, secret)


def revoke_token(token: ApiToken, *, actor: User | None) -> None:
    """Revoke at once; revoking twice changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id if actor is not None else None
    record(
        "api.token_revoked",
        actor=actor,
        obj_type="api_token",
        obj_id=token.public_id,
        detail={"owner": token.user.public_id},
    )


def tokens_of(owner: User) -> Sequence[ApiToken]:
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == owner.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def usable_tokens(now: datetime, limit: int = 500) -> list[ApiToken]:
    """Every token that still works, newest first (at most ``limit``), for revoking."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            .limit(limit)
        )
    )


def token_by_public_id(public_id: str) -> ApiToken | None:
    return db.session.scalar(select(ApiToken).where(ApiToken.public_id == public_id))


# --- service accounts -----------------------------------------------------------------------


@dataclass(frozen=True)
class _RoleHolder:
    """What the policy needs to say which scopes a role could use."""

    role: str
    organisation_id: int
    id: int = 0


def role_has_api_use(role: Role) -> bool:
    """Whether a token of this role could carry any scope."""
    return bool(scopes_for(_RoleHolder(role, 0)))


def create_service_account(
    organisation: Organisation, *, name: str, role: Role, actor: User | None
) -> User:
    """A non-person account of an organisation, used only through API tokens.

    The role rules of people apply (R23 included); it has no usable password and no
    second factor, and sign-in refuses it.
    """
    name = name.strip()
    if not name or len(name) > 120:
        raise RuleError("name", _l("Give the service account a name (at most 120 characters)."))
    if not role_has_api_use(role):
        raise RuleError("role", _l("This role has nothing to do through the API."))
    try:
        user, _password = admin_services.create_user(
            admin_services.UserData(
                f"service-{secrets.token_hex(6)}@{SERVICE_ACCOUNT_DOMAIN}",
                name,
                role,
                organisation,
            ),
            actor=actor,
        )
    except RuleError as error:
        raise RuleError("role", error.message) from error
    user.service_account = True
    user.must_change_password = False
    # A password nobody knows: sign-in refuses service accounts anyway.
    user.password_hash = passwords.hash_password(secrets.token_urlsafe(32))
    record(
        "api.service_account_created",
        actor=actor,
        obj_type="user",
        obj_id=user.public_id,
        detail={"organisation": organisation.public_id, "role": role.value},
    )
    return user


def service_accounts() -> Sequence[User]:
    return db.session.scalars(
        select(User)
        .where(User.service_account.is_(True))
        .order_by(User.organisation_id, User.full_name)
    ).all()


# --- authentication ----------------------------------------------------------------------------


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        return None
    return value


def refusal_of(token: ApiToken, now: datetime) -> str | None:
    """Why a stored token no longer works (None: it works)."""
    user = token.user
    if token.revoked_at is not None:
        return "revoked"
    if now >= token.expires_at:
        return "expired"
    if not user.is_active:
        return "inactive_user"
    if user.role != token.role or user.organisation_id != token.organisation_id:
        return "role_changed"
    return None


def authenticate_request() -> TokenGrant | None:
    """The grant of the request's bearer token, or None (the policy answers 401)."""
    secret = bearer_secret()
    if secret is None:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None:
        return None
    now = utcnow()
    refusal = refusal_of(token, now)
    if refusal is not None:
        record(
            "api.token_refused",
            outcome=Outcome.DENIED,
            actor=token.user,
            obj_type="api_token",
            obj_id=token.public_id,
            detail={"reason": refusal},
        )
        return None
    touch = timedelta(minutes=current_app.config["SESSION_TOUCH_MINUTES"])
    if token.last_used_at is None or now - token.last_used_at >= touch:
        token.last_used_at = now  # stored with the request's unit of work
    return TokenGrant(token.user, frozenset(token.scope_list), token.public_id)


def init_tokens(app: Flask) -> None:
    register_token_authenticator(app, authenticate_request)
