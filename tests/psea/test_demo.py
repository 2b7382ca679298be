"""The demo data holds an allegation in every state, and loading twice adds nothing."""

from __future__ import annotations

import sqlalchemy as sa

from referral.demo import load_demo
from referral.extensions import db
from referral.psea.models import Allegation, AllegationState, Category


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
