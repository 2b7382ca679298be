"""Encryption at rest (rule R2): key ring, value format, row-bound fields, rotation.

These tests use their own tiny declarative base and a bare Flask app, so they exercise
``referral.security.crypto`` without the rest of the application.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from sqlalchemy import String, Table, create_engine, insert, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from referral.security.crypto import (
    FORMAT_VERSION,
    KEYRING_EXTENSION,
    KIND_DATA_KEY,
    KIND_MASTER_KEY,
    Binding,
    DecryptionError,
    EncryptedBlob,
    EncryptionError,
    KeyConfigurationError,
    KeyEntry,
    KeyRing,
    Sealed,
    encrypted_column,
    encrypted_columns,
    generate_key_entry,
    init_crypto,
    parse_key_file,
    rotate_keys,
)

BINDING = Binding("cases", "survivor_name", "GBV-26-7KQ3M")


def ring(*ids: str) -> KeyRing:
    return KeyRing.from_entries([generate_key_entry(i) for i in ids])


# --------------------------------------------------------------------------- pure parts


def test_round_trip() -> None:
    """R2: a sensitive value comes back exactly as it went in."""
    kr = ring("a")
    sealed = kr.seal(b"Amina Yusuf, tel. +252 61 555", BINDING)
    assert kr.open(sealed, BINDING).decode() == "Amina Yusuf, tel. +252 61 555"


def test_format_header_names_version_kind_and_key() -> None:
    kr = ring("k1", "k0")
    sealed = kr.seal(b"x", BINDING)
    assert sealed.raw[0] == FORMAT_VERSION
    assert sealed.kind == KIND_MASTER_KEY
    assert sealed.key_id == "k1"
    assert len(sealed.raw) == 3 + len("k1") + 12 + 1 + 16


def test_nonce_is_random() -> None:
    kr = ring("a")
    assert kr.seal(b"same", BINDING) != kr.seal(b"same", BINDING)


def test_plaintext_not_in_ciphertext() -> None:
    """R2: the stored bytes do not contain the plaintext."""
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    assert canary not in ring("a").seal(canary, BINDING).raw


@pytest.mark.parametrize(
    "other",
    [
        Binding("cases", "survivor_name", "GBV-26-XXXXX"),  # another row
        Binding("cases", "contact_phone", "GBV-26-7KQ3M"),  # another column
        Binding("allegations", "survivor_name", "GBV-26-7KQ3M"),  # another table
    ],
)
def test_wrong_associated_data_fails(other: Binding) -> None:
    """R2: a ciphertext moved to another row, column or table does not decrypt."""
    kr = ring("a")
    sealed = kr.seal(b"secret", BINDING)
    with pytest.raises(DecryptionError, match="authentication failed"):
        kr.open(sealed, other)


def test_wrong_key_fails() -> None:
    sealed = ring("a").seal(b"secret", BINDING)
    with pytest.raises(DecryptionError):
        ring("a").open(sealed, BINDING)  # same id, different key material


def test_unknown_key_id_fails_clearly() -> None:
    sealed = ring("old").seal(b"secret", BINDING)
    with pytest.raises(DecryptionError, match="no key 'old'"):
        ring("new").open(sealed, BINDING)


def test_relabelled_key_id_fails() -> None:
    """The header is authenticated: changing the key id byte-for-byte breaks the value."""
    kr = KeyRing([KeyEntry("ab", b"\x01" * 32), KeyEntry("ac", b"\x01" * 32)])
    sealed = kr.seal(b"secret", BINDING)
    relabelled = Sealed(sealed.raw.replace(b"ab", b"ac", 1))
    with pytest.raises(DecryptionError):
        kr.open(relabelled, BINDING)


def test_every_tampered_byte_fails() -> None:
    kr = ring("a")
    sealed = kr.seal(b"secret value", BINDING)
    for i in range(len(sealed.raw)):
        tampered = bytearray(sealed.raw)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionError):
            kr.open(Sealed(bytes(tampered)), BINDING)


@pytest.mark.parametrize("raw", [b"", b"\x01", b"\x02\x01\x01a" + b"\0" * 40, b"\x01\x01\x05ab"])
def test_malformed_values_fail(raw: bytes) -> None:
    with pytest.raises(DecryptionError):
        ring("a").open(Sealed(raw), BINDING)


def test_decryption_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """R2: a failure is an explicit, logged error naming where, never the value."""
    sealed = ring("a").seal(b"secret", BINDING)
    with caplog.at_level(logging.ERROR), pytest.raises(DecryptionError):
        ring("a").open(sealed, BINDING)
    assert "cases.survivor_name of GBV-26-7KQ3M" in caplog.text
    assert "secret" not in caplog.text


def test_first_key_encrypts_all_decrypt() -> None:
    old, new = generate_key_entry("old"), generate_key_entry("new")
    sealed_old = KeyRing.from_entries([old]).seal(b"v", BINDING)
    both = KeyRing.from_entries([new, old])
    assert both.current_key_id == "new"
    assert both.seal(b"v", BINDING).key_id == "new"
    assert both.open(sealed_old, BINDING) == b"v"
    assert both.needs_rotation(sealed_old)
    assert both.reseal(sealed_old, BINDING).key_id == "new"


def test_data_key_values_open_only_with_the_data_keys_handed_over() -> None:
    """R26: kind 0x02 values open only through the data keys the caller hands over;
    the key ring itself holds master keys only."""
    kr = ring("m")
    dk = secrets.token_bytes(32)
    sealed = kr.seal_with_data_key(b"v", BINDING, "dk-123", dk)
    assert sealed.kind == KIND_DATA_KEY and sealed.key_id == "dk-123"
    assert not kr.needs_rotation(sealed)
    with pytest.raises(DecryptionError, match="not available"):
        kr.open(sealed, BINDING)
    assert kr.open(sealed, BINDING, data_keys={"dk-123": dk}.__getitem__) == b"v"
    empty: dict[str, bytes] = {}
    with pytest.raises(DecryptionError, match="destroyed"):  # destroyed key (purge, R26)
        kr.open(sealed, BINDING, data_keys=empty.__getitem__)


def test_generated_entry_parses() -> None:
    entry = generate_key_entry()
    parsed = KeyEntry.parse(entry)
    assert len(parsed.key) == 32
    assert parsed.to_entry() == entry
    assert generate_key_entry() != entry


def test_key_not_in_repr() -> None:
    entry = generate_key_entry("a")
    encoded = entry.split(":", 1)[1]
    assert encoded not in repr(KeyEntry.parse(entry))
    assert encoded not in repr(KeyRing.from_entries([entry]))


def test_comma_separated_and_list_config() -> None:
    a, b = generate_key_entry("a"), generate_key_entry("b")
    assert KeyRing.from_entries(f"{a}, {b}").key_ids == ("a", "b")
    assert KeyRing.from_entries([b, a]).key_ids == ("b", "a")
    assert KeyRing.from_config({"ENCRYPTION_KEYS": f"{a},{b}"}).key_ids == ("a", "b")  # type: ignore[union-attr]
    assert KeyRing.from_config({"ENCRYPTION_KEYS": "", "ENCRYPTION_KEY_FILE": ""}) is None


def test_key_file_parsing(tmp_path: Path) -> None:
    a, b = generate_key_entry("new"), generate_key_entry("old")
    path = tmp_path / "keys"
    path.write_text(f"# rotation 2026-11\n{a}\n\n  {b}  \n")
    assert [e.key_id for e in parse_key_file(path)] == ["new", "old"]
    assert KeyRing.from_config({"ENCRYPTION_KEY_FILE": str(path)}).current_key_id == "new"  # type: ignore[union-attr]


def test_key_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"{generate_key_entry('a')}\nb:short\n")
    with pytest.raises(KeyConfigurationError, match="line 2"):
        parse_key_file(path)
    with pytest.raises(KeyConfigurationError, match="cannot read key file"):
        parse_key_file(tmp_path / "missing")
    (tmp_path / "empty").write_text("# nothing\n")
    with pytest.raises(KeyConfigurationError, match="no key"):
        KeyRing.from_file(tmp_path / "empty")


_32 = base64.urlsafe_b64encode(b"\0" * 32).decode().rstrip("=")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("no-colon-here", "no ':' found"),
        (f":{_32}", "invalid key id"),
        (f"bad id:{_32}", "invalid key id"),
        (f"k\u00e9:{_32}", "invalid key id"),
        ("k1:", "key part is empty"),
        ("k1:abc$", "URL-safe base64"),
        ("k1:" + base64.urlsafe_b64encode(b"\0" * 16).decode(), "32 bytes, got 16"),
        ("k1:" + base64.urlsafe_b64encode(b"\0" * 33).decode(), "32 bytes, got 33"),
        ("k1:" + base64.standard_b64encode(b"\xff" * 32).decode(), "URL-safe base64"),
    ],
)
def test_bad_key_entries_rejected(entry: str, message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message) as info:
        KeyEntry.parse(entry)
    assert _32 not in str(info.value)


def test_duplicate_key_ids_rejected() -> None:
    with pytest.raises(KeyConfigurationError, match="appears twice"):
        KeyRing.from_entries([generate_key_entry("a"), generate_key_entry("a")])
    with pytest.raises(KeyConfigurationError, match="at least one key"):
        KeyRing.from_entries("")


def test_both_key_sources_rejected(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="not both"):
        KeyRing.from_config(
            {"ENCRYPTION_KEYS": generate_key_entry("a"), "ENCRYPTION_KEY_FILE": "/x"}
        )


# --------------------------------------------------------------------------- app wiring


def make_app(tmp_path: Path, **config: object) -> Flask:
    app = Flask("referral_test", instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    return app


def test_production_refuses_to_start_without_keys(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="Refusing to start"):
        init_crypto(make_app(tmp_path, ENV="production"))
    with pytest.raises(KeyConfigurationError, match="Refusing to start"):
        init_crypto(make_app(tmp_path))  # no ENV at all: fail closed


def test_production_uses_configured_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, ENV="production", ENCRYPTION_KEYS=generate_key_entry("p1"))
    assert init_crypto(app).current_key_id == "p1"
    assert app.extensions[KEYRING_EXTENSION].current_key_id == "p1"


def test_development_generates_key_file_once(tmp_path: Path) -> None:
    app = make_app(tmp_path, ENV="development")
    first = init_crypto(app)
    path = Path(app.instance_path) / "dev-encryption.keys"
    assert path.exists()
    assert path.stat().st_mode & 0o777 == 0o600
    content = path.read_text()
    second = init_crypto(make_app(tmp_path, ENV="development"))
    assert path.read_text() == content
    sealed = first.seal(b"v", BINDING)
    assert second.open(sealed, BINDING) == b"v"


# --------------------------------------------------------------------------- ORM fields


class Base(DeclarativeBase):
    pass


def _pid() -> str:
    return "T-" + secrets.token_hex(5)


class Person(Base):
    __tablename__ = "crypto_test_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_pid)
    code: Mapped[str] = mapped_column(String(20), default="x")
    name: Mapped[str | None] = encrypted_column("name")
    phone: Mapped[str | None] = encrypted_column()


PERSON = cast(Table, Person.__table__)


@pytest.fixture
def bare_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, ENV="testing", ENCRYPTION_KEYS=[generate_key_entry("k1")])
    init_crypto(app)
    with app.app_context():
        yield app


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crypto.sqlite"


@pytest.fixture
def session(bare_app: Flask, db_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_column_type_is_binary_and_discoverable() -> None:
    refs = encrypted_columns(Base.metadata)
    assert [r.label for r in refs] == ["crypto_test_person.name", "crypto_test_person.phone"]
    assert isinstance(PERSON.c.name.type, EncryptedBlob)
    assert EncryptedBlob.cache_ok is True


def test_field_round_trip_and_canary_absent_from_file(session: Session, db_path: Path) -> None:
    """R2: a canary stored in an encrypted field appears nowhere in the SQLite file."""
    canary = "CANARY-" + secrets.token_hex(8)
    p = Person(name=canary, phone="+252 61 555 0101")
    session.add(p)
    session.commit()
    pid = p.public_id
    session.expunge_all()
    loaded = session.scalars(select(Person).where(Person.public_id == pid)).one()
    assert loaded.name == canary
    assert loaded.phone == "+252 61 555 0101"
    session.execute(text("PRAGMA wal_checkpoint(FULL)"))
    session.close()
    raw = db_path.read_bytes()
    assert canary.encode() not in raw
    assert b"+252 61 555" not in raw


def test_update_and_clear(session: Session) -> None:
    p = Person(name="first")
    session.add(p)
    session.commit()
    p.name = "second"
    assert p.name == "second"
    session.commit()
    session.expire_all()
    assert p.name == "second"
    p.name = None
    session.commit()
    session.expire_all()
    assert p.name is None
    raw = session.execute(select(PERSON.c.name)).scalar_one()
    assert raw is None


def test_plaintext_cannot_be_bound_directly(session: Session) -> None:
    with pytest.raises(Exception, match="accept only Sealed"):
        session.execute(insert(PERSON).values(public_id="p", code="c", name="plain"))


def test_ciphertext_moved_to_other_row_or_column_fails(session: Session) -> None:
    """R2: swapping ciphertexts between rows or columns is detected."""
    a, b = Person(name="alice", phone="111"), Person(name="bob")
    session.add_all([a, b])
    session.commit()
    t = PERSON
    a_name = session.execute(select(t.c.name).where(t.c.id == a.id)).scalar_one()
    session.execute(update(t).where(t.c.id == b.id).values(name=a_name))  # other row
    session.execute(update(t).where(t.c.id == a.id).values(phone=a_name))  # other column
    session.commit()
    session.expire_all()
    with pytest.raises(DecryptionError):
        _ = b.name
    with pytest.raises(DecryptionError):
        _ = a.phone
    assert a.name == "alice"


def test_public_id_required(bare_app: Flask) -> None:
    class NoDefault(Base):
        __tablename__ = "crypto_test_nodefault"
        id: Mapped[int] = mapped_column(primary_key=True)
        public_id: Mapped[str | None] = mapped_column(String(32))
        secret: Mapped[str | None] = encrypted_column()

    engine = create_engine("sqlite://")
    table = cast(Table, NoDefault.__table__)
    table.create(engine)
    with Session(engine) as s:
        s.add(NoDefault(secret="x"))
        with pytest.raises(EncryptionError, match="public_id"):
            s.flush()
    Base.metadata.remove(table)


def test_rotation_interrupted_and_rerun(bare_app: Flask, session: Session) -> None:
    """R2: rotation over thousands of values, interrupted half way, loses nothing."""
    n = 3000
    session.add_all([Person(name=f"name-{i}", phone=None if i % 3 else f"p{i}") for i in range(n)])
    session.commit()
    old_entry = generate_key_entry("k0")
    # Re-seal everything under k1 but pretend half was written with an older key k0.
    t = PERSON
    old = KeyRing.from_entries([old_entry])
    rows = session.execute(select(t.c.id, t.c.public_id, t.c.name)).all()
    for pk, public_id, _ in rows[: n // 2]:
        sealed = old.seal(f"name-{pk - 1}".encode(), Binding(t.name, "name", public_id))
        session.execute(update(t).where(t.c.id == pk).values(name=sealed))
    session.commit()
    k1 = bare_app.extensions[KEYRING_EXTENSION]
    assert isinstance(k1, KeyRing)
    new_entry = generate_key_entry("k2")
    k1_entry = next(e for e in bare_app.config["ENCRYPTION_KEYS"])
    rotated = KeyRing.from_entries([new_entry, k1_entry, old_entry])
    bare_app.extensions[KEYRING_EXTENSION] = rotated

    class InterruptError(Exception):
        pass

    seen = 0

    def crash_half_way(count: int) -> None:
        nonlocal seen
        seen += count
        if seen >= n // 2:
            raise InterruptError

    with pytest.raises(InterruptError):
        rotate_keys(session, rotated, Base.metadata, batch_size=200, progress=crash_half_way)
    session.rollback()
    progress: list[int] = []
    report = rotate_keys(session, rotated, Base.metadata, batch_size=200, progress=progress.append)
    assert not report.failures
    assert sum(progress) == n + n // 3
    first_moved = 1600  # 8 batches of 200 committed before the crash
    assert report.total_moved == n + n // 3 - first_moved
    again = rotate_keys(session, rotated, Base.metadata, batch_size=200)
    assert again.total_moved == 0 and again.already_current == n + n // 3
    # Every value is under the new key and still reads correctly.
    for col in (t.c.name, t.c.phone):
        for sealed in session.execute(select(col).where(col.is_not(None))).scalars():
            assert sealed.key_id == "k2"
    bare_app.extensions[KEYRING_EXTENSION] = KeyRing.from_entries([new_entry])  # old keys gone
    session.expire_all()
    people = session.scalars(select(Person).order_by(Person.id)).all()
    assert [p.name for p in people] == [f"name-{i}" for i in range(n)]
    assert [p.phone for p in people if p.phone] == [f"p{i}" for i in range(0, n, 3)]


def test_rotation_reports_moved_per_key_and_failures(bare_app: Flask, session: Session) -> None:
    session.add_all([Person(name=f"n{i}") for i in range(5)])
    session.commit()
    current = bare_app.config["ENCRYPTION_KEYS"][0]
    t = PERSON
    pk = session.execute(select(t.c.id).limit(1)).scalar_one()
    session.execute(
        update(t).where(t.c.id == pk).values(name=Sealed(b"\x01\x01\x02k1" + b"\0" * 30))
    )
    session.commit()
    rotated = KeyRing.from_entries([generate_key_entry("k9"), current])
    report = rotate_keys(session, rotated, Base.metadata)
    assert report.moved == {"k1": 4}
    assert len(report.failures) == 1 and "crypto_test_person.name" in report.failures[0]
