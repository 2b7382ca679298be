"""Organisation and user administration rules (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from referral.auth.services import normalise_email
from referral.auth.sessions import end_all_sessions
from referral.clock import utcnow
from referral.db import Organisation, OrganisationType, User
from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.security import events, passwords
from referral.security.policy import Role, role_allowed_for_mission
from referral.workflow import RuleError


@dataclass(frozen=True)
class OrganisationData:
    name: str
    acronym: str
    org_type: OrganisationType
    provides_services: bool
    time_zone: str = "UTC"
    active: bool = True


@dataclass(frozen=True)
class UserData:
    email: str
    full_name: str
    role: Role
    organisation: Organisation
    active: bool = True


def _check_unique_organisation(data: OrganisationData, current: Organisation | None) -> None:
    for column, value, field in (
        (Organisation.name, data.name, "name"),
        (Organisation.acronym, data.acronym, "acronym"),
    ):
        clash = db.session.scalar(select(Organisation).where(func.lower(column) == value.lower()))
        if clash is not None and clash is not current:
            raise RuleError(field, _l("An organisation with this value already exists."))


def create_organisation(data: OrganisationData, *, actor: User | None) -> Organisation:
    _check_unique_organisation(data, None)
    organisation = Organisation(
        name=data.name,
        acronym=data.acronym,
        org_type=data.org_type,
        provides_services=data.provides_services,
        time_zone=data.time_zone,
        active=data.active,
    )
    db.session.add(organisation)
    db.session.flush()
    events.emit(
        "admin.organisation_created",
        user=actor,
        obj_type="organisation",
        obj_id=organisation.public_id,
        detail={"acronym": data.acronym},
    )
    return organisation


def update_organisation(organisation: Organisation, data: OrganisationData, *, actor: User) -> None:
    _check_unique_organisation(data, organisation)
    if data.org_type is OrganisationType.PEACEKEEPING_MISSION:
        holders = [u for u in organisation.users if not role_allowed_for_mission(u.role)]
        if holders:
            raise RuleError(
                "org_type",
                _l(
                    "Users of this organisation hold case-handling roles; a peacekeeping "
                    "mission cannot have them (R23). Change their roles first."
                ),
            )
    if organisation.id == actor.organisation_id and not data.active:
        raise RuleError("active", _l("You cannot deactivate your own organisation."))
    changed = {
        key: str(getattr(data, key))
        for key in ("name", "acronym", "org_type", "provides_services", "time_zone", "active")
        if getattr(organisation, key) != getattr(data, key)
    }
    for key in ("name", "acronym", "org_type", "provides_services", "time_zone", "active"):
        setattr(organisation, key, getattr(data, key))
    if "active" in changed and not data.active:
        for user in organisation.users:
            end_all_sessions(user, reason="organisation_deactivated")
    events.emit(
        "admin.organisation_updated",
        user=actor,
        obj_type="organisation",
        obj_id=organisation.public_id,
        detail={"changed": sorted(changed)},
    )


def check_role_for_organisation(role: Role, organisation: Organisation) -> None:
    """R23: humanitarian case data stays with humanitarian actors."""
    if organisation.is_mission and not role_allowed_for_mission(role):
        raise RuleError(
            "role",
            _l("A user of a peacekeeping mission cannot hold a case-handling role (R23)."),
        )


def create_user(data: UserData, *, actor: User | None) -> tuple[User, str]:
    """A new user with a one-time password, to be changed at first sign-in."""
    email = normalise_email(data.email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise RuleError(
            "email",
            _l("A user with this e-mail already exists."),
        )
    check_role_for_organisation(data.role, data.organisation)
    user = User(
        email=email,
        full_name=data.full_name,
        role=data.role,
        organisation=data.organisation,
        active=data.active,
    )
    one_time_password = give_one_time_password(user)
    db.session.add(user)
    db.session.flush()
    events.emit(
        "admin.user_created",
        user=actor,
        obj_type="user",
        obj_id=user.public_id,
        detail={"role": data.role.value, "organisation": data.organisation.public_id},
    )
    return user, one_time_password


def update_user(user: User, data: UserData, *, actor: User) -> None:
    email = normalise_email(data.email)
    clash = db.session.scalar(select(User).where(User.email == email))
    if clash is not None and clash is not user:
        raise RuleError(
            "email",
            _l("A user with this e-mail already exists."),
        )
    check_role_for_organisation(data.role, data.organisation)
    if user.id == actor.id and (data.role is not Role.ADMIN or not data.active):
        raise RuleError(
            "role",
            _l("You cannot remove your own administrator role or deactivate yourself."),
        )
    changed = []
    if user.email != email:
        changed.append("email")
    if user.full_name != data.full_name:
        changed.append("full_name")
    revoke_reason = None
    if user.role != data.role:
        changed.append("role")
        revoke_reason = "role_changed"
    if user.organisation_id != data.organisation.id:
        changed.append("organisation")
        revoke_reason = "organisation_changed"
    if user.active != data.active:
        changed.append("active")
        if not data.active:
            revoke_reason = "deactivated"
    user.email = email
    user.full_name = data.full_name
    user.role = data.role
    user.organisation = data.organisation
    user.active = data.active
    if revoke_reason:
        end_all_sessions(user, reason=revoke_reason)
    events.emit(
        "admin.user_updated",
        user=actor,
        obj_type="user",
        obj_id=user.public_id,
        detail={"changed": changed},
    )


def give_one_time_password(user: User) -> str:
    """A new one-time password: changed at first sign-in, refused once it expired
    (``ONE_TIME_PASSWORD_HOURS``)."""
    one_time_password = passwords.generate_one_time_password()
    user.password_hash = passwords.hash_password(one_time_password)
    user.must_change_password = True
    hours = int(current_app.config["ONE_TIME_PASSWORD_HOURS"])
    user.one_time_password_expires_at = utcnow() + timedelta(hours=hours)
    return one_time_password


def reset_password(user: User, *, actor: User) -> str:
    one_time_password = give_one_time_password(user)
    user.password_reset_by_admin_at = utcnow()
    end_all_sessions(user, reason="password_reset")
    events.emit("admin.password_reset", user=actor, obj_type="user", obj_id=user.public_id)
    return one_time_password


def reset_two_factor(user: User, *, actor: User) -> None:
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.recovery_codes = []
    user.two_factor_reset_by_admin_at = utcnow()
    end_all_sessions(user, reason="two_factor_reset")
    events.emit("admin.two_factor_reset", user=actor, obj_type="user", obj_id=user.public_id)


# --- lists ------------------------------------------------------------------------------


def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def all_users() -> list[User]:
    return list(
        db.session.scalars(
            select(User).join(User.organisation).order_by(Organisation.acronym, User.full_name)
        )
    )


def organisation_choices(*, providers_only: bool = False) -> list[tuple[str, str]]:
    """The active organisations as form choices, "ACRONYM (Name)" by acronym; only those
    providing services with ``providers_only``."""
    query = select(Organisation).where(Organisation.active)
    if providers_only:
        query = query.where(Organisation.provides_services)
    return [
        (o.public_id, f"{o.acronym} ({o.name})")
        for o in db.session.scalars(query.order_by(Organisation.acronym))
    ]
