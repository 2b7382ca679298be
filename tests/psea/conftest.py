"""Fixtures of the PSEA tests (the network and its GBV services, built by tests/factories.py)
and the audit events they announce."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from referral.audit.models import AuditEvent
from referral.extensions import db
from tests.factories import Network, Services, make_gbv_services, make_network


@pytest.fixture
def network() -> Network:
    return make_network()


@pytest.fixture
def gbv_services(network: Network) -> Services:
    return make_gbv_services(network)


def audit_trail(prefix: str = "psea.") -> list[AuditEvent]:
    """The audit events recorded so far (committed), oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
    )


def actions(prefix: str = "psea.") -> list[str]:
    return [event.action for event in audit_trail(prefix)]
