"""The one permission table.

Every endpoint declares what it needs with ``@requires(...)`` (or ``@public`` /
``@signed_in`` / ``@partially_signed_in``); a ``before_request`` hook enforces the
declaration and refuses endpoints that declare nothing. Record-level checks run in
the view after loading the record and before acting on it: load -> authorise -> act.

The policy knows no feature: it works on any object with a ``role`` and an
``organisation_id`` (the user). Features that grant more than the role (R22 interim
delegation) or read API tokens register with the application (``PolicyHooks``), never
in this module's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn, Protocol, TypeVar

from blinker import Namespace
from flask import abort, current_app, has_app_context
from flask.sansio.app import App

F = TypeVar("F", bound=Callable[..., Any])


class Role(StrEnum):
    ADMIN = "admin"
    AUDITOR = "auditor"
    GBV_COORDINATOR = "gbv_coordinator"
    SUPERVISOR = "supervisor"
    CASEWORKER = "caseworker"
    SERVICE_FOCAL_POINT = "service_focal_point"
    PSEA_FOCAL_POINT = "psea_focal_point"
    PSEA_COORDINATOR = "psea_coordinator"
    VA_FOCAL_POINT = "va_focal_point"


# R23: roles that handle survivor case data; never held by a peacekeeping-mission user.
CASE_HANDLING_ROLES: frozenset[Role] = frozenset(
    {Role.SUPERVISOR, Role.CASEWORKER, Role.SERVICE_FOCAL_POINT, Role.VA_FOCAL_POINT}
)


class Permission(StrEnum):
    # administration
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATIONS = "manage_organisations"
    GRANT_DELEGATION = "grant_delegation"
    # the country-adapted lists of the GBVIMS intake (ethnicity, location types...)
    MANAGE_LISTS = "manage_lists"
    # audit trail
    READ_AUDIT = "read_audit"
    EXPORT_AUDIT = "export_audit"
    # directory and pathways
    BROWSE_DIRECTORY = "browse_directory"
    MANAGE_DIRECTORY = "manage_directory"
    READ_PATHWAYS = "read_pathways"
    MANAGE_PATHWAYS = "manage_pathways"
    PUBLISH_PATHWAYS = "publish_pathways"
    # cases
    HANDLE_CASES = "handle_cases"
    SUPERVISE_CASES = "supervise_cases"
    OVERRIDE_CONSENT = "override_consent"
    APPROVE_CLOSURE = "approve_closure"
    HOLD_CASES = "hold_cases"  # R26: place or release a legal hold on own org's cases
    # referrals
    RECEIVE_REFERRALS = "receive_referrals"
    # PSEA
    RECORD_ALLEGATIONS = "record_allegations"
    ROUTE_ALLEGATIONS = "route_allegations"
    RESPOND_TO_ALLEGATIONS = "respond_to_allegations"
    COORDINATE_PSEA = "coordinate_psea"
    HOLD_ALLEGATIONS = "hold_allegations"  # R26: legal hold on an allegation
    # victim assistance
    ASSIST_VICTIMS = "assist_victims"
    # statistics
    GBV_STATISTICS = "gbv_statistics"
    # the shared (inter-agency) GBV statistics, all organisations, agency identifiers hidden
    GBV_STATISTICS_ALL_ORGANISATIONS = "gbv_statistics_all_organisations"
    # the anonymised incident-level export of the own organisation (R25)
    EXPORT_INCIDENT_DATA = "export_incident_data"
    PSEA_STATISTICS = "psea_statistics"


_DIRECTORY_READER = frozenset({Permission.BROWSE_DIRECTORY, Permission.READ_PATHWAYS})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.MANAGE_ORGANISATIONS,
            Permission.GRANT_DELEGATION,
            Permission.MANAGE_LISTS,
            Permission.READ_AUDIT,
            Permission.EXPORT_AUDIT,
            *_DIRECTORY_READER,
        }
    ),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT, Permission.EXPORT_AUDIT}),
    Role.GBV_COORDINATOR: frozenset(
        {
            *_DIRECTORY_READER,
            Permission.MANAGE_DIRECTORY,
            Permission.MANAGE_PATHWAYS,
            Permission.PUBLISH_PATHWAYS,
            Permission.GBV_STATISTICS,
            Permission.GBV_STATISTICS_ALL_ORGANISATIONS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            *_DIRECTORY_READER,
            Permission.HANDLE_CASES,
            Permission.SUPERVISE_CASES,
            Permission.OVERRIDE_CONSENT,
            Permission.APPROVE_CLOSURE,
            Permission.HOLD_CASES,
            Permission.GBV_STATISTICS,
            Permission.EXPORT_INCIDENT_DATA,
        }
    ),
    Role.CASEWORKER: frozenset({*_DIRECTORY_READER, Permission.HANDLE_CASES}),
    Role.SERVICE_FOCAL_POINT: frozenset({*_DIRECTORY_READER, Permission.RECEIVE_REFERRALS}),
    Role.PSEA_FOCAL_POINT: frozenset(
        {
            *_DIRECTORY_READER,
            Permission.RECORD_ALLEGATIONS,
            Permission.RESPOND_TO_ALLEGATIONS,
            Permission.ROUTE_ALLEGATIONS,
        }
    ),
    Role.PSEA_COORDINATOR: frozenset(
        {
            *_DIRECTORY_READER,
            Permission.RECORD_ALLEGATIONS,
            Permission.ROUTE_ALLEGATIONS,
            Permission.COORDINATE_PSEA,
            Permission.HOLD_ALLEGATIONS,
            Permission.PSEA_STATISTICS,
        }
    ),
    Role.VA_FOCAL_POINT: frozenset({*_DIRECTORY_READER, Permission.ASSIST_VICTIMS}),
}

# Roles whose landing pages are administrative; they never read case or allegation content.
CONTENT_BLIND_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.AUDITOR})


class Access(StrEnum):
    """Declarations that are not a permission of the table."""

    PUBLIC = "public"  # no sign-in (sign-in pages, health check, static files)
    PARTIAL = "partial"  # password accepted, second factor or password change pending
    SIGNED_IN = "signed_in"  # any fully signed-in user (inbox, own account, sign-out)


class Actor(Protocol):
    """What the policy needs of a user."""

    @property
    def role(self) -> str: ...

    @property
    def organisation_id(self) -> int: ...

    @property
    def id(self) -> int: ...


ExtraPermissions = Callable[[Actor], Iterable[Permission]]
POLICY_EXTENSION = "referral.policy"


@dataclass
class PolicyHooks:
    """What features plug into the policy, kept per application (``app.extensions``).

    ``extra_permissions``: sources of permissions beyond the role, each with the
    permissions it can grant at most, so it is asked only when one of those is wanted.
    ``token_authenticator``: reads the request's API token (see :func:`authenticate_token`).
    """

    extra_permissions: list[tuple[frozenset[Permission], ExtraPermissions]] = field(
        default_factory=list
    )
    token_authenticator: Callable[[], TokenGrant | None] | None = None


def policy_hooks(app: App) -> PolicyHooks:
    hooks: PolicyHooks = app.extensions.setdefault(POLICY_EXTENSION, PolicyHooks())
    return hooks


def _current_hooks() -> PolicyHooks | None:
    if not has_app_context():
        return None
    hooks: PolicyHooks | None = current_app.extensions.get(POLICY_EXTENSION)
    return hooks


def register_extra_permissions(
    app: App, grantable: Iterable[Permission], source: ExtraPermissions
) -> None:
    """Let a feature grant permissions beyond the role (e.g. R22 interim delegation);
    ``source`` is asked only when a permission of ``grantable`` is wanted."""
    policy_hooks(app).extra_permissions.append((frozenset(grantable), source))


def _role_permissions(actor: Actor) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(Role(actor.role), frozenset())


def _extra_permissions(actor: Actor, wanted: Iterable[Permission] | None) -> set[Permission]:
    """Permissions granted beyond the role; sources that cannot grant any of ``wanted``
    (None: every permission) are not asked, so they do no work for unrelated checks."""
    hooks = _current_hooks()
    granted: set[Permission] = set()
    if hooks is None:
        return granted
    wanted_set = None if wanted is None else frozenset(wanted)
    for grantable, source in hooks.extra_permissions:
        if wanted_set is None or grantable & wanted_set:
            granted.update(source(actor))
    return granted


def permissions_of(actor: Actor) -> frozenset[Permission]:
    return _role_permissions(actor) | _extra_permissions(actor, None)


def has_permission(actor: Actor, permission: Permission) -> bool:
    return permission in _role_permissions(actor) or permission in _extra_permissions(
        actor, (permission,)
    )


def role_allowed_for_mission(role: Role) -> bool:
    """R23: a peacekeeping-mission user never holds a case-handling role."""
    return role not in CASE_HANDLING_ROLES


# --- endpoint declarations -------------------------------------------------------------

REQUIREMENT_ATTRIBUTE = "_referral_requirement"
Requirement = Access | Permission | tuple[Permission, ...]


def _declare(requirement: Requirement) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        setattr(view, REQUIREMENT_ATTRIBUTE, requirement)
        return view

    return decorate


def requires(*permissions: Permission) -> Callable[[F], F]:
    """The endpoint needs any one of these permissions."""
    if not permissions:
        raise ValueError("requires() needs at least one permission")
    return _declare(permissions[0] if len(permissions) == 1 else tuple(permissions))


public = _declare(Access.PUBLIC)
partially_signed_in = _declare(Access.PARTIAL)
signed_in = _declare(Access.SIGNED_IN)


def requirement_of(view: Callable[..., Any] | None) -> Requirement | None:
    if view is None:
        return None
    return getattr(view, REQUIREMENT_ATTRIBUTE, None)


def satisfies(actor: Actor, requirement: Requirement) -> bool:
    if isinstance(requirement, Access):
        return True
    wanted = requirement if isinstance(requirement, tuple) else (requirement,)
    if any(permission in _role_permissions(actor) for permission in wanted):
        return True
    return any(permission in _extra_permissions(actor, wanted) for permission in wanted)


# --- API tokens --------------------------------------------------------------------------


class Scope(StrEnum):
    """What an API token may be used for; its user's role still decides the rest.

    A request through a token needs the endpoint's permission (held by the token's user)
    *and* the endpoint's scope (granted to the token): a token never does more than its
    user, and usually less.
    """

    DIRECTORY_READ = "directory:read"  # areas, services, published pathways
    REFERRALS_READ = "referrals:read"  # incoming queue (receivers), status (senders)
    REFERRALS_WRITE = "referrals:write"  # accept, decline, complete
    STATISTICS_READ = "statistics:read"  # suppressed aggregate tables


# A scope is worth granting only to a user whose role holds one of these permissions.
SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.DIRECTORY_READ: frozenset({Permission.BROWSE_DIRECTORY, Permission.READ_PATHWAYS}),
    Scope.REFERRALS_READ: frozenset(
        {Permission.RECEIVE_REFERRALS, Permission.HANDLE_CASES, Permission.ASSIST_VICTIMS}
    ),
    Scope.REFERRALS_WRITE: frozenset({Permission.RECEIVE_REFERRALS}),
    Scope.STATISTICS_READ: frozenset({Permission.GBV_STATISTICS, Permission.PSEA_STATISTICS}),
}


def scopes_for(actor: Actor) -> list[Scope]:
    """The scopes a token of this user may carry (those its role can use)."""
    held = permissions_of(actor)
    return [scope for scope in Scope if SCOPE_PERMISSIONS[scope] & held]


TOKEN_ATTRIBUTE = "_referral_token_scope"  # noqa: S105 - an attribute name
ANY_SCOPE = "any"  # a token endpoint that needs no particular scope (who am I)


def token_endpoint(scope: Scope | None) -> Callable[[F], F]:
    """The endpoint is called with an API token (``Authorization: Bearer``), never with
    a browser session; the token must carry ``scope`` (None: any valid token)."""

    def decorate(view: F) -> F:
        setattr(view, TOKEN_ATTRIBUTE, scope if scope is not None else ANY_SCOPE)
        return view

    return decorate


def token_scope_of(view: Callable[..., Any] | None) -> Scope | str | None:
    """None for pages; a Scope or ``ANY_SCOPE`` for token endpoints."""
    if view is None:
        return None
    return getattr(view, TOKEN_ATTRIBUTE, None)


@dataclass(frozen=True)
class TokenGrant:
    """A valid token presented with the request: whose it is and what it may do."""

    actor: Actor
    scopes: frozenset[Scope]
    token_id: str  # the token's public id (never the secret)


def register_token_authenticator(app: App, authenticate: Callable[[], TokenGrant | None]) -> None:
    """The feature that keeps tokens reads the request's token (this module knows no
    storage). Without one, every token endpoint answers 401."""
    policy_hooks(app).token_authenticator = authenticate


def authenticate_token() -> TokenGrant | None:
    hooks = _current_hooks()
    if hooks is None or hooks.token_authenticator is None:
        return None
    return hooks.token_authenticator()


def token_may(grant: TokenGrant, requirement: Requirement, scope: Scope | str) -> str | None:
    """Why a token request is refused (None: allowed): the user's role lacks the
    endpoint's permission, or the token lacks its scope."""
    if not satisfies(grant.actor, requirement):
        return "role lacks permission"
    if scope != ANY_SCOPE and scope not in grant.scopes:
        return "token lacks scope"
    return None


# --- denials -----------------------------------------------------------------------------

signals = Namespace()
# Sent for every refused access; the audit trail listens. Keyword arguments:
# permission (str | None), obj_type (str | None), obj_id (str | None), status (int), reason (str)
access_denied = signals.signal("access-denied")


@dataclass
class Denial:
    status: int
    reason: str
    permission: str | None = None
    obj_type: str | None = None
    obj_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def deny(
    reason: str,
    *,
    status: int = 403,
    permission: str | None = None,
    obj_type: str | None = None,
    obj_id: str | None = None,
) -> NoReturn:
    """Refuse the request: one place that announces the denial and aborts.

    Use status 404 where the record's existence itself must not leak.
    """
    from flask import current_app

    access_denied.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        denial=Denial(status, reason, permission, obj_type, obj_id),
    )
    abort(status)


def authorize(
    condition: bool, *, reason: str, obj_type: str, obj_id: str, status: int = 404
) -> None:
    """Record-level check, called after loading a record and before acting on it."""
    if not condition:
        deny(reason, status=status, obj_type=obj_type, obj_id=obj_id)
