"""Load -> authorise in one step: the one record loader of every page.

``load_or_404(Model, public_id, may=condition)`` reads the record with that public id
that satisfies ``may``, a SQL condition saying who may open such records. A feature
writes that condition once and uses it for its lists as well, so a list and the record
pages it links to cannot disagree. A public id that names no record the user may open
is a denial, announced (the audit trail records it, so probing ids leaves a trace) and
answered 404 alike whether the record exists or not, so its existence does not leak.

Like the policy, this module knows no feature: it works on any mapped class with a
``public_id`` column, through the application's SQLAlchemy session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from referral.security.policy import deny

M = TypeVar("M")


def _session() -> Session:
    session: Session = current_app.extensions["sqlalchemy"].session()
    return session


def _by_public_id(model: type[M], public_id: str) -> Select[M]:
    column: Any = model.public_id  # type: ignore[attr-defined]
    return select(model).where(column == public_id)


def find(model: type[M], public_id: str | None, *conditions: ColumnElement[bool]) -> M | None:
    """The record with this public id meeting ``conditions``, or None (no id: None)."""
    if not public_id:
        return None
    found: M | None = _session().scalar(_by_public_id(model, public_id).where(*conditions))
    return found


def load_or_404(
    model: type[M],
    public_id: str,
    *,
    may: ColumnElement[bool] | None = None,
    obj_type: str,
    for_update: bool = False,
    options: Sequence[ExecutableOption] = (),
) -> M:
    """The record the user may open (``may``), or an announced 404 denial.
    ``for_update`` locks the row for a transition (``SELECT ... FOR UPDATE`` on
    PostgreSQL) and reads it afresh; ``options``: loader options (what to read with it)."""
    query = _by_public_id(model, public_id).where(may if may is not None else true())
    if options:
        query = query.options(*options)
    if for_update:
        query = query.with_for_update(of=model).execution_options(populate_existing=True)
    record: M | None = _session().scalar(query)
    if record is None:
        deny(f"no {obj_type} open to this user", status=404, obj_type=obj_type, obj_id=public_id)
    return record
