"""The GBV statistics counts (R24), kept up to date by :mod:`referral.reports.counters`.

One row per measure, calendar month, organisation, area and key: how many counted
incidents (or referrals) it holds. Rows are kept at the case's own area and
organisation and rolled up to ``ALL`` (0) for either and for both, so a report over
every organisation or every area reads a handful of rows per month. Counts only: no
row names a case, an incident or anything about one beyond the published categories.
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.extensions import Base

ALL = 0  # organisation_id / area_id of a row that adds up every organisation / area


class StatisticsCount(Base):
    __tablename__ = "statistics_counts"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id",
            "measure",
            "area_id",
            "period",
            "key_a",
            "key_b",
            name="uq_statistics_counts_key",
        ),
        # "overdue now": the deadlines due so far today, found by range whatever the period
        Index("ix_statistics_counts_deadline", "organisation_id", "measure", "area_id", "key_a"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer)
    area_id: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(16))
    period: Mapped[int] = mapped_column(Integer)  # yyyymm, see counted.month_number
    key_a: Mapped[str] = mapped_column(String(40))
    key_b: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
