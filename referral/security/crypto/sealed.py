"""The stored value format and what a value is bound to.

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
copied to another column or another row does not decrypt. A row sealed under a record's
data key (a case and its follow-ups, notes, consents, referrals...) is bound to that
owner record as well (``owner``, "type:public id"): a child row moved to another case by
a database write no longer decrypts. Values written before owners were bound
(``referral-field-v1`` without an owner) are re-sealed by migration 0019.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from referral.security.crypto.errors import DecryptionError
from referral.security.crypto.keys import MAX_KEY_ID_LENGTH

FORMAT_VERSION: Final = 1
KIND_MASTER_KEY: Final = 0x01
KIND_DATA_KEY: Final = 0x02
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
_AD_PREFIX: Final = b"referral-field-v1"
_AD_PREFIX_OWNED: Final = b"referral-field-v2"


def owner_label(owner_type: str, owner_public_id: str) -> str:
    """How a binding names its owner record: ``"case:7KQ3M..."``."""
    return f"{owner_type}:{owner_public_id}"


@dataclass(frozen=True, slots=True)
class Binding:
    """What a value is bound to: table, column, the row's public id and, for a row sealed
    under a record data key, that owner record (:func:`owner_label`)."""

    table: str
    column: str
    public_id: str
    owner: str | None = None

    def unowned(self) -> Binding:
        """The binding of a value written before owners were bound (migration only)."""
        return Binding(self.table, self.column, self.public_id)

    def associated_data(self, header: bytes) -> bytes:
        parts: tuple[bytes, ...] = (
            _AD_PREFIX,
            self.table.encode(),
            self.column.encode(),
            self.public_id.encode(),
        )
        if self.owner is not None:
            parts = (_AD_PREFIX_OWNED, *parts[1:], self.owner.encode())
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


def make_header(kind: int, key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((FORMAT_VERSION, kind, len(kid))) + kid
