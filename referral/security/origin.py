"""Same-origin check of state-changing requests over HTTPS, beside the CSRF token.

Flask-WTF's own HTTPS check insists on a Referer header; browsers leave it out under a
strict referrer policy, and then no form could be sent over HTTPS at all. This check
takes the Origin header first (every current browser sends it with a POST) and falls
back to the Referer (sent to this site only: ``Referrer-Policy: same-origin``). A
request with neither, with ``Origin: null``, or from another scheme, host or port is
refused with the same answer as a missing CSRF token. Views exempt from CSRF (the
bearer-token API: no cookie, no ambient authority) are exempt here too (``exempt``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, request
from flask_wtf.csrf import CSRFError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _port_normalised(origin: str) -> str:
    return origin.removesuffix(":443") if origin.startswith("https://") else origin


def request_origin_problem(exempt: Callable[[], bool] = lambda: False) -> str | None:
    """Why this request does not come from this site, or None when it does (or need not)."""
    if request.method in SAFE_METHODS or not request.is_secure or exempt():
        return None
    expected = _port_normalised(f"https://{request.host}".lower())
    origin = request.headers.get("Origin")
    if origin is not None:
        if _port_normalised(origin.strip().lower()) != expected:
            return "the Origin header names another site"
        return None
    referrer = _origin_of(request.referrer or "")
    if referrer is None:
        return "neither an Origin nor a Referer header"
    if _port_normalised(referrer) != expected:
        return "the Referer header names another site"
    return None


def init_origin_check(app: Flask, exempt: Callable[[], bool]) -> None:
    """Refuse cross-origin state changes (Flask-WTF's Referer-only check is off: config)."""

    @app.before_request
    def _refuse_cross_origin() -> None:
        problem = request_origin_problem(exempt)
        if problem is not None:
            raise CSRFError(problem)
