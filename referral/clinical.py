"""R8: the clinical windows of time-critical health care after sexual violence.

The one home of the rule; the case page, the pathway lookup (a health service is
urgent while a window is open), the inbox and the statistics all ask it:

- a window is counted from the incident time: it opens at the incident and is open
  while less than its hours have passed (``incident_at <= t < incident_at + hours``);
- the hours come from configuration (``CLINICAL_WINDOW_PEP_HOURS``, default 72, and
  ``CLINICAL_WINDOW_EC_HOURS``, default 120);
- the windows apply to sexual violence (rape, sexual assault) and, on the safe side,
  to an incident whose type is not known yet; never to an incident of another type;
- with no incident time there is nothing to count from, hence no window;
- the alarm (the inbox item, the "open" mark on the case, the urgency of a health
  service) stops once care is arranged, that is a health referral of the case is
  accepted or completed, and when the case is closed (or its closure requested): a
  closed case shows its windows as closed.

The SQL forms below are built from the same constants, so a list filtered in the
database shows the cases the Python rule would show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from flask import current_app
from sqlalchemy import SQLColumnExpression, and_, or_
from sqlalchemy.sql.elements import ColumnElement

from referral.messages import lazy_gettext as _l


class Care(StrEnum):
    PEP = "pep"  # HIV post-exposure prophylaxis
    EC = "ec"  # emergency contraception


CARE_LABELS: Final[Mapping[Care, Any]] = {
    Care.PEP: _l("HIV post-exposure prophylaxis"),
    Care.EC: _l("Emergency contraception"),
}

_HOURS_SETTING: Final[Mapping[Care, str]] = {
    Care.PEP: "CLINICAL_WINDOW_PEP_HOURS",
    Care.EC: "CLINICAL_WINDOW_EC_HOURS",
}

# GBVIMS incident type values (as the case workflow stores them) the windows apply to.
SEXUAL_VIOLENCE_TYPES: Final = frozenset({"rape", "sexual_assault"})

# The sector and referral states (as the referral engine stores them) in which
# time-critical care is arranged: a health referral the service accepted or completed.
HEALTH_SECTOR: Final = "health"
CARE_ARRANGED_STATES: Final = frozenset({"accepted", "completed"})


class WindowStatus(StrEnum):
    OPEN = "open"  # the only status that raises an alarm
    CARE_ARRANGED = "care_arranged"  # still running, but a health referral was accepted
    CASE_CLOSED = "case_closed"  # the case is closed or its closure requested
    ELAPSED = "elapsed"  # its hours have passed


WINDOW_STATUS_LABELS: Final[Mapping[WindowStatus, Any]] = {
    WindowStatus.OPEN: _l("Open"),
    WindowStatus.CARE_ARRANGED: _l("Care arranged"),
    WindowStatus.CASE_CLOSED: _l("Closed with the case"),
    WindowStatus.ELAPSED: _l("Closed"),
}


def care_arranged(referrals: Iterable[tuple[str, str]]) -> bool:
    """True when one of a case's referrals, given as (sector, state), is a health
    referral the service accepted or completed."""
    return any(
        str(sector) == HEALTH_SECTOR and str(state) in CARE_ARRANGED_STATES
        for sector, state in referrals
    )


@dataclass(frozen=True, slots=True)
class ClinicalWindow:
    """One window of care for one incident."""

    care: Care
    opens_at: datetime
    closes_at: datetime

    @property
    def label(self) -> str:
        return str(CARE_LABELS[self.care])

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def time_left(self, now: datetime) -> timedelta:
        return max(self.closes_at - now, timedelta(0))

    def status(self, now: datetime, *, case_open: bool, care_arranged: bool) -> WindowStatus:
        """Where the window stands for a case; only ``OPEN`` raises an alarm."""
        if not case_open:
            return WindowStatus.CASE_CLOSED
        if not self.is_open(now):
            return WindowStatus.ELAPSED
        if care_arranged:
            return WindowStatus.CARE_ARRANGED
        return WindowStatus.OPEN


def window_lengths() -> dict[Care, timedelta]:
    """Each window's length, from configuration."""
    config = current_app.config
    return {care: timedelta(hours=float(config[key])) for care, key in _HOURS_SETTING.items()}


def windows_apply(incident_type: str | None) -> bool:
    """R8: sexual violence, or a type not known yet (the safe side)."""
    return incident_type is None or str(incident_type) in SEXUAL_VIOLENCE_TYPES


def clinical_windows(
    incident_type: str | None, incident_at: datetime | None
) -> list[ClinicalWindow]:
    """The windows of an incident, open or closed, in the order care is given."""
    if incident_at is None or not windows_apply(incident_type):
        return []
    return [
        ClinicalWindow(care, incident_at, incident_at + length)
        for care, length in window_lengths().items()
    ]


def open_windows(
    incident_type: str | None, incident_at: datetime | None, now: datetime
) -> list[ClinicalWindow]:
    """The windows still open at ``now``."""
    return [w for w in clinical_windows(incident_type, incident_at) if w.is_open(now)]


# --- the same rule in SQL --------------------------------------------------------------


def window_open_now_sql(
    incident_type: SQLColumnExpression[Any],
    incident_at: SQLColumnExpression[datetime],
    now: datetime,
) -> ColumnElement[bool]:
    """True for incidents with at least one window open at ``now`` (index-friendly:
    compares the incident time with two instants computed here)."""
    longest = max(window_lengths().values())
    return and_(
        or_(incident_type.is_(None), incident_type.in_(sorted(SEXUAL_VIOLENCE_TYPES))),
        incident_at <= now,
        incident_at > now - longest,
    )


def within_window_sql(
    care: Care, seconds_since_incident: ColumnElement[float]
) -> ColumnElement[bool]:
    """True where an instant ``seconds_since_incident`` after the incident falls inside
    the ``care`` window (the caller computes the seconds portably)."""
    length = window_lengths()[care].total_seconds()
    return and_(seconds_since_incident >= 0, seconds_since_incident < length)
