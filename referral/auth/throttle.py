"""Progressive delay of sign-in attempts per account, instead of a lock.

After ``SIGN_IN_FREE_FAILURES`` wrong passwords for one e-mail address (within
``SIGN_IN_FAILURE_WINDOW_HOURS``), each further attempt waits: the first delay, then
twice as long after each new failure, never more than ``SIGN_IN_MAX_DELAY_SECONDS``.
While an address waits its password is not even checked. Guessing is slowed to a few
attempts an hour, yet nobody can lock a named user out for longer than the largest
delay: the user signs in once it has passed, and a successful password clears the count.
The count lives in the database (shared by every worker, whatever the rate-limit storage)
under a digest of the address, and applies alike to addresses with no account.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from flask import current_app, g
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from referral.clock import utcnow
from referral.db import SignInFailures
from referral.extensions import db, limiter


def _key(email: str) -> str:
    return hashlib.sha256(("sign-in:" + email.strip().lower()).encode("utf-8")).hexdigest()


def _window() -> timedelta:
    return timedelta(hours=float(current_app.config["SIGN_IN_FAILURE_WINDOW_HOURS"]))


def delay_after(failures: int) -> int:
    """Seconds to wait after this many recent failures (0 while still free)."""
    config = current_app.config
    free = int(config["SIGN_IN_FREE_FAILURES"])
    if failures < free:
        return 0
    first = int(config["SIGN_IN_FIRST_DELAY_SECONDS"])
    cap = int(config["SIGN_IN_MAX_DELAY_SECONDS"])
    return int(min(cap, first * 2 ** min(failures - free, 30)))


def seconds_to_wait(email: str) -> int:
    """How long this address must wait before its password is checked again."""
    row = db.session.get(SignInFailures, _key(email))
    if row is None:
        return 0
    now = utcnow()
    if now - row.last_failure_at >= _window():
        return 0
    ready = row.last_failure_at + timedelta(seconds=delay_after(row.failures))
    return max(0, math.ceil((ready - now).total_seconds()))


def note_failure(email: str) -> None:
    """Count a wrong password for the address (caller commits)."""
    key, now = _key(email), utcnow()
    row = db.session.scalar(
        select(SignInFailures).where(SignInFailures.key_hash == key).with_for_update()
    )
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(SignInFailures(key_hash=key, failures=1, last_failure_at=now))
            return
        except IntegrityError:  # another worker counted the first failure at the same time
            row = db.session.scalar(
                select(SignInFailures).where(SignInFailures.key_hash == key).with_for_update()
            )
            if row is None:
                return
    recent = now - row.last_failure_at < _window()
    row.failures = row.failures + 1 if recent else 1
    row.last_failure_at = now
    # Counts nobody has added to for a whole window are forgotten.
    db.session.execute(
        delete(SignInFailures).where(SignInFailures.last_failure_at < now - _window())
    )


def forget_failures(email: str) -> None:
    """The right password was given: the address starts afresh (caller commits)."""
    db.session.execute(delete(SignInFailures).where(SignInFailures.key_hash == _key(email)))


# --- re-authentication ------------------------------------------------------------------
# Wrong password or code when re-authenticating counts against the signed-in account
# (only its holder can trigger it): a stolen session cannot guess its way through.


def note_reauthentication_failure() -> None:
    g.reauthentication_failed = True


def _reauthentication_key() -> str:
    return "reauth:" + (current_user.public_id if current_user.is_authenticated else "")


reauthentication_limit = limiter.limit(
    lambda: current_app.config["REAUTH_LIMIT_PER_ACCOUNT"],
    key_func=_reauthentication_key,
    methods=["POST"],
    deduct_when=lambda _response: bool(g.get("reauthentication_failed")),
    scope="reauth",
)
