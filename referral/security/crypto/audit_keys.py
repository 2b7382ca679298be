"""The audit trail's keys: HMAC-SHA256 keys from configuration, never from the database.

Each audit event's ``hash`` is an HMAC of the previous event's hash and the event, under
the audit key named in the event's ``key_id``; signed checkpoints of the chain head use a
second key derived from the same entry. Whoever owns the database but not this key can
still delete or edit rows and recompute plain hashes, but cannot produce a chain that
``audit verify`` accepts.

Keys come from ``AUDIT_KEYS`` (``keyid:base64url-key`` entries, the first chains new
events, every one verifies) or ``AUDIT_KEY_FILE``. Without them: development generates
``instance/dev-audit.keys`` once, testing derives one from the secret key (so every app of
a test run chains alike), and every other environment refuses to start.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app, has_app_context

from referral.security.crypto.errors import KeyConfigurationError
from referral.security.crypto.keys import (
    KEY_SIZE,
    KeyEntry,
    ensure_dev_key_file,
    parse_key_entries,
    parse_key_file,
)

log = logging.getLogger(__name__)

AUDIT_KEYS_EXTENSION: Final = "referral_audit_keys"
DEV_AUDIT_KEY_FILENAME: Final = "dev-audit.keys"
TESTING_KEY_ID: Final = "testing"
_CHAIN_INFO: Final = b"referral audit chain v1"
_CHECKPOINT_INFO: Final = b"referral audit checkpoint v1"
_BLOCK_SIZE: Final = 64  # SHA-256's block size, for the HMAC pads


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=info).derive(key)


class ChainMac:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer pads hashed once.

    Equal to ``hmac.new(key, message, "sha256").hexdigest()`` (a test checks it), at
    about half the cost per message: ``audit verify`` computes one per event.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK_SIZE:
            raise KeyConfigurationError("an audit chain key must fit one SHA-256 block")
        block = key.ljust(_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class AuditKeys:
    """The configured audit keys. The first chains new events; all of them verify."""

    def __init__(self, entries: Sequence[KeyEntry]) -> None:
        if not entries:
            raise KeyConfigurationError("the audit trail needs at least one audit key")
        ids = [e.key_id for e in entries]
        if len(set(ids)) != len(ids):
            raise KeyConfigurationError("an audit key id appears twice")
        self._ids = tuple(ids)
        self._chain = {e.key_id: ChainMac(_derive(e.key, _CHAIN_INFO)) for e in entries}
        self._checkpoint = {e.key_id: _derive(e.key, _CHECKPOINT_INFO) for e in entries}

    def __repr__(self) -> str:
        return f"<AuditKeys current={self.current_key_id!r} keys={list(self._ids)!r}>"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AuditKeys | None:
        """Build from ``AUDIT_KEYS`` or ``AUDIT_KEY_FILE``; None if neither is set."""
        keys = config.get("AUDIT_KEYS") or None
        key_file = config.get("AUDIT_KEY_FILE") or None
        if keys and key_file:
            raise KeyConfigurationError("set either AUDIT_KEYS or AUDIT_KEY_FILE, not both")
        if keys:
            return cls(parse_key_entries(keys))
        if key_file:
            entries = parse_key_file(key_file)
            if not entries:
                raise KeyConfigurationError(f"audit key file {key_file} contains no key")
            return cls(entries)
        return None

    @property
    def current_key_id(self) -> str:
        return self._ids[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return self._ids

    def chain_mac(self, key_id: str) -> ChainMac | None:
        """The chain MAC of an audit key; None if no such key is configured."""
        return self._chain.get(key_id)

    def sign_checkpoint(self, payload: bytes, key_id: str | None = None) -> tuple[str, str]:
        """(key id, signature) of a checkpoint's payload, under the current key by default."""
        key_id = key_id or self.current_key_id
        return key_id, hmac.new(self._checkpoint[key_id], payload, "sha256").hexdigest()

    def checkpoint_signed(self, payload: bytes, key_id: str, signature: str) -> bool:
        key = self._checkpoint.get(key_id)
        if key is None:
            return False
        expected = hmac.new(key, payload, "sha256").hexdigest()
        return hmac.compare_digest(expected, signature)


def current_audit_keys() -> AuditKeys:
    """The audit keys of the current Flask app."""
    keys = current_app.extensions.get(AUDIT_KEYS_EXTENSION) if has_app_context() else None
    if not isinstance(keys, AuditKeys):
        raise KeyConfigurationError("no audit keys installed: call init_audit_keys(app)")
    return keys


def init_audit_keys(app: Flask) -> AuditKeys:
    """Install the audit keys as ``app.extensions["referral_audit_keys"]``."""
    env = str(app.config.get("ENV", "production")).lower()
    keys = AuditKeys.from_config(app.config)
    if keys is None:
        if env == "development":
            path = Path(app.instance_path) / DEV_AUDIT_KEY_FILENAME
            keys = AuditKeys(parse_key_file(ensure_dev_key_file(path, "devaudit1", "audit key")))
        elif env == "testing":
            secret = str(app.config.get("SECRET_KEY", "")).encode("utf-8")
            keys = AuditKeys([KeyEntry(TESTING_KEY_ID, _derive(secret, b"referral test audit"))])
        else:
            raise KeyConfigurationError(
                f"no audit key configured (ENV={env!r}). Set REFERRAL_AUDIT_KEYS to a "
                "'keyid:key' entry or REFERRAL_AUDIT_KEY_FILE to a key file; create one with "
                "'referral keys generate'. Keep it out of the database. Refusing to start."
            )
    app.extensions[AUDIT_KEYS_EXTENSION] = keys
    return keys
