"""The referral engine's records: consents, referrals and their transition history.

A referral comes from a *source* (a GBV case, or a victim-assistance record) that the
engine knows only by kind and public id (see ``referral.referrals.source``); the engine
never imports the features above it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ColumnElement, ForeignKey, Index, Integer, String, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db import Organisation, User
from referral.db.base import PublicIdMixin, TimestampMixin, UTCDateTime, enum_type, random_code
from referral.directory.models import AgeGroup, Sector, Service, Sex
from referral.extensions import Base
from referral.security.crypto import DataKeyOwner, encrypted_column
from referral.workflow import TransitionTable


class SourceKind(StrEnum):
    GBV_CASE = "gbv_case"
    ASSISTANCE = "assistance"


class Priority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class ReferralState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# R13: the only legal moves. Declining, closing and withdrawing need a reason (services).
REFERRAL_WORKFLOW: TransitionTable[ReferralState] = TransitionTable.build(
    "referral",
    {
        ReferralState.DRAFT: [ReferralState.SENT, ReferralState.WITHDRAWN],
        ReferralState.SENT: [
            ReferralState.ACCEPTED,
            ReferralState.DECLINED,
            ReferralState.WITHDRAWN,
        ],
        ReferralState.ACCEPTED: [
            ReferralState.COMPLETED,
            ReferralState.CLOSED,
            ReferralState.WITHDRAWN,
        ],
    },
)
REASON_REQUIRED: frozenset[ReferralState] = frozenset(
    {ReferralState.DECLINED, ReferralState.CLOSED, ReferralState.WITHDRAWN}
)
# A referral in one of these states is still "pending": consent withdrawal withdraws it.
PENDING_STATES: frozenset[ReferralState] = frozenset(
    {ReferralState.DRAFT, ReferralState.SENT, ReferralState.ACCEPTED}
)
# The outcomes a receiver may explain with a feedback note to the sender.
FEEDBACK_STATES: frozenset[ReferralState] = frozenset(
    {ReferralState.COMPLETED, ReferralState.CLOSED}
)
# Waiting for the receiver's answer: the deadline (R12) runs in these states.
AWAITING_RESPONSE: frozenset[ReferralState] = frozenset({ReferralState.SENT})


# A referral's needs (and a case action's) are the sectors of the inter-agency referral
# form, the list the directory's services use.
Need = Sector


def age_group_of(age: int) -> AgeGroup:
    """The directory's age group for an age in years."""
    if age <= 11:
        return AgeGroup.CHILD
    if age <= 17:
        return AgeGroup.ADOLESCENT
    if age <= 59:
        return AgeGroup.ADULT
    return AgeGroup.OLDER_ADULT


class ConsentKind(StrEnum):
    SERVICES = "services"  # consent to receive case-management services
    REFERRAL = "referral"  # consent to one referral: receiving org, sector, shared fields
    STATISTICS = "statistics"  # consent to anonymous statistics
    TRANSFER = "transfer"  # consent to hand the whole case to another organisation


class CaregiverRelationship(StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    OTHER_RELATIVE = "other_relative"
    LEGAL_GUARDIAN = "legal_guardian"
    FOSTER_CARER = "foster_carer"
    OTHER = "other"


# Optional fields a referral consent may release beyond the minimum (R11). The minimum
# (survivor code, age group, sex, needs, priority, referral note) always travels.
OPTIONAL_SHARED_FIELDS: tuple[str, ...] = (
    "name",
    "contact",
    "safe_contact",
    "incident_type",
    "disability",
    "displacement_status",
)


STATISTICS_CONSENT = (
    "source_kind = 'gbv_case' AND kind = 'statistics' AND granted IS true AND withdrawn_at IS NULL"
)

# What cases.services.accepted_referrals_without_case reads (its partial index below).
ACCEPTED_CASE_MANAGEMENT = "state = 'accepted' AND sector = 'gbv_case_management'"


class Consent(PublicIdMixin, TimestampMixin, Base):
    """One consent record (R3), with the child-consent facts of R5 when the survivor is a
    child. Withdrawing sets ``withdrawn_at``; the record itself stays."""

    __tablename__ = "consents"
    # Sealed under the data key of the case or assistance record it belongs to.
    __data_key_owners__ = (
        DataKeyOwner("case", public_id_attr="source_public_id", when=("source_kind", "gbv_case")),
        DataKeyOwner(
            "assistance", public_id_attr="source_public_id", when=("source_kind", "assistance")
        ),
    )
    __table_args__ = (
        Index("ix_consents_source", "source_kind", "source_public_id"),
        # R24 statistics count incidents whose case has an active consent to statistics:
        # an index-only scan of exactly those cases instead of a scan of every consent
        # (found by bench/).
        Index(
            "ix_consents_statistics",
            "source_public_id",
            sqlite_where=text(STATISTICS_CONSENT),
            postgresql_where=text(STATISTICS_CONSENT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[SourceKind] = mapped_column(enum_type(SourceKind))
    source_public_id: Mapped[str] = mapped_column(String(24))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[ConsentKind] = mapped_column(enum_type(ConsentKind))
    granted: Mapped[bool] = mapped_column(Boolean, default=True)
    receiving_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    sector: Mapped[Sector | None] = mapped_column(enum_type(Sector))
    shared_fields: Mapped[str] = mapped_column(String(300), default="")

    survivor_is_child: Mapped[bool] = mapped_column(Boolean, default=False)
    caregiver_consented: Mapped[bool | None] = mapped_column(Boolean)
    caregiver_relationship: Mapped[CaregiverRelationship | None] = mapped_column(
        enum_type(CaregiverRelationship)
    )
    caregiver_is_alleged_perpetrator: Mapped[bool | None] = mapped_column(Boolean)
    child_assented: Mapped[bool | None] = mapped_column(Boolean)
    caregiver_name: Mapped[str | None] = encrypted_column()
    best_interest_note: Mapped[str | None] = encrypted_column()

    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why it was withdrawn: free text, so encrypted (R2); kept whether or not a referral
    # was pending at the time.
    withdrawal_reason: Mapped[str | None] = encrypted_column()

    receiving_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[receiving_organisation_id]
    )

    @property
    def active(self) -> bool:
        return self.granted and self.withdrawn_at is None

    @property
    def shared_field_list(self) -> list[str]:
        return [f for f in self.shared_fields.split(",") if f]


class Referral(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "referrals"
    # Sealed under the data key of the case or assistance record it belongs to.
    __data_key_owners__ = (
        DataKeyOwner("case", public_id_attr="source_public_id", when=("source_kind", "gbv_case")),
        DataKeyOwner(
            "assistance", public_id_attr="source_public_id", when=("source_kind", "assistance")
        ),
    )
    __table_args__ = (
        Index("ix_referrals_queue", "receiving_organisation_id", "state", "deadline_at"),
        # the queue's order: earliest deadline first, keyset on (deadline_at, id)
        Index("ix_referrals_queue_order", "receiving_organisation_id", "deadline_at", "id"),
        Index("ix_referrals_source", "source_kind", "source_public_id"),
        # the statistics' "overdue now" across every organisation
        Index("ix_referrals_state_deadline", "state", "deadline_at"),
        Index("ix_referrals_sender", "sending_organisation_id", "state", "deadline_at"),
        # the sender's list through the API: newest first, keyset on (created_at, id)
        Index("ix_referrals_sender_created", "sending_organisation_id", "created_at", "id"),
        # The receiving queue pages on (deadline_at, id) within open or finished states:
        # an index in that order per view, so a page reads ~50 index entries instead of
        # every open referral of the organisation (found by bench/).
        Index(
            "ix_referrals_queue_open",
            "receiving_organisation_id",
            "deadline_at",
            "id",
            sqlite_where=text("state IN ('sent', 'accepted')"),
            postgresql_where=text("state IN ('sent', 'accepted')"),
        ),
        Index(
            "ix_referrals_queue_done",
            "receiving_organisation_id",
            "deadline_at",
            "id",
            sqlite_where=text("state IN ('declined', 'completed', 'closed', 'withdrawn')"),
            postgresql_where=text("state IN ('declined', 'completed', 'closed', 'withdrawn')"),
        ),
        # The inbox's accepted case-management referrals waiting for a case, oldest answer
        # first: without it every accepted referral of the organisation, of any sector,
        # was read from the table (~7,500 rows at 100,000 cases, found by bench/).
        Index(
            "ix_referrals_accepted_case_management",
            "receiving_organisation_id",
            "responded_at",
            "id",
            sqlite_where=text(ACCEPTED_CASE_MANAGEMENT),
            postgresql_where=text(ACCEPTED_CASE_MANAGEMENT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(
        String(20), unique=True, default=lambda: random_code("REF")
    )
    source_kind: Mapped[SourceKind] = mapped_column(enum_type(SourceKind))
    source_public_id: Mapped[str] = mapped_column(String(24))
    survivor_code: Mapped[str] = mapped_column(String(20))
    # The incident of the source the referral concerns, when it concerns one (a case may
    # hold several incidents); known by public id, like the source.
    incident_public_id: Mapped[str | None] = mapped_column(String(24))
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    receiving_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    sector: Mapped[Sector] = mapped_column(enum_type(Sector))
    # R14: a service outside the eligible options of the pathway needs a reason to pick.
    pathway_eligibility: Mapped[str] = mapped_column(String(20), default="eligible")
    off_pathway_reason: Mapped[str | None] = encrypted_column()
    priority: Mapped[Priority] = mapped_column(enum_type(Priority))
    state: Mapped[ReferralState] = mapped_column(
        enum_type(ReferralState), default=ReferralState.DRAFT
    )
    time_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Always shared (R11 minimum): non-identifying.
    age_group: Mapped[AgeGroup] = mapped_column(enum_type(AgeGroup))
    sex: Mapped[Sex] = mapped_column(enum_type(Sex))
    needs: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str | None] = encrypted_column()
    # The consented optional fields, as JSON, encrypted; their names in clear.
    shared_fields: Mapped[str] = mapped_column(String(300), default="")
    shared_details: Mapped[str | None] = encrypted_column()

    # The receiver's short feedback to the sender when the referral ends (service
    # provided or not), encrypted.
    feedback_note: Mapped[str | None] = encrypted_column()

    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), index=True)
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_reason: Mapped[str | None] = encrypted_column()

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}

    consent: Mapped[Consent | None] = relationship()
    service: Mapped[Service] = relationship(lazy="joined")
    receiving_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[receiving_organisation_id], lazy="joined"
    )
    sending_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[sending_organisation_id], lazy="joined"
    )
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    transitions: Mapped[list[ReferralTransition]] = relationship(
        back_populates="referral", order_by="ReferralTransition.id"
    )

    @property
    def need_list(self) -> list[Need]:
        return [Need(n) for n in self.needs.split(",") if n]

    @property
    def shared_field_list(self) -> list[str]:
        return [f for f in self.shared_fields.split(",") if f]

    def is_overdue(self, now: datetime) -> bool:
        """R12 for one referral loaded in Python: the rule of :func:`overdue`."""
        return (
            self.state in AWAITING_RESPONSE
            and self.deadline_at is not None
            and self.deadline_at < now
        )


def overdue(now: datetime) -> ColumnElement[bool]:
    """R12, the one definition of an overdue referral in SQL: waiting for the receiver's
    answer past its deadline. The inboxes and the statistics both filter with it, so they
    count the same referrals; :meth:`Referral.is_overdue` is the same rule in Python."""
    return and_(
        Referral.state.in_(sorted(AWAITING_RESPONSE)),
        Referral.deadline_at.is_not(None),
        Referral.deadline_at < now,
    )


class ReferralTransition(PublicIdMixin, Base):
    """One move of a referral's state, who made it and why (reason encrypted)."""

    __tablename__ = "referral_transitions"
    __data_key_owners__ = (
        DataKeyOwner(
            "case",
            via="referral",
            public_id_attr="source_public_id",
            when=("source_kind", "gbv_case"),
        ),
        DataKeyOwner(
            "assistance",
            via="referral",
            public_id_attr="source_public_id",
            when=("source_kind", "assistance"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[ReferralState | None] = mapped_column(enum_type(ReferralState))
    to_state: Mapped[ReferralState] = mapped_column(enum_type(ReferralState))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = encrypted_column()

    referral: Mapped[Referral] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()
