"""Organisations, users, their sign-in sessions and recovery codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db.base import PublicIdMixin, TimestampMixin, UTCDateTime, enum_type
from referral.extensions import Base
from referral.security.crypto import encrypted_column
from referral.security.policy import Role


class OrganisationType(StrEnum):
    UN_AGENCY = "un_agency"
    INTERNATIONAL_NGO = "international_ngo"
    NATIONAL_NGO = "national_ngo"
    GOVERNMENT = "government"
    PEACEKEEPING_MISSION = "peacekeeping_mission"
    COMMUNITY_BASED = "community_based"


class Organisation(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    acronym: Mapped[str] = mapped_column(String(30), unique=True)
    org_type: Mapped[OrganisationType] = mapped_column(enum_type(OrganisationType))
    provides_services: Mapped[bool] = mapped_column(Boolean, default=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @property
    def is_mission(self) -> bool:
        return self.org_type is OrganisationType.PEACEKEEPING_MISSION

    def __repr__(self) -> str:
        return f"<Organisation {self.acronym}>"


class User(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # An organisation's service account: used only through API tokens, never signs in.
    service_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # When an administrator's one-time password stops working (None: it does not expire,
    # as the demo accounts' shared password, which must be changed all the same).
    one_time_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # R2: encrypted at rest, bound to this row (users.totp_secret + public_id).
    totp_secret: Mapped[str | None] = encrypted_column("totp_secret")
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Highest TOTP time step accepted so far; a code of that step or earlier is a replay.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)

    # When an administrator last reset the password / the second factor, until the user
    # has been told at their next sign-in (then cleared; the audit log keeps the reset).
    password_reset_by_admin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    two_factor_reset_by_admin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Bumped to revoke every existing session of the user at its next request.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active and self.organisation.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.public_id

    @property
    def has_totp(self) -> bool:
        return self.totp_enrolled_at is not None

    def revoke_sessions(self) -> None:
        self.session_version += 1

    def __repr__(self) -> str:
        return f"<User {self.public_id} {self.role}>"


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class AuthSession(Base):
    """A signed-in browser session, held on the server so it can be revoked.

    The cookie carries a random token; only its SHA-256 digest is stored.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")


class SignInFailures(Base):
    """Recent failed sign-ins per e-mail address typed, known account or not.

    Keyed by a SHA-256 digest of the normalised address, so the table names nobody and
    unknown addresses are delayed exactly like real ones (no enumeration).
    """

    __tablename__ = "sign_in_failures"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
