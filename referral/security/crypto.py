"""Encryption at rest: key ring, AES-256-GCM value format, row-bound encrypted fields.

Ground layer: imports only the standard library, ``cryptography``, ``sqlalchemy`` and
``flask``; it knows no feature and no model.

Value format (stored as bytes in a ``LargeBinary`` column)::

    offset  size  field
    0       1     format version (``0x01``)
    1       1     key kind: ``0x01`` = master key from the key ring,
                            ``0x02`` = per-record data key (envelope encryption)
    2       1     length n of the key id (1..64)
    3       n     key id (ASCII); for kind 0x02 the id of the record's data key
    3+n     12    random nonce
    15+n    >=16  AES-GCM ciphertext followed by the 16-byte tag

The associated data authenticates the whole header (so a value cannot be relabelled)
and binds the value to ``table``, ``column`` and the row's ``public_id``: a ciphertext
copied to another column or another row does not decrypt.

Per-record data keys (envelope encryption): a model that declares
``__data_key_owners__`` (see :class:`DataKeyOwner`) has its values sealed under the
data key of its owner record (kind 0x02, the data key id in the header). The key
ring does not store data keys: a :class:`DataKeyProvider` (``referral.lifecycle.keys``,
installed per app with :func:`install_data_key_provider`) finds or creates them in the
database, wrapped by the master key.
Values encrypted directly under a master key (kind 0x01) keep working.

Row binding: a ``TypeDecorator`` does not see its row, so encrypted attributes are
plain Python descriptors (:class:`EncryptedField`, declared with
:func:`encrypted_column`) sitting over a private mapped column of type
:class:`EncryptedBlob`. Setting the attribute records the plaintext as pending; a
``before_flush`` session hook seals it with (table, column, public_id) as associated
data. Reading the attribute opens the stored value lazily, on first access, so a
list page that never touches the field never decrypts it. The column type itself
only converts between bytes and :class:`Sealed` and refuses anything else, so a
plaintext can never be bound to an encrypted column by mistake (Core inserts
included). It holds no key material.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app, has_app_context
from sqlalchemy import Column, LargeBinary, MetaData, Table, event, func, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, object_mapper
from sqlalchemy.orm.exc import UnmappedInstanceError
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.orm import Mapper

log = logging.getLogger(__name__)

FORMAT_VERSION: Final = 1
KIND_MASTER_KEY: Final = 0x01
KIND_DATA_KEY: Final = 0x02
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
KEY_SIZE: Final = 32
MAX_KEY_ID_LENGTH: Final = 64
KEYRING_EXTENSION: Final = "referral_keyring"
DATA_KEYS_EXTENSION: Final = "referral_data_key_provider"
DEV_KEY_FILENAME: Final = "dev-encryption.keys"
_AD_PREFIX: Final = b"referral-field-v1"
_KEY_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# --------------------------------------------------------------------------- errors


class CryptoError(Exception):
    """Base class for encryption-at-rest errors."""


class KeyConfigurationError(CryptoError):
    """The key configuration is missing or malformed."""


class EncryptionError(CryptoError):
    """A value could not be encrypted (for example: the row has no public id yet)."""


class DecryptionError(CryptoError):
    """A stored value could not be decrypted: wrong key, wrong binding or tampering.

    Never swallowed into an empty value; callers see it and it is logged.
    """


class ShreddedError(DecryptionError):
    """The value's record data key was destroyed on purpose (retention purge, R26).

    The one decryption failure an encrypted attribute reads as ``None``: the record
    was purged and its sensitive fields no longer exist.
    """


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One named 256-bit key. The key bytes never appear in ``repr``."""

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_id(self.key_id)
        if len(self.key) != KEY_SIZE:
            raise KeyConfigurationError(
                f"key {self.key_id!r}: a key must be exactly {KEY_SIZE} bytes, got {len(self.key)}"
            )

    @classmethod
    def parse(cls, entry: str) -> KeyEntry:
        """Parse ``keyid:base64url-key``; errors name the key id, never the key."""
        text = entry.strip()
        if ":" not in text:
            raise KeyConfigurationError(
                "a key entry must look like 'keyid:base64url-key' (no ':' found)"
            )
        key_id, _, encoded = text.partition(":")
        key_id = key_id.strip()
        _check_key_id(key_id)
        encoded = encoded.strip()
        if not encoded:
            raise KeyConfigurationError(f"key {key_id!r}: the key part is empty")
        if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", encoded):
            raise KeyConfigurationError(
                f"key {key_id!r}: the key must be URL-safe base64 (A-Z a-z 0-9 - _)"
            )
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise KeyConfigurationError(f"key {key_id!r}: the key is not valid base64") from exc
        if len(raw) != KEY_SIZE:
            raise KeyConfigurationError(
                f"key {key_id!r}: the key must decode to {KEY_SIZE} bytes, got {len(raw)}"
            )
        return cls(key_id, raw)

    def to_entry(self) -> str:
        return f"{self.key_id}:{base64.urlsafe_b64encode(self.key).decode('ascii').rstrip('=')}"


def _check_key_id(key_id: str) -> None:
    if not _KEY_ID_RE.fullmatch(key_id):
        raise KeyConfigurationError(
            f"invalid key id {key_id!r}: use 1-{MAX_KEY_ID_LENGTH} characters "
            "from A-Z a-z 0-9 . _ - starting with a letter or digit"
        )


def generate_key_entry(key_id: str | None = None) -> str:
    """Return a fresh ``keyid:base64url-key`` entry (the id defaults to date + random)."""
    if key_id is None:
        key_id = f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return KeyEntry(key_id, AESGCM.generate_key(bit_length=256)).to_entry()


def parse_key_entries(value: str | Sequence[str]) -> list[KeyEntry]:
    """Parse a list of entries or a comma/newline separated string of entries."""
    items: Iterable[str] = re.split(r"[,\n]", value) if isinstance(value, str) else value
    entries: list[KeyEntry] = []
    for item in items:
        if not isinstance(item, str):
            raise KeyConfigurationError("each key entry must be a string 'keyid:key'")
        if item.strip():
            entries.append(KeyEntry.parse(item))
    return entries


def parse_key_file(path: str | os.PathLike[str]) -> list[KeyEntry]:
    """Read one entry per line; blank lines and ``#`` comments are ignored."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyConfigurationError(f"cannot read key file {p}: {exc.strerror}") from exc
    if os.name == "posix" and p.stat().st_mode & 0o077:
        log.warning("key file %s is readable by group or others; chmod 600 it", p)
    entries: list[KeyEntry] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            entries.append(KeyEntry.parse(stripped))
        except KeyConfigurationError as exc:
            raise KeyConfigurationError(f"{p}, line {lineno}: {exc}") from None
    return entries


# --------------------------------------------------------------------------- format


@dataclass(frozen=True, slots=True)
class Binding:
    """What a value is bound to: table, column and the row's public id."""

    table: str
    column: str
    public_id: str

    def associated_data(self, header: bytes) -> bytes:
        parts = (_AD_PREFIX, self.table.encode(), self.column.encode(), self.public_id.encode())
        out = bytearray()
        for part in parts:
            out += len(part).to_bytes(2, "big") + part
        return bytes(out) + header


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted value exactly as stored. Equality is byte equality."""

    raw: bytes

    @property
    def version(self) -> int:
        return self._header()[0]

    @property
    def kind(self) -> int:
        return self._header()[1]

    @property
    def key_id(self) -> str:
        return self._header()[2]

    def _header(self) -> tuple[int, int, str, int]:
        """Return (version, kind, key id, header length); raises DecryptionError."""
        raw = self.raw
        if len(raw) < 3:
            raise DecryptionError("encrypted value is truncated")
        version, kind, n = raw[0], raw[1], raw[2]
        if version != FORMAT_VERSION:
            raise DecryptionError(f"unknown encrypted value format version {version}")
        if kind not in (KIND_MASTER_KEY, KIND_DATA_KEY):
            raise DecryptionError(f"unknown key kind {kind}")
        if not 1 <= n <= MAX_KEY_ID_LENGTH or len(raw) < 3 + n + NONCE_SIZE + TAG_SIZE:
            raise DecryptionError("encrypted value is truncated or malformed")
        try:
            key_id = raw[3 : 3 + n].decode("ascii")
        except UnicodeDecodeError as exc:
            raise DecryptionError("encrypted value has a malformed key id") from exc
        return version, kind, key_id, 3 + n

    def parts(self) -> tuple[bytes, bytes, bytes]:
        """Return (header, nonce, ciphertext-with-tag)."""
        *_, hlen = self._header()
        return self.raw[:hlen], self.raw[hlen : hlen + NONCE_SIZE], self.raw[hlen + NONCE_SIZE :]

    def __repr__(self) -> str:  # never dump ciphertext into logs
        return f"<Sealed {len(self.raw)} bytes>"


def _header(kind: int, key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((FORMAT_VERSION, kind, len(kid))) + kid


DataKeyResolver = Callable[[str], bytes]
"""Returns the 32-byte record data key for a data key id; raises :class:`ShreddedError`
for a destroyed key and ``LookupError`` for an unknown one."""


class DataKeyProvider(Protocol):
    """Finds (or creates) the data key of an owner record, inside a session."""

    def key_for(self, session: Session, owner_type: str, owner_public_id: str) -> tuple[str, bytes]:
        """Return (data key id, 32-byte key); raise :class:`EncryptionError` if destroyed."""
        ...

    def resolve(self, key_id: str) -> bytes:
        """Return the data key with this id (see :data:`DataKeyResolver`)."""
        ...


@dataclass(frozen=True, slots=True)
class DataKeyOwner:
    """Names the record whose data key encrypts a model's fields.

    Declare on the model as ``__data_key_owners__ = (DataKeyOwner(...), ...)``; the
    first declaration whose ``when`` matches the row applies:

    - ``DataKeyOwner("case")``: the row itself owns a key (owner id: its public id);
    - ``DataKeyOwner("case", via="case")``: the owner is the row's ``case`` relationship;
    - ``DataKeyOwner("case", public_id_attr="source_public_id", when=("source_kind",
      "case"))``: the owner's public id is stored on the row, for rows whose
      ``source_kind`` is ``"case"``;
    - ``via`` and ``public_id_attr`` together: the owner's public id is stored on the
      related row (``when`` is then tested on the related row too).
    """

    owner_type: str
    via: str | None = None
    public_id_attr: str | None = None
    when: tuple[str, str] | None = None

    def applies_to(self, instance: object, session: Session) -> bool:
        if self.when is None:
            return True
        holder = self._target(instance, session) if self.via and self.public_id_attr else instance
        value = getattr(holder, self.when[0], None) if holder is not None else None
        return value is not None and str(value) == self.when[1]

    def _target(self, instance: object, session: Session) -> Any:
        if self.via is None:
            return instance
        target = getattr(instance, self.via, None)
        if target is None:  # a pending row with only the foreign key set
            mapper = object_mapper(instance)
            relationship = mapper.relationships[self.via]
            keys = [
                getattr(instance, mapper.get_property_by_column(c).key)
                for c in relationship.local_columns
            ]
            if any(k is None for k in keys):
                return None
            with session.no_autoflush:
                ident = keys[0] if len(keys) == 1 else tuple(keys)
                target = session.get(relationship.mapper.class_, ident)
        return target

    def owner_public_id(self, instance: object, session: Session) -> str | None:
        if self.via is None and self.public_id_attr is None:
            _ensure_public_id(instance)
            return str(instance.public_id)  # type: ignore[attr-defined]
        holder: Any = self._target(instance, session)
        if holder is None:
            return None
        if self.public_id_attr is not None:
            value = getattr(holder, self.public_id_attr, None)
            return str(value) if value else None
        _ensure_public_id(holder)
        return str(holder.public_id)


def data_key_owners(cls: type) -> tuple[DataKeyOwner, ...]:
    return tuple(getattr(cls, "__data_key_owners__", ()))


def data_key_owner_of(instance: object, session: Session) -> tuple[str, str] | None:
    """(owner type, owner public id) whose data key encrypts this row; None: master key."""
    owners = data_key_owners(type(instance))
    if not owners:
        return None
    for decl in owners:
        if decl.applies_to(instance, session):
            public_id = decl.owner_public_id(instance, session)
            if public_id:
                return decl.owner_type, public_id
    raise EncryptionError(
        f"{type(instance).__name__}: no data key owner for this row (set its owner first)"
    )


class KeyRing:
    """Master keys from configuration. The first key encrypts; every key decrypts."""

    def __init__(self, entries: Sequence[KeyEntry]) -> None:
        if not entries:
            raise KeyConfigurationError("the key ring needs at least one key")
        seen: set[str] = set()
        for entry in entries:
            if entry.key_id in seen:
                raise KeyConfigurationError(f"key id {entry.key_id!r} appears twice")
            seen.add(entry.key_id)
        self._entries = tuple(entries)
        self._ciphers = {e.key_id: AESGCM(e.key) for e in entries}
        self.data_key_resolver: DataKeyResolver | None = None
        self.data_key_provider: DataKeyProvider | None = None

    def __repr__(self) -> str:
        return f"<KeyRing current={self.current_key_id!r} keys={list(self.key_ids)!r}>"

    @classmethod
    def from_entries(cls, value: str | Sequence[str]) -> KeyRing:
        return cls(parse_key_entries(value))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> KeyRing:
        entries = parse_key_file(path)
        if not entries:
            raise KeyConfigurationError(f"key file {path} contains no key")
        return cls(entries)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KeyRing | None:
        """Build from ``ENCRYPTION_KEYS`` or ``ENCRYPTION_KEY_FILE``; None if neither."""
        keys = config.get("ENCRYPTION_KEYS") or None
        key_file = config.get("ENCRYPTION_KEY_FILE") or None
        if keys and key_file:
            raise KeyConfigurationError(
                "set either ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE, not both"
            )
        if keys:
            return cls.from_entries(keys)
        if key_file:
            return cls.from_file(key_file)
        return None

    @property
    def current_key_id(self) -> str:
        return self._entries[0].key_id

    @property
    def entries(self) -> tuple[KeyEntry, ...]:
        return self._entries

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(e.key_id for e in self._entries)

    def seal(self, plaintext: bytes, binding: Binding) -> Sealed:
        """Encrypt under the current master key."""
        header = _header(KIND_MASTER_KEY, self.current_key_id)
        nonce = os.urandom(NONCE_SIZE)
        ct = self._ciphers[self.current_key_id].encrypt(
            nonce, plaintext, binding.associated_data(header)
        )
        return Sealed(header + nonce + ct)

    def seal_with_data_key(
        self, plaintext: bytes, binding: Binding, data_key_id: str, data_key: bytes
    ) -> Sealed:
        """Encrypt under a record data key (envelope encryption; used by a later issue)."""
        _check_key_id(data_key_id)
        header = _header(KIND_DATA_KEY, data_key_id)
        nonce = os.urandom(NONCE_SIZE)
        ct = AESGCM(data_key).encrypt(nonce, plaintext, binding.associated_data(header))
        return Sealed(header + nonce + ct)

    def open(
        self,
        sealed: Sealed,
        binding: Binding,
        *,
        data_keys: DataKeyResolver | None = None,
    ) -> bytes:
        """Decrypt, or raise :class:`DecryptionError` (which is also logged).

        Data-key values are opened with ``data_keys`` if given, else the installed
        resolver. A destroyed data key raises :class:`ShreddedError`.
        """
        try:
            header, nonce, ct = sealed.parts()
            kind, key_id = sealed.kind, sealed.key_id
            if kind == KIND_MASTER_KEY:
                cipher = self._ciphers.get(key_id)
                if cipher is None:
                    raise DecryptionError(f"no key {key_id!r} in the key ring")
            else:
                resolver = data_keys or self.data_key_resolver
                if resolver is None and (provider := current_data_key_provider()) is not None:
                    resolver = provider.resolve
                if resolver is None:
                    raise DecryptionError(f"record data key {key_id!r} is not available")
                try:
                    cipher = AESGCM(resolver(key_id))
                except ShreddedError:
                    raise
                except (KeyError, LookupError, ValueError) as exc:
                    raise DecryptionError(
                        f"record data key {key_id!r} is not available (destroyed?)"
                    ) from exc
            try:
                return cipher.decrypt(nonce, ct, binding.associated_data(header))
            except InvalidTag:
                raise DecryptionError(
                    f"authentication failed for key {key_id!r} (wrong key, value "
                    "moved to another row or column, or tampered)"
                ) from None
        except ShreddedError:
            raise
        except DecryptionError as exc:
            log.error(
                "decryption failed for %s.%s of %s: %s",
                binding.table,
                binding.column,
                binding.public_id,
                exc,
            )
            raise

    def needs_rotation(self, sealed: Sealed) -> bool:
        return sealed.kind == KIND_MASTER_KEY and sealed.key_id != self.current_key_id

    def reseal(self, sealed: Sealed, binding: Binding) -> Sealed:
        """Re-encrypt a master-key value under the current key."""
        return self.seal(self.open(sealed, binding), binding)

    def wrap_data_key(self, data_key: bytes, binding: Binding) -> Sealed:
        """Wrap a record data key under the current master key (AES-GCM, bound)."""
        if len(data_key) != KEY_SIZE:
            raise EncryptionError("a data key must be 32 bytes")
        return self.seal(data_key, binding)

    def unwrap_data_key(self, wrapped: Sealed, binding: Binding) -> bytes:
        if wrapped.kind != KIND_MASTER_KEY:
            raise DecryptionError("a wrapped data key must be sealed under a master key")
        key = self.open(wrapped, binding)
        if len(key) != KEY_SIZE:
            raise DecryptionError("unwrapped data key has the wrong size")
        return key


# --------------------------------------------------------------------------- column type


class EncryptedBlob(TypeDecorator[Sealed]):
    """Column type for sealed values: bytes in the database, :class:`Sealed` in Python.

    It holds no key material and refuses to bind anything but a :class:`Sealed`, so a
    plaintext string can never reach an encrypted column.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.raw
        raise TypeError(
            "encrypted columns accept only Sealed values; set the plaintext through "
            "the model's encrypted attribute"
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> Sealed | None:
        if value is None:
            return None
        return Sealed(bytes(value))


# --------------------------------------------------------------------------- row-bound field


_PENDING: Final = "_referral_enc_pending_"
_CACHE: Final = "_referral_enc_cache_"
_NOTHING: Final = object()


def current_keyring() -> KeyRing:
    """The key ring of the current Flask app."""
    if not has_app_context():
        raise EncryptionError("encrypted fields need a Flask application context")
    ring = current_app.extensions.get(KEYRING_EXTENSION)
    if not isinstance(ring, KeyRing):
        raise EncryptionError("no key ring installed: call init_crypto(app) in create_app")
    return ring


def install_data_key_provider(app: Flask, provider: DataKeyProvider) -> None:
    """Make ``provider`` the app's source of record data keys (any key ring it uses)."""
    app.extensions[DATA_KEYS_EXTENSION] = provider


def current_data_key_provider() -> DataKeyProvider | None:
    if not has_app_context():
        return None
    provider = current_app.extensions.get(DATA_KEYS_EXTENSION)
    return cast("DataKeyProvider | None", provider)


class EncryptedField:
    """Descriptor holding a plaintext ``str`` over a private :class:`EncryptedBlob` column.

    Declare with :func:`encrypted_column`. The plaintext is sealed at flush with
    (table, column, public_id) as associated data and opened on first read.
    The model must have a ``public_id`` string attribute.
    """

    def __init__(self, column_name: str | None = None, *, nullable: bool = True) -> None:
        self.column_name = column_name
        self.nullable = nullable
        self.attr = ""
        self.storage_attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = name
        self.storage_attr = f"_{name}_sealed"
        if self.column_name is None:
            self.column_name = name
        # Declarative maps this private attribute as the real column.
        setattr(
            owner,
            self.storage_attr,
            mapped_column(self.column_name, EncryptedBlob(), nullable=self.nullable),
        )
        fields = dict(getattr(owner, "__encrypted_fields__", {}))
        fields[name] = self
        owner.__encrypted_fields__ = fields  # type: ignore[attr-defined]

    def binding(self, instance: object) -> Binding:
        mapper = object_mapper(instance)
        column = mapper.get_property(self.storage_attr).columns[0]
        public_id = getattr(instance, "public_id", None)
        if not isinstance(public_id, str) or not public_id:
            raise EncryptionError(
                f"{type(instance).__name__}.{self.attr}: the row has no public_id to bind to"
            )
        return Binding(column.table.name, column.name, public_id)

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        state = instance.__dict__
        pending = state.get(_PENDING + self.attr, _NOTHING)
        if pending is not _NOTHING:
            return pending
        sealed = getattr(instance, self.storage_attr)
        if sealed is None:
            return None
        cached = state.get(_CACHE + self.attr)
        if cached is not None and cached[0] is sealed:
            return cached[1]
        try:
            plaintext = current_keyring().open(sealed, self.binding(instance)).decode("utf-8")
        except ShreddedError:
            return None  # purged (R26): the value no longer exists
        state[_CACHE + self.attr] = (sealed, plaintext)
        return plaintext

    def __set__(self, instance: object, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{self.attr} takes a str or None")
        if value is None and not self.nullable:
            raise ValueError(f"{self.attr} may not be None")
        instance.__dict__[_PENDING + self.attr] = value
        with contextlib.suppress(UnmappedInstanceError):  # unmapped: nothing to flag
            attributes.flag_dirty(instance)

    def seal_pending(
        self, instance: object, keyring: KeyRing, data_key: tuple[str, bytes] | None = None
    ) -> bool:
        """Seal a pending plaintext into the storage column; return True if one was sealed.

        With ``data_key`` (id, key) the value is sealed under that record data key.
        """
        pending = instance.__dict__.pop(_PENDING + self.attr, _NOTHING)
        if pending is _NOTHING:
            return False
        if pending is None:
            setattr(instance, self.storage_attr, None)
            return True
        plaintext = str(pending).encode("utf-8")
        if data_key is not None:
            sealed = keyring.seal_with_data_key(
                plaintext, self.binding(instance), data_key[0], data_key[1]
            )
        else:
            sealed = keyring.seal(plaintext, self.binding(instance))
        setattr(instance, self.storage_attr, sealed)
        instance.__dict__[_CACHE + self.attr] = (sealed, pending)
        return True


def encrypted_column(
    column_name: str | None = None, *, nullable: bool = True
) -> Mapped[str | None]:
    """Declare an encrypted text attribute: ``name: Mapped[str | None] = encrypted_column()``.

    The database column (named ``column_name``, default the attribute name) is
    ``LARGEBINARY``; no query can filter on it.
    """
    return cast("Mapped[str | None]", EncryptedField(column_name, nullable=nullable))


def encrypted_fields(cls: type) -> Mapping[str, EncryptedField]:
    return cast("Mapping[str, EncryptedField]", getattr(cls, "__encrypted_fields__", {}))


def _ensure_public_id(instance: object) -> None:
    if getattr(instance, "public_id", None):
        return
    mapper: Mapper[Any] = object_mapper(instance)
    col = mapper.columns.get("public_id")
    default = getattr(col, "default", None) if col is not None else None
    if default is None or not getattr(default, "is_callable", False):
        raise EncryptionError(
            f"{type(instance).__name__} needs a public_id generated in Python before insert"
        )
    instance.public_id = default.arg(None)  # type: ignore[attr-defined]


@event.listens_for(Session, "before_flush")
def _seal_pending_values(session: Session, flush_context: Any, instances: Any) -> None:
    for instance in (*session.new, *session.dirty):
        fields = encrypted_fields(type(instance))
        if not fields:
            continue
        pending = [f for f in fields.values() if _PENDING + f.attr in instance.__dict__]
        if not pending:
            continue
        keyring = current_keyring()
        _ensure_public_id(instance)
        data_key: tuple[str, bytes] | None = None
        if any(p is not None for p in (instance.__dict__[_PENDING + f.attr] for f in pending)):
            owner = data_key_owner_of(instance, session)
            if owner is not None:
                provider = keyring.data_key_provider or current_data_key_provider()
                if provider is None:
                    raise EncryptionError("no data key provider installed for record data keys")
                data_key = provider.key_for(session, *owner)
        for f in pending:
            f.seal_pending(instance, keyring, data_key)


# --------------------------------------------------------------------------- app wiring


def init_crypto(app: Flask) -> KeyRing:
    """Install the key ring as ``app.extensions["referral_keyring"]``.

    Keys come from ``ENCRYPTION_KEYS`` or ``ENCRYPTION_KEY_FILE``. Without keys:
    development generates ``instance/dev-encryption.keys`` once, testing uses an
    ephemeral in-memory key, and every other environment (production included)
    refuses to start.
    """
    env = str(app.config.get("ENV", "production")).lower()
    ring = KeyRing.from_config(app.config)
    if ring is None:
        if env == "development":
            ring = KeyRing.from_file(_ensure_dev_key_file(Path(app.instance_path)))
        elif env == "testing":
            ring = KeyRing.from_entries([generate_key_entry("test")])
        else:
            raise KeyConfigurationError(
                f"no encryption keys configured (ENV={env!r}). Set REFERRAL_ENCRYPTION_KEYS "
                "to 'keyid:key' entries or REFERRAL_ENCRYPTION_KEY_FILE to a key file; "
                "create a key with 'flask keys generate'. Refusing to start."
            )
    app.extensions[KEYRING_EXTENSION] = ring
    return ring


def _ensure_dev_key_file(instance_path: Path) -> Path:
    path = instance_path / DEV_KEY_FILENAME
    if path.exists():
        return path
    instance_path.mkdir(parents=True, exist_ok=True)
    entry = generate_key_entry("dev1")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# development keys; generated on first run, never commit this file\n")
        fh.write(entry + "\n")
    log.warning("generated development encryption key file %s", path)
    return path


# --------------------------------------------------------------------------- rotation


@dataclass(frozen=True, slots=True)
class EncryptedColumnRef:
    table: Table
    column: Column[Any]
    primary_key: Column[Any]
    public_id: Column[Any]

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column.name}"


@dataclass(slots=True)
class RotationReport:
    moved: dict[str, int] = field(default_factory=dict)
    already_current: int = 0
    data_key_values: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def total_moved(self) -> int:
        return sum(self.moved.values())


def encrypted_columns(metadata: MetaData) -> list[EncryptedColumnRef]:
    """Every column of type :class:`EncryptedBlob` in the metadata, with its binding columns."""
    refs: list[EncryptedColumnRef] = []
    for table in metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, EncryptedBlob)]
        if not cols:
            continue
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or "public_id" not in table.c:
            raise EncryptionError(
                f"table {table.name} has encrypted columns but no single-column primary "
                "key and public_id"
            )
        refs.extend(EncryptedColumnRef(table, c, pk[0], table.c.public_id) for c in cols)
    return refs


def count_encrypted_values(session: Session, metadata: MetaData) -> int:
    total = 0
    for ref in encrypted_columns(metadata):
        stmt = select(func.count()).select_from(ref.table).where(ref.column.is_not(None))
        total += session.execute(stmt).scalar_one()
    return total


def value_batches(
    session: Session, ref: EncryptedColumnRef, batch_size: int
) -> Iterator[list[tuple[Any, str, Sealed]]]:
    """The column's non-empty values as (primary key, public id, sealed value), in keyset
    batches over the primary key: bounded memory, and safe to commit between batches."""
    last: Any = None
    while True:
        stmt = (
            select(ref.primary_key, ref.public_id, ref.column)
            .where(ref.column.is_not(None))
            .order_by(ref.primary_key)
            .limit(batch_size)
        )
        if last is not None:
            stmt = stmt.where(ref.primary_key > last)
        rows = [(r[0], r[1], r[2]) for r in session.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rotate_keys(
    session: Session,
    keyring: KeyRing,
    metadata: MetaData,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> RotationReport:
    """Re-encrypt every master-key value under the current key.

    Walks each encrypted column by keyset over the primary key and commits per batch.
    Each value names its key, so an interrupted run is simply run again: values
    already under the current key are skipped. An update only lands if the stored
    value is still the one that was read (compare-and-set), so a concurrent edit is
    never overwritten. ``progress`` receives the number of values examined per batch.
    Values under record data keys are left alone: their data keys are re-wrapped
    instead (``referral.lifecycle.keys``).
    """
    report = RotationReport()
    for ref in encrypted_columns(metadata):
        for rows in value_batches(session, ref, batch_size):
            for pk, public_id, sealed in rows:
                try:
                    if sealed.kind == KIND_DATA_KEY:
                        report.data_key_values += 1
                        continue
                    if not keyring.needs_rotation(sealed):
                        report.already_current += 1
                        continue
                    old_id = sealed.key_id
                    binding = Binding(ref.table.name, ref.column.name, public_id)
                    new = keyring.reseal(sealed, binding)
                except DecryptionError as exc:
                    report.failures.append(f"{ref.label} {public_id}: {exc}")
                    continue
                result = session.execute(
                    update(ref.table)
                    .where(ref.primary_key == pk, ref.column == sealed)
                    .values({ref.column: new})
                )
                if cast("Any", result).rowcount == 1:
                    report.moved[old_id] = report.moved.get(old_id, 0) + 1
            session.commit()
            if progress is not None:
                progress(len(rows))
    return report
