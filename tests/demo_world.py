"""One world for a whole module of browser tests: the fictional demo data of Lomara
(referral/demo.py), loaded once per module instead of once per test, every demo user
with a known password and an enrolled authenticator.

A module that uses it imports both fixtures below (``demo_world_fixture`` and
``keep_module_data``); the second, named ``_fresh_state``, replaces the conftest fixture
that empties the tables after every test. The tables are emptied once, when the module
ends. Tests of such a module must not depend on each other's changes:
each one makes what it needs (a new case, a new referral...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from referral import clock
from referral.db import User
from referral.demo import load_demo
from referral.directory.models import Service
from referral.extensions import db, limiter
from referral.referrals import services as engine
from referral.referrals.models import Referral, ReferralState
from referral.security import passwords, totp
from referral.security.policy import Role
from tests.casehelpers import open_case, referral_consent, request
from tests.conftest import PASSWORD, START, empty_tables

# The demo user who plays each role.
DEMO_EMAILS = {
    Role.ADMIN: "admin@demo.example.org",
    Role.AUDITOR: "auditor@demo.example.org",
    Role.GBV_COORDINATOR: "coordinator@demo.example.org",
    Role.SUPERVISOR: "supervisor@demo.example.org",
    Role.CASEWORKER: "caseworker@demo.example.org",
    Role.SERVICE_FOCAL_POINT: "clinic@demo.example.org",
    Role.PSEA_FOCAL_POINT: "psea.focal@demo.example.org",
    Role.PSEA_COORDINATOR: "psea.coordinator@demo.example.org",
    Role.VA_FOCAL_POINT: "va.focal@demo.example.org",
}
# The health service of LWHA in Kesa, whose focal point plays the service focal point.
CLINIC = "Kesa Women's Clinic: clinical management of rape"
# A second caseworker of the demo caseworker's organisation, who reads in Arabic: the
# language is a setting of the user, so it gets a user of its own.
ARABIC_READER = "arabic.reader@demo.example.org"


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    totp_secret: str

    def next_code(self) -> str:
        """A fresh code: moves the frozen clock to the next 30-second step first, since a
        code already used is refused."""
        clock.advance(timedelta(seconds=totp.STEP_SECONDS))
        return totp.code_at(self.totp_secret, clock.utcnow())


@dataclass(frozen=True)
class DemoWorld:
    accounts: dict[str, Account]  # by e-mail

    def account(self, who: Role | str) -> Account:
        return self.accounts[DEMO_EMAILS[who] if isinstance(who, Role) else who]


def _enrol_everyone() -> dict[str, Account]:
    password_hash = passwords.hash_password(PASSWORD)
    supervisor = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[Role.SUPERVISOR]))
    assert supervisor is not None
    db.session.add(
        User(
            email=ARABIC_READER,
            full_name="Nour Saleh",
            role=Role.CASEWORKER,
            organisation_id=supervisor.organisation_id,
            password_hash=password_hash,
            must_change_password=False,
        )
    )
    accounts = {}
    # Accounts past their first sign-in: own password set, authenticator enrolled (the
    # first sign-in itself: tests/test_auth.py::test_item6_demo_accounts_...).
    for user in db.session.scalars(select(User)):
        user.password_hash = password_hash
        user.must_change_password = False
        user.totp_secret = totp.new_secret()
        user.totp_enrolled_at = clock.utcnow()
        accounts[user.email] = Account(user.email, PASSWORD, user.totp_secret)
    db.session.commit()
    return accounts


@pytest.fixture(scope="module", name="demo_world")
def demo_world_fixture(app: Flask) -> Iterator[DemoWorld]:
    clock.freeze(START)
    try:
        with app.app_context():
            load_demo()
            accounts = _enrol_everyone()
            db.session.remove()
        yield DemoWorld(accounts)
    finally:
        clock.unfreeze()
        empty_tables(app)


@pytest.fixture(autouse=True, name="_fresh_state")
def keep_module_data(app: Flask, demo_world: DemoWorld) -> Iterator[None]:
    """Replaces conftest's: the module's data stays between its tests."""
    limiter.reset()
    context = app.app_context()
    context.push()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.remove()
        context.pop()


def sign_in(page: Any, account: Account) -> None:
    """Password, then a fresh authenticator code, through the real pages."""
    page.goto("/auth/sign-in")
    page.locator("#email").fill(account.email)
    page.locator("#password").fill(account.password)
    page.locator("form.narrow [type=submit]").click()
    page.wait_for_url("**/auth/verify")
    page.locator("#code").fill(account.next_code())
    page.locator("form.narrow [type=submit]").click()
    page.wait_for_url("**/")


def demo_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def clinic() -> Service:
    service = db.session.scalar(select(Service).where(Service.name == CLINIC))
    assert service is not None
    return service


def sent_referral_to_the_clinic() -> Referral:
    """A new case of the demo caseworker, referred (with consent) to the clinic."""
    worker = demo_user(DEMO_EMAILS[Role.CASEWORKER])
    case = open_case(worker, area=clinic().areas[0])
    consent = referral_consent(case, worker, clinic(), shared=("name",))
    referral = engine.create_referral(
        case, request(clinic(), note="Needs care today"), consent=consent, actor=worker
    )
    db.session.commit()
    assert referral.state is ReferralState.SENT
    return referral
