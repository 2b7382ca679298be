"""PostgreSQL's JIT compiler is off for the app's connections (POSTGRESQL_JIT, default
false): measured on the statistics statements at 100,000 cases, it engages just above
that size and then costs seconds of compilation for each statement. So are parallel
workers (POSTGRESQL_PARALLEL_QUERY, default false): starting two for the statistics
statement made it 10-17 ms instead of 3 ms."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from referral.config import engine_options
from referral.extensions import db

PG_URL = "postgresql+psycopg://app@db/referral"


def test_postgresql_jit_off_by_default_in_engine_options() -> None:
    options = engine_options(PG_URL)
    assert options["connect_args"] == {"options": "-c jit=off -c max_parallel_workers_per_gather=0"}
    assert options["pool_pre_ping"] is True


def test_postgresql_jit_and_parallel_query_can_be_turned_back_on() -> None:
    assert engine_options(PG_URL, jit=True)["connect_args"] == {
        "options": "-c max_parallel_workers_per_gather=0"
    }
    assert engine_options(PG_URL, parallel=True)["connect_args"] == {"options": "-c jit=off"}
    assert "connect_args" not in engine_options(PG_URL, jit=True, parallel=True)


def test_postgresql_jit_setting_leaves_sqlite_alone() -> None:
    assert engine_options("sqlite:///x.sqlite") == {"connect_args": {"timeout": 30}}


def test_postgresql_jit_off_for_the_apps_connections(app: Flask, engine_name: str) -> None:
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert app.config["POSTGRESQL_JIT"] is False
    assert app.config["POSTGRESQL_PARALLEL_QUERY"] is False
    with app.app_context():
        assert db.session.execute(text("SHOW jit")).scalar_one() == "off"
        gather = text("SHOW max_parallel_workers_per_gather")
        assert db.session.execute(gather).scalar_one() == "0"
        db.session.rollback()
