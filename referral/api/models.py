"""API tokens: the secret is shown once; only its SHA-256 digest is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Organisation, User
from referral.db.base import PublicIdMixin, UTCDateTime, enum_type
from referral.extensions import Base
from referral.security.policy import Role, Scope


class ApiToken(PublicIdMixin, Base):
    """A bearer token of one user (a person, or an organisation's service account).

    It carries the role and organisation its user had when it was issued: a token whose
    user has since changed role or organisation stops working, as do revoked and expired
    tokens and tokens of deactivated users or organisations.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    # The first characters of the secret, to recognise a token in lists and logs.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def scope_list(self) -> list[Scope]:
        return [Scope(s) for s in self.scopes.split(",") if s]

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active"

    def __repr__(self) -> str:
        return f"<ApiToken {self.public_id} {self.prefix}>"
