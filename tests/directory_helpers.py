"""Builders of areas, services and pathways, moved to tests/factories.py (the one factory module).

This module only keeps the old import path working for branches written before the
move: import from tests.factories."""

from tests.factories import SEA_PROCEDURE, Areas, make_areas, make_pathway, make_service

__all__ = ["SEA_PROCEDURE", "Areas", "make_areas", "make_pathway", "make_service"]
