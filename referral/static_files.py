"""The stylesheet and script are fetched once per version, not revalidated on every page.

Their URLs carry a fingerprint of the file (``style.css?v=1a2b3c4d5e``), so a response for
the current fingerprint may be cached for a year: a new release changes the URL. On a slow
link this saves the two conditional requests every later page would otherwise make.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

ONE_YEAR = 365 * 24 * 3600


def init_static_files(app: Flask) -> None:
    fingerprints: dict[str, str] = {}
    static_folder = Path(app.static_folder or "")

    def fingerprint(filename: str) -> str:
        if app.debug or filename not in fingerprints:
            path = static_folder / filename
            content = path.read_bytes() if path.is_file() else b""
            fingerprints[filename] = hashlib.sha256(content).hexdigest()[:10]
        return fingerprints[filename]

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            values["v"] = fingerprint(values["filename"])

    @app.after_request
    def cache_current_version(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code != 200:
            return response
        filename = str((request.view_args or {}).get("filename", ""))
        if request.args.get("v") == fingerprint(filename):
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response
