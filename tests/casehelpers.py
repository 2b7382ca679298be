"""Builders of the case and referral tests, moved to tests/factories.py (the one factory module).

This module only keeps the old import path working for branches written before the
move: import from tests.factories."""

from tests.factories import (
    captured_events,
    correct_incident,
    incident,
    make_service,
    open_case,
    publish_pathway,
    referral_consent,
    request,
    the_area,
)

__all__ = [
    "captured_events",
    "correct_incident",
    "incident",
    "make_service",
    "open_case",
    "publish_pathway",
    "referral_consent",
    "request",
    "the_area",
]
