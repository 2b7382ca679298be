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
copied to another column or another row does not decrypt.
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


def make_header(kind: int, key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((FORMAT_VERSION, kind, len(kid))) + kid
