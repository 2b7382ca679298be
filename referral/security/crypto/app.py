"""App wiring: the key ring and the data key store of a Flask app."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final, Protocol

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from referral.security.crypto.errors import EncryptionError, KeyConfigurationError
from referral.security.crypto.keyring import KeyRing
from referral.security.crypto.keys import ensure_dev_key_file, generate_key_entry

log = logging.getLogger(__name__)

KEYRING_EXTENSION: Final = "referral_keyring"
DATA_KEYS_EXTENSION: Final = "referral_data_keys"
DEV_KEY_FILENAME: Final = "dev-encryption.keys"


class DataKeyStore(Protocol):
    """The one place record data keys are found (or created), inside a session.

    The key ring does not store data keys: the store (``referral.lifecycle.keys``,
    installed per app with :func:`install_data_key_store`) keeps them in the
    database, wrapped by the master key.
    """

    def key_for(self, session: Session, owner_type: str, owner_public_id: str) -> tuple[str, bytes]:
        """Return (data key id, 32-byte key); raise :class:`EncryptionError` if destroyed."""
        ...

    def resolve(self, session: Session, key_id: str) -> bytes:
        """Return the data key with this id; :class:`ShreddedError` if destroyed,
        ``LookupError`` if unknown."""
        ...


def current_keyring() -> KeyRing:
    """The key ring of the current Flask app."""
    if not has_app_context():
        raise EncryptionError("encrypted fields need a Flask application context")
    ring = current_app.extensions.get(KEYRING_EXTENSION)
    if not isinstance(ring, KeyRing):
        raise EncryptionError("no key ring installed: call init_crypto(app) in create_app")
    return ring


def install_data_key_store(app: Flask, store: DataKeyStore) -> None:
    """Make ``store`` the app's source of record data keys."""
    app.extensions[DATA_KEYS_EXTENSION] = store


def current_data_key_store() -> DataKeyStore:
    """The data key store of the current Flask app."""
    store = current_app.extensions.get(DATA_KEYS_EXTENSION) if has_app_context() else None
    if store is None:
        raise EncryptionError("no data key store installed for record data keys")
    return store  # type: ignore[no-any-return]


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
            path = Path(app.instance_path) / DEV_KEY_FILENAME
            ring = KeyRing.from_file(ensure_dev_key_file(path, "dev1", "encryption keys"))
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
