"""Referral pathway versions per area: ordered steps of chosen services, plus the SOP."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db.base import PublicIdMixin, UTCDateTime, enum_type
from referral.db.identity import User
from referral.directory.models import Area, Sector, Service
from referral.extensions import Base
from referral.workflow import TransitionTable


class PathwayStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


# R15: the only legal moves of a pathway version.
PATHWAY_TRANSITIONS: TransitionTable[PathwayStatus] = TransitionTable.build(
    "pathway version",
    {
        PathwayStatus.DRAFT: [PathwayStatus.IN_REVIEW, PathwayStatus.ARCHIVED],
        PathwayStatus.IN_REVIEW: [PathwayStatus.DRAFT, PathwayStatus.PUBLISHED],
        PathwayStatus.PUBLISHED: [PathwayStatus.ARCHIVED],
        PathwayStatus.ARCHIVED: [],
    },
)


class PathwayVersion(PublicIdMixin, Base):
    __tablename__ = "pathway_versions"
    __table_args__ = (
        UniqueConstraint("area_id", "number"),
        # R15 in the database too: at most one published version per area.
        Index(
            "uq_pathway_versions_published_area",
            "area_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[PathwayStatus] = mapped_column(
        enum_type(PathwayStatus), default=PathwayStatus.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    sop_markdown: Mapped[str] = mapped_column(Text, default="")
    # R16: who the PSEA focal points are and how to reach them; required to publish.
    sea_reporting_procedure: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(String(300), default="")

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: every UPDATE checks the version it read (both engines).
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    area: Mapped[Area] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    steps: Mapped[list[PathwayStep]] = relationship(
        back_populates="version",
        order_by="PathwayStep.position",
        cascade="all, delete-orphan",
    )

    @property
    def editable(self) -> bool:
        return self.status is PathwayStatus.DRAFT

    def __repr__(self) -> str:
        return f"<PathwayVersion {self.public_id} v{self.number} {self.status}>"


pathway_step_services = Table(
    "pathway_step_services",
    Base.metadata,
    Column("step_id", ForeignKey("pathway_steps.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id"), primary_key=True, index=True),
)


class PathwayStep(PublicIdMixin, Base):
    __tablename__ = "pathway_steps"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("pathway_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    sector: Mapped[Sector] = mapped_column(enum_type(Sector))
    guidance: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[PathwayVersion] = relationship(back_populates="steps")
    services: Mapped[list[Service]] = relationship(
        secondary=pathway_step_services, order_by=Service.name
    )
