"""Keyset paging: the one helper every list pages with, and its one cursor format.

A list is ordered by a :class:`Keyset`: sort columns (indexed, never encrypted) and a
row id that breaks ties, the same columns as the list's index, so a page is an index
range (``WHERE (sort, id) < (:sort, :id)``), never an OFFSET. The link to the next page
carries a cursor naming the last row shown by its sort values and its *public* id: the
row id is found again from the public id inside the same query, so no internal id ever
leaves the database. The cursor is opaque to its reader (URL-safe base64 of a JSON
list); a cursor this module did not make is refused with :class:`CursorError`, a
:class:`~referral.workflow.RuleError` answered 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    TypeDecorator,
    any_,
    bindparam,
    literal,
    select,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from referral.extensions import db
from referral.messages import lazy_gettext as _l
from referral.workflow import RuleError

T = TypeVar("T")
V = TypeVar("V")

CURSOR_PARAMETER = "cursor"
MAX_CURSOR = 1000  # characters of an encoded cursor; a sort value is at most a name


class CursorError(RuleError):
    """A cursor this application did not give (edited, truncated, of another list)."""

    def __init__(self) -> None:
        super().__init__(
            CURSOR_PARAMETER,
            _l("This page link is not valid any more; start again from the first page."),
        )


def _kind(column: InstrumentedAttribute[Any]) -> type:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    kind: type = column_type.python_type
    return kind


@dataclass(frozen=True)
class Keyset:
    """A list's order: ``sort`` columns, then ``row_id`` to break ties (found from the
    cursor's ``public_id``). Without ``row_id`` the last sort column is unique."""

    sort: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False
    row_id: InstrumentedAttribute[Any] | None = None
    public_id: InstrumentedAttribute[Any] | None = None

    def __post_init__(self) -> None:
        if (self.row_id is None) != (self.public_id is None):
            raise ValueError("a keyset names its row id and its public id together")

    def order_by(self) -> list[ColumnElement[Any]]:
        columns = [*self.sort, *([self.row_id] if self.row_id is not None else [])]
        return [c.desc() if self.descending else c.asc() for c in columns]

    def cursor_of(self, row: Any) -> str:
        values: list[Any] = [getattr(row, column.key) for column in self.sort]
        if self.public_id is not None:
            values.append(getattr(row, self.public_id.key))
        return encode([v.isoformat() if isinstance(v, datetime) else v for v in values])

    def after(self, cursor: str) -> ColumnElement[bool]:
        """The rows that follow the row the cursor names, in this order."""
        raw = decode(cursor)
        kinds = [_kind(column) for column in self.sort]
        if self.public_id is not None:
            kinds.append(str)
        if len(raw) != len(kinds):
            raise CursorError()
        values = [_value(item, kind) for item, kind in zip(raw, kinds, strict=True)]
        columns: list[Any] = list(self.sort)
        bounds: list[Any] = [
            literal(value, type_=column.type)
            for column, value in zip(self.sort, values, strict=False)
        ]
        if self.row_id is not None and self.public_id is not None:
            columns.append(self.row_id)
            bounds.append(select(self.row_id).where(self.public_id == values[-1]).scalar_subquery())
        left = columns[0] if len(columns) == 1 else tuple_(*columns)
        right = bounds[0] if len(bounds) == 1 else tuple_(*bounds)
        condition: ColumnElement[bool] = left < right if self.descending else left > right
        return condition


def _value(item: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(item, str):
            raise CursorError()
        try:
            parsed = datetime.fromisoformat(item)
        except ValueError:
            raise CursorError() from None
        if parsed.tzinfo is None:
            raise CursorError()
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # an instant outside the years a database stores
            raise CursorError() from None
    if type(item) is not kind:  # bool is not an int here
        raise CursorError()
    if isinstance(item, str) and "\x00" in item:  # PostgreSQL text never holds NUL
        raise CursorError()
    if isinstance(item, int) and not -(2**63) <= item < 2**63:
        raise CursorError()
    return item


def encode(values: Sequence[str | int]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> list[Any]:
    if len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise CursorError()
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise CursorError() from None
    if not isinstance(decoded, list):
        raise CursorError()
    return decoded


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_cursor: str | None  # None on the last page


def page(
    query: Select[*tuple[Any, ...]],
    keyset: Keyset,
    *,
    cursor: str | None,
    limit: int,
    session: Session | None = None,
    unique: bool = False,
    columns: bool = False,
) -> Page[Any]:
    """One page of ``query`` in ``keyset`` order after ``cursor`` (None or "": the first);
    ``unique`` for queries that eager-load collections with joins; ``columns``: the
    query selects columns (the keyset's among them), and the page holds its rows."""
    if cursor:
        query = query.where(keyset.after(cursor))
    ordered = query.order_by(*keyset.order_by()).limit(limit + 1)
    if columns:
        rows = list((session or db.session()).execute(ordered).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, keyset.cursor_of(rows[-1]) if more and rows else None)
    result = (session or db.session()).scalars(ordered)
    rows = list((result.unique() if unique else result).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, keyset.cursor_of(rows[-1]) if more and rows else None)


def one_of(column: InstrumentedAttribute[V], values: Collection[V]) -> ColumnElement[bool]:
    """``column IN values`` for the rows of a page (their ids, to read what goes with
    them). On PostgreSQL it is sent as ``column = ANY(:values)``, one array parameter, so
    the statement's text is the same whatever the number of values: SQLAlchemy compiles
    it once, psycopg converts it once (it parses a statement of more than 50 parameters
    again every time) and the server prepares it once. Elsewhere it is ``IN (...)``."""
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
