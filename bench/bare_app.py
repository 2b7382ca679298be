"""The bare floor: a one-route Flask app with no database, session, extension or template.

bench/run.py serves it with the same gunicorn settings as the app, and bench/load.py
measures it with the same driver in the same run, so every page's p95 can be read over
what Flask, gunicorn, the loopback and the driver cost on their own at that moment.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index() -> dict[str, str]:
    return {"status": "ok"}
