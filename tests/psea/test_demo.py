"""The demo data holds an allegation in every state and an assistance referral accepted by
a GBV case-management service; loading twice adds nothing."""

from __future__ import annotations

import sqlalchemy as sa

from referral.assistance.models import AssistanceRecord
from referral.cases.models import Case
from referral.demo import load_demo
from referral.directory.models import Sector
from referral.extensions import db
from referral.psea.models import Allegation, AllegationState, Category
from referral.referrals.models import Referral, ReferralState, SourceKind


def test_demo_has_allegations_in_every_state_once() -> None:
    load_demo()
    states = set(db.session.scalars(sa.select(Allegation.state)))
    assert states == set(AllegationState)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Allegation))
    load_demo()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Allegation)) == total
    # R20 shows in the demo too
    assert Category.SEXUAL_ABUSE_OF_A_CHILD in set(
        db.session.scalars(sa.select(Allegation.category))
    )


def test_demo_has_an_assistance_referral_accepted_by_gbv_case_management() -> None:
    """R21 in the demo."""
    load_demo()
    load_demo()
    referrals = db.session.scalars(
        sa.select(Referral).where(Referral.source_kind == SourceKind.ASSISTANCE)
    ).all()
    assert len(referrals) == 1
    assert referrals[0].state is ReferralState.ACCEPTED
    assert referrals[0].sector is Sector.GBV_CASE_MANAGEMENT
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssistanceRecord)) == 1
    case = db.session.scalar(sa.select(Case).where(Case.origin_referral_id == referrals[0].id))
    assert case is not None and case.sea_by_aid_personnel
