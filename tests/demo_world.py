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
from typing import Any

import pytest
from flask import Flask

from referral import clock
from referral.demo import load_demo
from referral.extensions import db, limiter
from tests.conftest import START, empty_tables
from tests.factories import (
    Account,
    DemoWorld,
    enrol_every_demo_user,
)


@pytest.fixture(scope="module", name="demo_world")
def demo_world_fixture(app: Flask) -> Iterator[DemoWorld]:
    clock.freeze(START)
    try:
        with app.app_context():
            load_demo()
            accounts = enrol_every_demo_user()
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
