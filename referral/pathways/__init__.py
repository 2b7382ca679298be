"""Referral pathways and SOPs per area, with versions, and the pathway lookup."""
