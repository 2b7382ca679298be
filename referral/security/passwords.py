"""Password hashing (argon2id) and an offline strength check."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_ZXCVBN_SCORE = 3

_hasher = PasswordHasher()
# Verified against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def configure(time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Set argon2id parameters (tests use cheap ones); existing hashes are upgraded on sign-in."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work verification; an unknown account verifies against a dummy hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


@dataclass(frozen=True)
class StrengthVerdict:
    acceptable: bool
    problems: tuple[str, ...]


def check_strength(password: str, *, personal: list[str]) -> StrengthVerdict:
    """Offline check: length and a zxcvbn score, penalising the user's own name and e-mail.

    The problems are message ids for the form to translate.
    """
    if len(password) < MIN_LENGTH:
        return StrengthVerdict(False, ("too_short",))
    if len(password) > MAX_LENGTH:
        return StrengthVerdict(False, ("too_long",))
    result = zxcvbn(password[:100], user_inputs=[p for p in personal if p])
    if result["score"] < MIN_ZXCVBN_SCORE:
        return StrengthVerdict(False, ("too_guessable",))
    return StrengthVerdict(True, ())


def generate_one_time_password() -> str:
    """A strong random password given to a new user, changed at first sign-in."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))
