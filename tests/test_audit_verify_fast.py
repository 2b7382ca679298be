"""`audit verify` builds each link from the stored values (no ORM/JSON types): same bytes,
and its precomputed HMAC is the standard one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from referral.audit import record
from referral.audit.models import link_message
from referral.audit.services import _row_message, verify_chain
from referral.extensions import db

texts = st.one_of(st.none(), st.text(max_size=20))
ints = st.one_of(st.none(), st.integers(min_value=-(2**40), max_value=2**40))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    id_=st.integers(min_value=1, max_value=2**40),
    when=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    actor_id=ints,
    strings=st.lists(texts, min_size=8, max_size=8),
    org_id=ints,
    revealed=st.lists(st.text(max_size=10), max_size=4),
    detail=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    stored_as_text=st.booleans(),
)
def test_fast_row_message_equals_canonical_link(
    id_: int,
    when: datetime,
    actor_id: int | None,
    strings: list[str | None],
    org_id: int | None,
    revealed: list[str],
    detail: dict[str, Any],
    stored_as_text: bool,
) -> None:
    """The verifier's string-built link is byte for byte ``link_message()``."""
    import json

    public_id, role, action, obj_type, obj_id, outcome, request_id, address = strings
    fields = {
        "id": id_,
        "occurred_at": when,
        "actor_id": actor_id,
        "actor_public_id": public_id,
        "actor_role": role,
        "org_id": org_id,
        "action": action,
        "obj_type": obj_type,
        "obj_id": obj_id,
        "outcome": outcome,
        "request_id": request_id,
        "client_address": address,
        "fields_revealed": revealed,
        "detail": detail,
    }
    prev = "a" * 64
    expected = link_message(prev, fields)
    # As the drivers hand it back: the JSON columns as their stored text (SQLAlchemy's
    # default serialisation, with spaces), the instant as SQLite's text or PostgreSQL's.
    stamp = (
        when.strftime("%Y-%m-%d %H:%M:%S.%f")
        if stored_as_text
        else when.astimezone(UTC).isoformat(timespec="microseconds")
    )
    row = (
        id_,
        stamp if stored_as_text else when.astimezone(timezone_plus_two()),
        actor_id,
        public_id,
        role,
        org_id,
        action,
        obj_type,
        obj_id,
        outcome,
        request_id,
        address,
        json.dumps(revealed),
        json.dumps(detail),
        "k1",
        prev,
        "b" * 64,
    )
    assert _row_message(row, {}) == expected


def timezone_plus_two() -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=2))


def test_verify_with_awkward_content(app: Flask) -> None:
    """Quotes, backslashes, control characters, non-ASCII and nested detail verify."""
    record(
        "test.awkward",
        obj_type='th"ing\\',
        obj_id="é\n\t\x01",
        fields_revealed=["name", "contact"],
        detail={"z": [1, {"b": None, "a": "ü"}], "a": 'q"\\', "n": 2**40},
    )
    record("test.plain")
    db.session.commit()
    result = verify_chain(db.session())
    assert result.ok, result.message()
    assert result.checked == 2


def test_verify_rechecks_a_fast_mismatch_before_reporting(app: Flask, monkeypatch: Any) -> None:
    """A fast-path mismatch alone is not a broken chain: the ORM path decides."""
    from referral.audit import services

    record("test.one")
    db.session.commit()
    monkeypatch.setattr(services, "_row_message", lambda row, cache: b"not the link")
    assert verify_chain(db.session()).ok
    with db.engine.begin() as connection:  # a real break is still a break
        connection.execute(text("UPDATE audit_chain_head SET last_id = 5"))
    assert not verify_chain(db.session()).ok


@settings(max_examples=100, deadline=None)
@given(key=st.binary(min_size=32, max_size=64), message=st.binary(max_size=600))
def test_item3_precomputed_hmac_is_standard_hmac_sha256(key: bytes, message: bytes) -> None:
    """The chain's MAC, with the key's pads hashed once, is RFC 2104 HMAC-SHA256."""
    import hmac

    from referral.security.crypto import ChainMac

    assert ChainMac(key).hexdigest(message) == hmac.new(key, message, "sha256").hexdigest()
