"""PSEA allegations: intake, routing, deadlines (R17-R20) and interim delegation (R22)."""
