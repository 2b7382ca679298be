"""Victim-assistance records (R21).

A record stands for one SEA survivor the victim-assistance focal point supports. It is a
*source* of the referral engine: the survivor is referred through the ordinary engine to
an existing GBV case-management service, never to a parallel SEA-only service. It holds
no name and no narrative; it may point at the allegation it came from (by public id, so
this package never imports the PSEA package), or stand alone when the survivor came
directly.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Organisation
from referral.db.base import PublicIdMixin, TimestampMixin, UTCDateTime, enum_type
from referral.directory.models import AgeGroup, Area, Sex
from referral.extensions import Base
from referral.lifecycle.models import Retention
from referral.referrals.models import Need, SourceKind
from referral.security.crypto import DataKeyOwner
from referral.workflow import TransitionTable


class AssistanceNeed(StrEnum):
    """The assistance areas of the UN Protocol on victim assistance (2019)."""

    SAFETY_PROTECTION = "safety_protection"
    MEDICAL = "medical"
    PSYCHOSOCIAL = "psychosocial"
    LEGAL = "legal"
    EDUCATION = "education"
    LIVELIHOOD_MATERIAL = "livelihood_material"
    CHILD_BORN_OF_SEA = "child_born_of_sea"


# How each assistance need travels in a referral: as the sector of the inter-agency
# referral form that provides it (none falls to "other").
ENGINE_NEED = {
    AssistanceNeed.SAFETY_PROTECTION: Need.SAFETY_SECURITY,
    AssistanceNeed.MEDICAL: Need.HEALTH,
    AssistanceNeed.PSYCHOSOCIAL: Need.PSYCHOSOCIAL,
    AssistanceNeed.LEGAL: Need.LEGAL_AID,
    AssistanceNeed.EDUCATION: Need.EDUCATION,
    AssistanceNeed.LIVELIHOOD_MATERIAL: Need.LIVELIHOODS,
    AssistanceNeed.CHILD_BORN_OF_SEA: Need.CHILD_PROTECTION,
}


class AssistanceState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


ASSISTANCE_WORKFLOW = TransitionTable.build(
    "assistance",
    {AssistanceState.OPEN: [AssistanceState.CLOSED], AssistanceState.CLOSED: []},
)


class AssistanceRecord(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "assistance_records"
    # Owns the data key of its consents and referrals; purged after closure (R26).
    __data_key_owners__ = (DataKeyOwner("assistance"),)
    __retention__ = Retention(
        "assistance",
        "ASSISTANCE_RETENTION_DAYS",
        closed_at="closed_at",
        closed_when=("state", "closed"),
    )
    __table_args__ = (
        Index("ix_assistance_records_org_created", "organisation_id", "created_at", "id"),
    )

    # The referral engine knows this record as a source of this kind.
    source_kind = SourceKind.ASSISTANCE

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_code: Mapped[str] = mapped_column(String(16), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    allegation_public_id: Mapped[str | None] = mapped_column(
        ForeignKey("allegations.public_id"), index=True
    )
    age_group: Mapped[AgeGroup] = mapped_column(enum_type(AgeGroup))
    sex: Mapped[Sex] = mapped_column(enum_type(Sex))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    needs: Mapped[str] = mapped_column(String(200))
    state: Mapped[AssistanceState] = mapped_column(
        enum_type(AssistanceState), default=AssistanceState.OPEN, index=True
    )
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    organisation: Mapped[Organisation] = relationship()
    area: Mapped[Area] = relationship()

    __mapper_args__ = {"version_id_col": version}

    # --- the referral engine's source protocol ------------------------------------------

    @property
    def survivor_age_group(self) -> AgeGroup:
        return self.age_group

    @property
    def survivor_sex(self) -> Sex:
        return self.sex

    @property
    def survivor_area(self) -> Area | None:
        return self.area

    @property
    def incident_type_value(self) -> str | None:
        return None  # R21: nothing about the incident is needed to assist

    @property
    def incident_public_id(self) -> str | None:
        return None

    def hours_since_incident(self, now: datetime) -> float | None:
        return None

    def shared_field_value(self, name: str) -> str | None:
        return None  # the record holds no name, contact or incident detail to share

    @property
    def need_list(self) -> list[AssistanceNeed]:
        return [AssistanceNeed(v) for v in self.needs.split(",") if v]

    @property
    def is_child(self) -> bool:
        return self.age_group.is_child

    def __repr__(self) -> str:
        return f"<AssistanceRecord {self.survivor_code} {self.state}>"
