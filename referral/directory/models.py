"""Areas (an administrative hierarchy) and the services offered in them.

Other features refer to ``areas.id`` by foreign key and reuse ``AgeGroup`` and ``Sex``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db.base import PublicIdMixin, TimestampMixin, UTCDateTime, enum_type
from referral.db.identity import Organisation
from referral.extensions import Base


class AgeGroup(StrEnum):
    """Survivor age groups used across the application (directory, cases, statistics)."""

    CHILD = "0-11"
    ADOLESCENT = "12-17"
    ADULT = "18-59"
    OLDER_ADULT = "60+"

    @property
    def is_child(self) -> bool:
        """Under 18."""
        return self in (AgeGroup.CHILD, AgeGroup.ADOLESCENT)


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class AreaLevel(StrEnum):
    """From the largest to the smallest; a child area is always of a lower level."""

    COUNTRY = "country"
    PROVINCE = "province"
    DISTRICT = "district"
    SITE = "site"  # camp or site

    @property
    def rank(self) -> int:
        return list(AreaLevel).index(self)


class Sector(StrEnum):
    """The service sectors of the inter-agency referral form, in its order. One list for
    the directory's services, a referral's needs, the statistics and victim-assistance
    needs; the stored codes never change (new sectors are appended)."""

    GBV_CASE_MANAGEMENT = "gbv_case_management"
    HEALTH = "health"  # health / clinical management of rape
    PSYCHOSOCIAL = "psychosocial"
    SAFETY_SECURITY = "safety_security"  # police or other security actor
    LEGAL_AID = "legal_aid"  # legal aid / justice
    SHELTER = "shelter"  # shelter / safe house
    LIVELIHOODS = "livelihoods"  # livelihoods / economic support
    CHILD_PROTECTION = "child_protection"
    EDUCATION = "education"
    SAFE_SPACE = "safe_space"  # women and girls' safe spaces
    CASH = "cash"  # cash assistance
    DIGNITY_NFI = "dignity_nfi"  # dignity kits / non-food items
    FOOD = "food"
    OTHER = "other"


class ServiceStatus(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"  # limited capacity
    SUSPENDED = "suspended"


class Cost(StrEnum):
    FREE = "free"
    PAID = "paid"


class Area(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A short stable code (e.g. a P-code such as "AR-LOM-02"), used by the CSV import.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    level: Mapped[AreaLevel] = mapped_column(enum_type(AreaLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Area {self.code}>"


service_areas = Table(
    "service_areas",
    Base.metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id"), primary_key=True, index=True),
)


class Service(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "services"
    __table_args__ = (Index("ix_services_name_public_id", "name", "public_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sector: Mapped[Sector] = mapped_column(enum_type(Sector), index=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    languages: Mapped[str] = mapped_column(String(200), default="")
    # Who is accepted: one indexed flag per age group and per sex (searchable, portable).
    accepts_0_11: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    accepts_12_17: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    accepts_18_59: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    accepts_60_plus: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    accepts_female: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    accepts_male: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    accepts_other: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    cost: Mapped[Cost] = mapped_column(enum_type(Cost), default=Cost.FREE)
    accessibility: Mapped[str] = mapped_column(Text, default="")
    # Told to the survivor on the referral slip (documents, nothing identifying).
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    focal_point_name: Mapped[str] = mapped_column(String(120), default="")
    focal_point_phone: Mapped[str] = mapped_column(String(60), default="")
    focal_point_email: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[ServiceStatus] = mapped_column(
        enum_type(ServiceStatus), default=ServiceStatus.AVAILABLE, index=True
    )
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_note: Mapped[str] = mapped_column(String(300), default="")

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    areas: Mapped[list[Area]] = relationship(secondary=service_areas, order_by=Area.name)

    def accepts_age(self, age_group: AgeGroup) -> bool:
        return bool(getattr(self, AGE_COLUMNS[age_group]))

    def accepts_sex(self, sex: Sex) -> bool:
        return bool(getattr(self, SEX_COLUMNS[sex]))

    @property
    def accepted_age_groups(self) -> list[AgeGroup]:
        return [group for group in AgeGroup if self.accepts_age(group)]

    @property
    def accepted_sexes(self) -> list[Sex]:
        return [sex for sex in Sex if self.accepts_sex(sex)]

    def __repr__(self) -> str:
        return f"<Service {self.public_id} {self.sector}>"


AGE_COLUMNS: dict[AgeGroup, str] = {
    AgeGroup.CHILD: "accepts_0_11",
    AgeGroup.ADOLESCENT: "accepts_12_17",
    AgeGroup.ADULT: "accepts_18_59",
    AgeGroup.OLDER_ADULT: "accepts_60_plus",
}
SEX_COLUMNS: dict[Sex, str] = {
    Sex.FEMALE: "accepts_female",
    Sex.MALE: "accepts_male",
    Sex.OTHER: "accepts_other",
}
