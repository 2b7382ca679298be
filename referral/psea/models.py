"""PSEA allegations (R17-R20) and interim PSEA delegations (R22).

An allegation holds only minimal, non-identifying data (R17): there is no column for
the name of anyone. The optional short narrative is encrypted and bound to its row.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Organisation, User
from referral.db.base import PublicIdMixin, TimestampMixin, UTCDateTime, enum_type
from referral.directory.models import Area
from referral.extensions import Base
from referral.lifecycle.models import Retention
from referral.security.crypto import DataKeyOwner, encrypted_column
from referral.security.policy import Permission
from referral.workflow import TransitionTable


class AllegationState(StrEnum):
    RECEIVED = "received"  # logged; to be routed (R19 routing deadline runs)
    MANUAL_ROUTING = "manual_routing"  # unknown or non-member entity: the coordinator routes
    ROUTED = "routed"  # sent to the entity's PSEA focal points (acknowledgement deadline runs)
    ACKNOWLEDGED = "acknowledged"  # the entity confirmed receipt
    IN_PROGRESS = "in_progress"  # the entity reported an interim outcome category
    CLOSED = "closed"  # the entity reported a final outcome category


ALLEGATION_WORKFLOW = TransitionTable.build(
    "allegation",
    {
        AllegationState.RECEIVED: [AllegationState.ROUTED, AllegationState.MANUAL_ROUTING],
        AllegationState.MANUAL_ROUTING: [AllegationState.ROUTED],
        AllegationState.ROUTED: [AllegationState.ACKNOWLEDGED],
        AllegationState.ACKNOWLEDGED: [AllegationState.IN_PROGRESS, AllegationState.CLOSED],
        AllegationState.IN_PROGRESS: [AllegationState.IN_PROGRESS, AllegationState.CLOSED],
        AllegationState.CLOSED: [],
    },
)

AWAITING_ROUTING = frozenset({AllegationState.RECEIVED, AllegationState.MANUAL_ROUTING})


class Channel(StrEnum):
    IN_PERSON = "in_person"
    HOTLINE = "hotline"
    EMAIL = "email"
    COMPLAINT_BOX = "complaint_box"
    COMMUNITY_MECHANISM = "community_mechanism"
    OTHER_ORGANISATION = "other_organisation"
    OTHER = "other"


class Category(StrEnum):
    SEXUAL_EXPLOITATION = "sexual_exploitation"
    SEXUAL_ABUSE = "sexual_abuse"
    SEXUAL_ABUSE_OF_A_CHILD = "sexual_abuse_of_a_child"  # R20: set automatically, never typed
    UNKNOWN = "unknown"


class EntityType(StrEnum):
    UN_AGENCY = "un_agency"
    NGO = "ngo"
    GOVERNMENT = "government"
    PEACEKEEPING_MISSION = "peacekeeping_mission"
    NON_UN_FORCE = "non_un_force"
    OTHER = "other"
    UNKNOWN = "unknown"


class PersonnelCategory(StrEnum):
    STAFF = "staff"
    VOLUNTEER = "volunteer"
    CONTRACTOR = "contractor"
    IMPLEMENTING_PARTNER = "implementing_partner"
    MILITARY = "military"
    POLICE = "police"
    OTHER = "other"
    UNKNOWN = "unknown"


class SurvivorAgeGroup(StrEnum):
    UNDER_18 = "under_18"
    ADULT = "adult"
    UNKNOWN = "unknown"


class SurvivorSex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """R18: the only thing the concerned entity reports back; no investigation content."""

    REFERRED_FOR_INVESTIGATION = "referred_for_investigation"
    UNDER_INVESTIGATION = "under_investigation"
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    CLOSED_OTHER = "closed_other"


FINAL_OUTCOMES = frozenset({Outcome.SUBSTANTIATED, Outcome.UNSUBSTANTIATED, Outcome.CLOSED_OTHER})


class Allegation(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "allegations"
    # Its own data key seals the narrative; purged after closure (final outcome), R26.
    __data_key_owners__ = (DataKeyOwner("allegation"),)
    __retention__ = Retention(
        "allegation",
        "ALLEGATION_RETENTION_DAYS",
        closed_at="outcome_reported_at",
        closed_when=("state", "closed"),
        organisation=None,
    )
    __hold_permission__ = Permission.HOLD_ALLEGATIONS
    __table_args__ = (
        Index("ix_allegations_received_at_id", "received_at", "id"),
        # The coordinator's counts by state and overdue (psea.services.dashboard), read
        # from the index alone.
        Index("ix_allegations_dashboard", "state", "route_due_at", "acknowledge_due_at"),
        CheckConstraint("survivor_count >= 1", name="survivor_count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[AllegationState] = mapped_column(
        enum_type(AllegationState), default=AllegationState.RECEIVED, index=True
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    # R17: minimal, non-identifying facts
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    incident_from: Mapped[date | None] = mapped_column(Date)
    incident_to: Mapped[date | None] = mapped_column(Date)
    # An administrative area (never a site or an exact place); unknown is allowed.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    category: Mapped[Category] = mapped_column(enum_type(Category), index=True)
    entity_type: Mapped[EntityType] = mapped_column(enum_type(EntityType))
    entity_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    personnel_category: Mapped[PersonnelCategory] = mapped_column(enum_type(PersonnelCategory))
    survivor_count: Mapped[int] = mapped_column(Integer)
    any_child_survivor: Mapped[bool] = mapped_column(default=False)
    consents_to_assistance: Mapped[bool] = mapped_column(default=False, index=True)
    narrative: Mapped[str | None] = encrypted_column()

    # who received it (an organisation, never a survivor) and where it went
    received_by_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    routed_to_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(enum_type(Outcome))
    outcome_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # R19 deadlines, fixed when the step starts (so a later settings change does not move them)
    route_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    area: Mapped[Area | None] = relationship()
    entity_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[entity_organisation_id]
    )
    received_by_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[received_by_organisation_id]
    )
    routed_to_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[routed_to_organisation_id]
    )
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    survivor_groups: Mapped[list[SurvivorGroup]] = relationship(
        back_populates="allegation",
        cascade="all, delete-orphan",
        order_by="SurvivorGroup.id",
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Allegation {self.reference} {self.state}>"


class SurvivorGroup(Base):
    """How many survivors of one age group and sex an allegation concerns (no identities)."""

    __tablename__ = "allegation_survivor_groups"
    __table_args__ = (
        UniqueConstraint("allegation_id", "age_group", "sex"),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allegation_id: Mapped[int] = mapped_column(
        ForeignKey("allegations.id", ondelete="CASCADE"), index=True
    )
    age_group: Mapped[SurvivorAgeGroup] = mapped_column(enum_type(SurvivorAgeGroup))
    sex: Mapped[SurvivorSex] = mapped_column(enum_type(SurvivorSex))
    count: Mapped[int] = mapped_column(Integer)

    allegation: Mapped[Allegation] = relationship(back_populates="survivor_groups")


class PseaDelegation(PublicIdMixin, TimestampMixin, Base):
    """R22: a GBV coordinator holds PSEA coordinator rights until ``ends_at``, then not."""

    __tablename__ = "psea_delegations"
    __table_args__ = (Index("ix_psea_delegations_holder_ends", "holder_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set once the lapse has been recorded in the audit trail.
    lapse_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    holder: Mapped[User] = relationship(foreign_keys=[holder_id], lazy="joined")
    granted_by: Mapped[User] = relationship(foreign_keys=[granted_by_id])

    def active_at(self, instant: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= instant < self.ends_at
