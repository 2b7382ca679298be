"""Record data keys (envelope encryption), legal holds and retention declarations.

A record that owns a data key (a case, an allegation, an assistance record) has one
row in ``record_keys``: a random 256-bit key wrapped by the key ring's current master
key with AES-GCM, the associated data binding it to the owner's type, public id and
key id. Destroying the wrapped key (retention purge) makes every value sealed under it
unreadable, in this database and in every backup once the master keys that wrapped it
in those backups are retired (see :mod:`referral.lifecycle.retention`).

During a full re-encryption (``keys rotate --full``) a row briefly holds two keys: the
new one (``key_id``/``wrapped``) and the one being replaced (``previous_*``), so values
not yet re-encrypted stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, LargeBinary, String, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.clock import utcnow
from referral.db import PublicIdMixin, User, UTCDateTime
from referral.extensions import Base
from referral.security.crypto import Binding, encrypted_column


class RecordKey(Base):
    __tablename__ = "record_keys"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_public_id"),
        Index("ix_record_keys_previous_key_id", "previous_key_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(30))
    owner_public_id: Mapped[str] = mapped_column(String(24))
    key_id: Mapped[str] = mapped_column(String(40), unique=True)
    # The data key sealed under master key ``master_key_id``; NULL once destroyed.
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_key_id: Mapped[str | None] = mapped_column(String(40))
    previous_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_key_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<RecordKey {self.owner_type} {self.owner_public_id} {self.key_id}>"


def wrap_binding(owner_type: str, owner_public_id: str, key_id: str) -> Binding:
    """Associated data of a wrapped data key: its owner and its own id."""
    return Binding("record_keys", owner_type, f"{owner_public_id}/{key_id}")


class LegalHold(PublicIdMixin, Base):
    """A hold on one record: while it is active (not released) the record is never purged."""

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_owner", "owner_type", "owner_public_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(30))
    owner_public_id: Mapped[str] = mapped_column(String(24))
    # The reason may name a court or a request: encrypted like any free text (R2).
    reason: Mapped[str | None] = encrypted_column(nullable=False)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = encrypted_column()

    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])

    @property
    def active(self) -> bool:
        return self.released_at is None

    @classmethod
    def in_force(cls, owner_type: str, owner_public_id: Any) -> ColumnElement[bool]:
        """SQL condition: a hold not released on the record of this type and public id
        (a value or a column)."""
        return and_(
            cls.owner_type == owner_type,
            cls.owner_public_id == owner_public_id,
            cls.released_at.is_(None),
        )


@dataclass(frozen=True, slots=True)
class Retention:
    """Declares on an owner model how long it is kept after closure (R26).

    ``__retention__ = Retention("case", "CASE_RETENTION_DAYS", closed_at="closed_at")``:
    purged ``config[days_setting]`` days after ``closed_at``, and only while the
    attribute named in ``closed_when`` has that value (a reopened record is never
    purged). ``organisation`` names the column holding the organisation whose holders
    of the hold permission may place a legal hold (None: any holder of it).
    """

    owner_type: str
    days_setting: str
    closed_at: str = "closed_at"
    closed_when: tuple[str, str] | None = None
    organisation: str | None = "organisation_id"
