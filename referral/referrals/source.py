"""What the referral engine needs of the record a referral comes from.

A GBV case (``referral.cases``) and a victim-assistance record (``referral.assistance``)
both implement :class:`ReferralSource`; the engine sits below them and never imports
them. A source is known to the engine by ``source_kind`` + ``public_id`` only.

Implementing a source::

    class AssistanceRecord(Base, ...):
        source_kind = SourceKind.ASSISTANCE

        @property
        def organisation_id(self) -> int: ...        # the sending organisation
        @property
        def survivor_code(self) -> str: ...          # shown to the receiver (R1, R11)
        @property
        def survivor_age_group(self) -> AgeGroup: ...
        @property
        def survivor_sex(self) -> Sex: ...
        @property
        def survivor_area(self) -> Area | None: ...   # for the pathway lookup (R14)
        @property
        def incident_type_value(self) -> str | None: ... # GBVIMS value, None if unknown
        @property
        def incident_public_id(self) -> str | None: ... # the incident referred about
        def hours_since_incident(self, now: datetime) -> float | None: ...
        def shared_field_value(self, name: str) -> str | None: ...

The incident facts (type, time, public id) are those of the one incident the referral
concerns, if any; a GBV case with several incidents hands the engine a view of itself
for the chosen incident.

``shared_field_value`` is called only for field names in ``OPTIONAL_SHARED_FIELDS`` that
the consent releases; return None for a field the source does not hold. Reading the
value is an audited reveal: the engine records it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from referral.directory.models import AgeGroup, Area, Sex
from referral.referrals.models import SourceKind


@runtime_checkable
class ReferralSource(Protocol):
    source_kind: SourceKind

    @property
    def public_id(self) -> str: ...

    @property
    def organisation_id(self) -> int: ...

    @property
    def survivor_code(self) -> str: ...

    @property
    def survivor_age_group(self) -> AgeGroup: ...

    @property
    def survivor_sex(self) -> Sex: ...

    @property
    def survivor_area(self) -> Area | None: ...

    @property
    def incident_type_value(self) -> str | None: ...

    @property
    def incident_public_id(self) -> str | None: ...

    def hours_since_incident(self, now: datetime) -> float | None: ...

    def shared_field_value(self, name: str) -> str | None: ...
