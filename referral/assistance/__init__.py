"""Victim assistance (R21): SEA survivors referred into the existing GBV services."""
