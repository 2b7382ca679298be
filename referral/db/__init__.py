"""Database layer: the declarative base, shared column types and the identity models."""

from referral.db.base import (
    PublicIdMixin,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    new_public_id,
    random_code,
)
from referral.db.identity import (
    AuthSession,
    Organisation,
    OrganisationType,
    RecoveryCode,
    SignInFailures,
    User,
)

__all__ = [
    "AuthSession",
    "Organisation",
    "OrganisationType",
    "PublicIdMixin",
    "RecoveryCode",
    "SignInFailures",
    "TimestampMixin",
    "UTCDateTime",
    "User",
    "enum_type",
    "new_public_id",
    "random_code",
]
