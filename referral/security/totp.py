"""Time-based one-time passwords (RFC 6238) with replay refusal, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
# Codes from the previous and next step are accepted, for clock drift.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no script, no external resource)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff"))


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code equals ``code``, or None.

    The caller refuses a step at or before the last one used (replay).
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(at.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def new_recovery_codes() -> list[str]:
    """Ten single-use codes of 80 random bits each, shown once."""
    return ["-".join(secrets.token_hex(2) for _ in range(5)) for _ in range(RECOVERY_CODE_COUNT)]


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch in "0123456789abcdef")


def hash_recovery_code(code: str) -> str:
    # The codes carry 80 random bits, so a fast hash resists guessing from a stolen database.
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
