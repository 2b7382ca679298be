"""Errors of encryption at rest."""

from __future__ import annotations


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
