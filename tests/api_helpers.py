"""The API tests' world, moved to tests/factories.py (the one factory module).

This module only keeps the old import path working for branches written before the
move: import from tests.factories."""

from tests.factories import ApiWorld, bearer, build_api_world, issue, send_referral

__all__ = ["ApiWorld", "bearer", "build_api_world", "issue", "send_referral"]
