"""gzip for text responses, for field offices on slow links.

Compressing pages that hold secrets invites BREACH-style length attacks, which need
the attacker to make the victim's browser send many authenticated requests. The session
cookie is SameSite=Lax, so cross-site subresource requests carry no session and such
pages cannot be probed that way (THREATS.md).
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "application/json",
    "application/javascript",
    "text/javascript",
    "image/svg+xml",
)
MINIMUM_SIZE = 500
LEVEL = 6


def compress_response(response: Response) -> Response:
    if (
        response.direct_passthrough
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
        or (response.mimetype or "") not in COMPRESSIBLE
    ):
        return response
    body = response.get_data()
    if len(body) < MINIMUM_SIZE:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.get_data()))
    response.vary.add("Accept-Encoding")
    return response


def init_compression(app: Flask) -> None:
    # Static files are streamed from disk (direct passthrough); read them so they compress.
    app.config.setdefault("USE_X_SENDFILE", False)

    @app.after_request
    def _compress(response: Response) -> Response:
        if request.endpoint == "static" and response.direct_passthrough:
            response.direct_passthrough = False
        return compress_response(response)
