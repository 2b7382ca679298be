"""Encryption at rest (R2, R26): AES-256-GCM values bound to their table, column and row.

Ground layer: imports only the standard library, ``cryptography``, ``sqlalchemy``,
``flask`` and :mod:`referral.security.events` (a field that fails to open is announced
for the audit trail); it knows no feature and no model.

- :mod:`.errors`: the error types;
- :mod:`.keys`: master key entries from configuration;
- :mod:`.sealed`: the stored value format and its binding (associated data);
- :mod:`.keyring`: the key ring, which seals and opens values;
- :mod:`.owners`: which record's data key encrypts a row (``__data_key_owners__``);
- :mod:`.fields`: the encrypted attribute and its column type;
- :mod:`.app`: the key ring and data key store of a Flask app;
- :mod:`.rotation`: re-encryption under a new master key;
- :mod:`.audit_keys`: the audit trail's HMAC keys (chain and signed checkpoints).
"""

from referral.security.crypto.app import (
    DATA_KEYS_EXTENSION,
    KEYRING_EXTENSION,
    DataKeyStore,
    current_data_key_store,
    current_keyring,
    init_crypto,
    install_data_key_store,
)
from referral.security.crypto.audit_keys import (
    AUDIT_KEYS_EXTENSION,
    AuditKeys,
    ChainMac,
    current_audit_keys,
    init_audit_keys,
)
from referral.security.crypto.errors import (
    CryptoError,
    DecryptionError,
    EncryptionError,
    KeyConfigurationError,
    ShreddedError,
)
from referral.security.crypto.fields import (
    EncryptedBlob,
    EncryptedField,
    encrypted_column,
    encrypted_fields,
)
from referral.security.crypto.keyring import DataKeyResolver, KeyRing
from referral.security.crypto.keys import (
    KEY_SIZE,
    KeyEntry,
    generate_key_entry,
    parse_key_entries,
    parse_key_file,
)
from referral.security.crypto.owners import DataKeyOwner, data_key_owner_of, data_key_owners
from referral.security.crypto.rotation import (
    EncryptedColumnRef,
    RotationReport,
    count_encrypted_values,
    encrypted_columns,
    rotate_keys,
    value_batches,
)
from referral.security.crypto.sealed import (
    FORMAT_VERSION,
    KIND_DATA_KEY,
    KIND_MASTER_KEY,
    Binding,
    Sealed,
    owner_label,
)

__all__ = [
    "AUDIT_KEYS_EXTENSION",
    "DATA_KEYS_EXTENSION",
    "FORMAT_VERSION",
    "KEYRING_EXTENSION",
    "KEY_SIZE",
    "KIND_DATA_KEY",
    "KIND_MASTER_KEY",
    "AuditKeys",
    "Binding",
    "ChainMac",
    "CryptoError",
    "DataKeyOwner",
    "DataKeyResolver",
    "DataKeyStore",
    "DecryptionError",
    "EncryptedBlob",
    "EncryptedColumnRef",
    "EncryptedField",
    "EncryptionError",
    "KeyConfigurationError",
    "KeyEntry",
    "KeyRing",
    "RotationReport",
    "Sealed",
    "ShreddedError",
    "count_encrypted_values",
    "current_audit_keys",
    "current_data_key_store",
    "current_keyring",
    "data_key_owner_of",
    "data_key_owners",
    "encrypted_column",
    "encrypted_columns",
    "encrypted_fields",
    "generate_key_entry",
    "init_audit_keys",
    "init_crypto",
    "install_data_key_store",
    "owner_label",
    "parse_key_entries",
    "parse_key_file",
    "rotate_keys",
    "value_batches",
]
