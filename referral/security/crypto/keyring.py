"""The key ring: master keys from configuration, sealing and opening values.

The key ring holds master keys only. A value sealed under a record data key (kind
0x02) opens only when the caller hands over the data keys (``data_keys``): the ring
never looks them up itself. Encrypted attributes get them from the app's data key
store (:mod:`referral.security.crypto.fields`); batch jobs from the same store, bound
to their own session.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from referral.security.crypto.errors import (
    DecryptionError,
    EncryptionError,
    KeyConfigurationError,
    ShreddedError,
)
from referral.security.crypto.keys import (
    KEY_SIZE,
    KeyEntry,
    check_key_id,
    parse_key_entries,
    parse_key_file,
)
from referral.security.crypto.sealed import (
    KIND_DATA_KEY,
    KIND_MASTER_KEY,
    NONCE_SIZE,
    Binding,
    Sealed,
    make_header,
)

log = logging.getLogger(__name__)

DataKeyResolver = Callable[[str], bytes]
"""Returns the 32-byte record data key for a data key id; raises :class:`ShreddedError`
for a destroyed key and ``LookupError`` for an unknown one."""


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
        header = make_header(KIND_MASTER_KEY, self.current_key_id)
        nonce = os.urandom(NONCE_SIZE)
        ct = self._ciphers[self.current_key_id].encrypt(
            nonce, plaintext, binding.associated_data(header)
        )
        return Sealed(header + nonce + ct)

    def seal_with_data_key(
        self, plaintext: bytes, binding: Binding, data_key_id: str, data_key: bytes
    ) -> Sealed:
        """Encrypt under a record data key (envelope encryption)."""
        check_key_id(data_key_id)
        header = make_header(KIND_DATA_KEY, data_key_id)
        nonce = os.urandom(NONCE_SIZE)
        ct = AESGCM(data_key).encrypt(nonce, plaintext, binding.associated_data(header))
        return Sealed(header + nonce + ct)

    def open(
        self,
        sealed: Sealed,
        binding: Binding,
        *,
        data_keys: DataKeyResolver | None = None,
        quiet: bool = False,
    ) -> bytes:
        """Decrypt, or raise :class:`DecryptionError` (which is also logged unless
        ``quiet``: a migration trying the binding a value may already have).

        A value under a record data key opens only with ``data_keys``, which finds
        the key by its id. A destroyed data key raises :class:`ShreddedError`.
        """
        try:
            header, nonce, ct = sealed.parts()
            kind, key_id = sealed.kind, sealed.key_id
            if kind == KIND_MASTER_KEY:
                cipher = self._ciphers.get(key_id)
                if cipher is None:
                    raise DecryptionError(f"no key {key_id!r} in the key ring")
            else:
                if data_keys is None:
                    raise DecryptionError(f"record data key {key_id!r} is not available")
                try:
                    cipher = AESGCM(data_keys(key_id))
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
            if quiet:
                raise
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
        """Open a wrapped data key (sealed under a master key)."""
        if wrapped.kind != KIND_MASTER_KEY:
            raise DecryptionError("a wrapped data key must be sealed under a master key")
        key = self.open(wrapped, binding)
        if len(key) != KEY_SIZE:
            raise DecryptionError("unwrapped data key has the wrong size")
        return key
