"""gunicorn settings for referral: ``gunicorn -c config/gunicorn.conf.py ...``.

Garbage collection: a page request allocates tens of thousands of short-lived objects
(ORM rows, template output, lazy strings), so with Python's default generation-0
threshold of 700 the collector runs many times per request, and each full collection
walks every object the app loaded at start-up (modules, templates, mappers). Once the
worker has loaded the app, those objects are moved out of the collector's reach
(``gc.freeze``) and collections start less often. Reference cycles are still collected;
the worker's memory grows by at most the cycles of a few requests between collections.
Measured with bench/run.py: it lowered the pages' p95 (README, Performance).
"""

from __future__ import annotations

import gc
from typing import Any

GC_THRESHOLD = (20_000, 50, 100)


def post_worker_init(worker: Any) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
