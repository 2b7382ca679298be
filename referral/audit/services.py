"""Recording, verifying, listing and exporting audit events.

Features call exactly one function: :func:`record`. It takes who, the request id and
the client address from the request context and queues the event on the database
session. The queued events are appended to the chain in ``before_commit``, inside
the same transaction as the change they describe, while the chain head row is locked
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a write to the head first, which
takes the database write lock as ``BEGIN IMMEDIATE`` would). So:

- a committed change always has its event, and a rolled-back change leaves no
  "allowed" event (queued "allowed" events are dropped on rollback);
- "denied" and "error" events survive a rollback and are written by the commit that
  ends the request (``referral.db.work``) in a transaction of their own;
- two concurrent appends cannot fork the chain, and the lock is held only from the
  append to the commit.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, cast

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    DateTime,
    Row,
    Select,
    Table,
    Text,
    and_,
    event,
    false,
    func,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from referral.audit.models import (
    CHAIN_FIELDS,
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    Outcome,
    chain_mac,
)
from referral.clock import utcnow
from referral.db import Organisation, User, paging
from referral.db.paging import Keyset, Page
from referral.extensions import db
from referral.security.crypto import AuditKeys, ChainMac, current_audit_keys

PENDING = "referral_audit_pending"
OBJ_ID_LENGTH = 64  # audit_events.obj_id
WRITING = "referral_audit_writing"
REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's request id is kept only when it looks like one (a UUID, hex or base64 token):
# anything else (spaces, quotes, markup, 65+ characters) is replaced by a random id, so
# the audit trail, logs and the response header never carry what a client wrote.
REQUEST_ID_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=-]{7,63}")


@dataclass(frozen=True, slots=True)
class PendingEvent:
    fields: dict[str, Any]

    @property
    def outcome(self) -> str:
        return str(self.fields["outcome"])


# --- recording ---------------------------------------------------------------------------


def request_id() -> str | None:
    """The request's id: the proxy's X-Request-ID if sane, else a random one."""
    if not has_request_context():
        return None
    rid: str | None = g.get("request_id")
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if REQUEST_ID_FORMAT.fullmatch(given) else secrets.token_hex(8)
        g.request_id = rid
    return rid


def _actor_fields(actor: Any | None) -> dict[str, Any]:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if actor is None:
        return {"actor_id": None, "actor_public_id": None, "actor_role": None, "org_id": None}
    role = getattr(actor, "role", None)
    return {
        "actor_id": getattr(actor, "id", None),
        "actor_public_id": getattr(actor, "public_id", None),
        "actor_role": str(role) if role is not None else None,
        "org_id": getattr(actor, "organisation_id", None),
    }


def record(
    action: str,
    *,
    obj_type: str | None = None,
    obj_id: str | None = None,
    outcome: Outcome | str = Outcome.ALLOWED,
    fields_revealed: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
    actor: Any | None = None,
    session: Session | None = None,
) -> None:
    """Queue an audit event; it is written when the session commits.

    ``actor`` defaults to the signed-in user; pass it for events about a user who is
    not (yet) signed in, such as a failed sign-in. ``detail`` must never hold secrets
    or sensitive field values; ``fields_revealed`` names fields, never their values.
    """
    outcome = Outcome(outcome)
    fields: dict[str, Any] = {
        "occurred_at": utcnow(),
        **_actor_fields(actor),
        "action": action,
        "obj_type": obj_type,
        # A denied request may name any id in its URL: kept to the column's width.
        "obj_id": obj_id[:OBJ_ID_LENGTH] if obj_id is not None else None,
        "outcome": outcome.value,
        "request_id": request_id(),
        "client_address": request.remote_addr if has_request_context() else None,
        "fields_revealed": sorted(set(fields_revealed)),
        # Stored exactly as hashed: JSON-normalised (tuples -> lists, others -> str).
        "detail": json.loads(json.dumps(dict(detail or {}), default=str)),
    }
    target: Session = session if session is not None else db.session()
    if not target.in_transaction():
        target.begin()  # so that commit and rollback hooks see this transaction
    target.info.setdefault(PENDING, []).append(PendingEvent(fields))


def pending_events(session: Session | None = None) -> list[PendingEvent]:
    target: Session = session if session is not None else db.session()
    return list(target.info.get(PENDING, []))


def _lock_head(session: Session) -> AuditChainHead:
    if session.get_bind().dialect.name == "sqlite":
        # Take the write lock before reading the head (the effect of BEGIN IMMEDIATE).
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(last_id=AuditChainHead.last_id)
            .execution_options(synchronize_session=False)
        )
        stmt = select(AuditChainHead).where(AuditChainHead.id == 1)
    else:
        stmt = select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    head = session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row: run the migrations")
    return head


def append(session: Session, events: Sequence[PendingEvent]) -> list[AuditEvent]:
    """Append events to the chain inside the session's transaction (head locked)."""
    if not events:
        return []
    keys = current_audit_keys()
    key_id = keys.current_key_id
    mac = keys.chain_mac(key_id)
    assert mac is not None  # noqa: S101 - the current key is always configured
    head = _lock_head(session)
    last_id, last_hash = head.last_id, head.last_hash
    rows: list[AuditEvent] = []
    for pending in events:
        last_id += 1
        fields = {**pending.fields, "id": last_id}
        digest = chain_mac(mac, last_hash, {name: fields[name] for name in CHAIN_FIELDS})
        rows.append(AuditEvent(**fields, prev_hash=last_hash, hash=digest, key_id=key_id))
        last_hash = digest
    session.add_all(rows)
    head.last_id, head.last_hash = last_id, last_hash
    return rows


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    queued: list[PendingEvent] = session.info.pop(PENDING, [])
    if not queued:
        return
    session.info[WRITING] = queued
    append(session, queued)


@event.listens_for(Session, "after_commit")
def _appended(session: Session) -> None:
    session.info.pop(WRITING, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_allowed_on_rollback(session: Session, previous_transaction: Any) -> None:
    """A rolled-back change leaves no success event; denials and errors are kept."""
    if previous_transaction.parent is not None:  # a savepoint: the outer work goes on
        return
    queued = session.info.pop(WRITING, []) + session.info.pop(PENDING, [])
    kept = [e for e in queued if e.outcome != Outcome.ALLOWED]
    if kept:
        session.info[PENDING] = kept


def init_recording(app: Flask) -> None:
    @app.before_request
    def _assign_request_id() -> None:
        request_id()

    @app.after_request
    def _request_id_header(response: Any) -> Any:
        if g.get("request_id"):
            response.headers.setdefault(REQUEST_ID_HEADER, g.request_id)
        return response


# --- verification ------------------------------------------------------------------------


@dataclass(slots=True)
class VerifyResult:
    ok: bool
    checked: int
    last_id: int
    broken_id: int | None = None
    problem: str | None = None
    last_hash: str = GENESIS_HASH
    checkpoints: int = 0

    def message(self) -> str:
        if self.ok:
            against = (
                f", consistent with {self.checkpoints} checkpoint(s)" if self.checkpoints else ""
            )
            return f"audit chain intact: {self.checked} events, last id {self.last_id}{against}"
        if self.broken_id is None:
            return f"audit chain broken: {self.problem}"
        return f"audit chain broken at event {self.broken_id}: {self.problem}"


class CheckpointError(ValueError):
    """A checkpoint line that is malformed or whose signature does not match."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the chain held ``last_id`` events, the last of them with
    ``last_hash``. Kept off the database (a file, or shipped off-host from standard
    output): whoever owns the database can move the chain head with a removed tail, not
    a checkpoint taken before."""

    last_id: int
    last_hash: str
    taken_at: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        """The signed bytes: every field but the signature, canonical JSON."""
        return json.dumps(
            {
                "v": 1,
                "last_id": self.last_id,
                "last_hash": self.last_hash,
                "taken_at": self.taken_at,
                "key_id": self.key_id,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")

    def to_line(self) -> str:
        data = json.loads(self.payload())
        data["signature"] = self.signature
        return json.dumps(data, sort_keys=True) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        try:
            data = json.loads(line)
        except ValueError as error:
            raise CheckpointError("not JSON") from error
        if not isinstance(data, dict) or data.get("v") != 1:
            raise CheckpointError("not a checkpoint (version 1)")
        last_id, last_hash = data.get("last_id"), data.get("last_hash")
        texts = [data.get(name) for name in ("last_hash", "taken_at", "key_id", "signature")]
        if not (
            isinstance(last_id, int)
            and last_id >= 0
            and all(isinstance(value, str) for value in texts)
            and isinstance(last_hash, str)
            and len(last_hash) == 64
        ):
            raise CheckpointError("a field is missing or has the wrong type")
        return cls(last_id, last_hash, data["taken_at"], data["key_id"], data["signature"])


def sign_checkpoint(result: VerifyResult, keys: AuditKeys | None = None) -> Checkpoint:
    """A checkpoint of a verified chain, signed with the current audit key."""
    if not result.ok:
        raise ValueError("only an intact chain is checkpointed")
    keys = keys or current_audit_keys()
    unsigned = Checkpoint(
        result.last_id,
        result.last_hash,
        utcnow().isoformat(timespec="seconds"),
        keys.current_key_id,
    )
    _, signature = keys.sign_checkpoint(unsigned.payload(), unsigned.key_id)
    return Checkpoint(
        unsigned.last_id, unsigned.last_hash, unsigned.taken_at, unsigned.key_id, signature
    )


def read_checkpoints(lines: Iterable[str], keys: AuditKeys | None = None) -> list[Checkpoint]:
    """Parse checkpoint lines and check each signature; CheckpointError names the line."""
    keys = keys or current_audit_keys()
    out: list[Checkpoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint.from_line(line)
        except CheckpointError as error:
            raise CheckpointError(f"checkpoint line {number}: {error}") from None
        if not keys.checkpoint_signed(
            checkpoint.payload(), checkpoint.key_id, checkpoint.signature
        ):
            raise CheckpointError(
                f"checkpoint line {number}: the signature does not match (edited, or signed "
                f"with an audit key that is not configured: {checkpoint.key_id!r})"
            )
        out.append(checkpoint)
    return out


_CHAINED = len(CHAIN_FIELDS)


def _row_fields(row: Any) -> dict[str, Any]:
    """The chained fields of a row selected as (*CHAIN_FIELDS, key_id, prev_hash, hash)."""
    return dict(zip(CHAIN_FIELDS, tuple(row)[:_CHAINED], strict=True))


def _verify_columns(table: Table, dialect: str) -> list[Any]:
    """The chained columns without per-row type processing: the instant as a plain
    DateTime (no TypeDecorator), the two JSON columns as their stored text (no JSON
    decoding). This is what makes ``audit verify`` fast: most of its time went into
    result processing, not hashing."""
    columns: list[Any] = []
    for name in (*CHAIN_FIELDS, "key_id", "prev_hash", "hash"):
        column = table.c[name]
        if name == "occurred_at" and dialect == "postgresql":
            # The canonical ISO-8601 text, formatted by the server: no timestamp parsing.
            columns.append(
                func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
            )
        elif name == "occurred_at":
            columns.append(type_coerce(column, DateTime(timezone=True)))
        elif name in ("fields_revealed", "detail"):
            columns.append(sql_cast(column, Text))
        else:
            columns.append(column)
    return columns


def _row_message(row: tuple[Any, ...], json_cache: dict[str, str]) -> bytes:
    """The link message of a row selected by :func:`_verify_columns`.

    Builds exactly the bytes of :func:`referral.audit.models.link_message` (keys in
    sorted order, no spaces, ``ensure_ascii=False``) with the C string encoder; a test
    checks both agree. A mismatch is re-checked through the ORM types before it is
    reported.
    """
    (
        id_,
        occurred_at,
        actor_id,
        actor_public_id,
        actor_role,
        org_id,
        action,
        obj_type,
        obj_id,
        outcome,
        request_id_,
        client_address,
        fields_revealed,
        detail,
        _key_id,
        prev_hash,
        _,
    ) = row
    if isinstance(occurred_at, str) and occurred_at.endswith("+00:00"):
        when = occurred_at  # formatted by PostgreSQL
    else:
        if isinstance(occurred_at, str):  # sqlite3 hands back the stored text
            occurred_at = datetime.fromisoformat(occurred_at)
        stamp = (
            occurred_at.replace(tzinfo=UTC)
            if occurred_at.tzinfo is None
            else occurred_at.astimezone(UTC)
        )
        when = stamp.isoformat(timespec="microseconds")
    text = (
        '{"action":' + _json_str(action)
        + ',"actor_id":' + _json_int(actor_id)
        + ',"actor_public_id":' + _json_str(actor_public_id)
        + ',"actor_role":' + _json_str(actor_role)
        + ',"client_address":' + _json_str(client_address)
        + ',"detail":' + _canonical_json(detail, json_cache)
        + ',"fields_revealed":' + _canonical_json(fields_revealed, json_cache)
        + ',"id":' + _json_int(id_)
        + ',"obj_id":' + _json_str(obj_id)
        + ',"obj_type":' + _json_str(obj_type)
        + ',"occurred_at":"' + when
        + '","org_id":' + _json_int(org_id)
        + ',"outcome":' + _json_str(outcome)
        + ',"request_id":' + _json_str(request_id_)
        + "}"
    )  # fmt: skip
    link: bytes = prev_hash.encode("ascii") + b"\n" + text.encode("utf-8")
    return link


def _json_str(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _json_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _canonical_json(stored: str | None, json_cache: dict[str, str]) -> str:
    """Canonical form of a stored JSON text (cached: few distinct values repeat a lot)."""
    if stored is None:
        return "null"
    found = json_cache.get(stored)
    if found is None:
        found = json.dumps(
            json.loads(stored), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        if len(json_cache) < 10_000:
            json_cache[stored] = found
    return found


def _mac_through_orm(
    session: Session, table: Table, event_id: int, prev_hash: str, mac: ChainMac
) -> str:
    """The slow, authoritative MAC of one event, through the mapped column types."""
    columns = [table.c[name] for name in CHAIN_FIELDS]
    row = session.execute(select(*columns).where(table.c.id == event_id)).one()
    return chain_mac(mac, prev_hash, dict(zip(CHAIN_FIELDS, tuple(row), strict=True)))


def verify_chain(
    session: Session, *, checkpoints: Sequence[Checkpoint] = (), batch_size: int = 20_000
) -> VerifyResult:
    """Walk the whole chain in id order; name the first broken or missing link.

    Every event must be the MAC, under a configured audit key, of its content and the
    previous event's hash; the chain head and every checkpoint (signed, read off the
    database) must name an event of the chain with the same hash. Rows are streamed
    through the DB-API cursor (server-side on PostgreSQL) in id order and hashed from
    their stored values without ORM or JSON-type processing; a row whose fast MAC does
    not match is checked again through the mapped types before it is reported, so the
    fast path can only be stricter, never more lenient.
    """
    keys = current_audit_keys()
    table = cast(Table, AuditEvent.__table__)
    head = session.get(AuditChainHead, 1, populate_existing=True)
    if head is None:
        return VerifyResult(False, 0, 0, None, "the chain head row is missing")
    # The events a hash is known for. The head is read before the walk: events that
    # commit during the walk can only come after it.
    marks: dict[int, list[tuple[str, str]]] = {}
    for checkpoint in checkpoints:
        if checkpoint.last_id:
            marks.setdefault(checkpoint.last_id, []).append(
                (checkpoint.last_hash, f"the checkpoint of {checkpoint.taken_at}")
            )
    if head.last_id:
        marks.setdefault(head.last_id, []).append((head.last_hash, "the chain head"))
    macs: dict[str, ChainMac] = {}
    expected_id, prev_hash, checked = 1, GENESIS_HASH, 0
    last_seen = 0
    json_cache: dict[str, str] = {}
    connection = session.connection()
    dialect = connection.dialect
    statement = select(*_verify_columns(table, dialect.name)).order_by(table.c.id)
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    # The DB-API cursor directly: SQLAlchemy's result rows cost more than the hashing.
    # On PostgreSQL a named (server-side) cursor streams; sqlite3 cursors stream anyway.
    if dialect.name == "postgresql":
        result = driver.cursor(name=f"audit_verify_{secrets.token_hex(4)}")  # type: ignore[union-attr]
        result.itersize = batch_size
    else:
        result = driver.cursor()  # type: ignore[union-attr]
    result.execute(sql)

    def broken(event_id: int | None, problem: str) -> VerifyResult:
        return VerifyResult(False, checked, last_seen, event_id, problem, prev_hash)

    try:
        for row in result:
            event_id, key_id, row_prev, row_hash = row[0], row[-3], row[-2], row[-1]
            if event_id != expected_id:
                return broken(
                    expected_id, f"event {expected_id} is missing (next found: {event_id})"
                )
            if row_prev != prev_hash:
                return broken(
                    event_id,
                    "prev_hash does not match the previous event "
                    "(an event was deleted, inserted or reordered)",
                )
            mac = macs.get(key_id)
            if mac is None:
                mac = keys.chain_mac(key_id) if key_id else None
                if mac is None:
                    return broken(
                        event_id,
                        f"not chained with a configured audit key (key id {key_id!r}): "
                        "re-chained without the audit key, or the key is missing",
                    )
                macs[key_id] = mac
            if (
                mac.hexdigest(_row_message(tuple(row), json_cache)) != row_hash
                and _mac_through_orm(session, table, event_id, prev_hash, mac) != row_hash
            ):
                return broken(
                    event_id,
                    "content does not match its MAC (event edited, or re-chained "
                    "without the audit key)",
                )
            for known, source in marks.get(event_id, ()):
                if known != row_hash:
                    return broken(event_id, f"differs from {source} (history rewritten)")
            prev_hash, last_seen = row_hash, event_id
            expected_id += 1
            checked += 1
    finally:
        result.close()
    beyond = [(event_id, source) for event_id, seen in marks.items() for _, source in seen]
    beyond = sorted(item for item in beyond if item[0] > last_seen)
    if beyond:
        event_id, source = beyond[0]
        return broken(
            last_seen + 1,
            f"{source} counts {event_id} events; found {last_seen} (events removed from the end)",
        )
    after = session.get(AuditChainHead, 1, populate_existing=True)
    if (
        after is None
        or after.last_id < last_seen
        or (after.last_id == last_seen and after.last_hash != prev_hash)
    ):
        return broken(None, "the chain head does not point at the last event")
    return VerifyResult(True, checked, last_seen, last_hash=prev_hash, checkpoints=len(checkpoints))


# --- listing, filters, export --------------------------------------------------------------


@dataclass(slots=True)
class AuditFilter:
    actor_id: int | None = None
    org_id: int | None = None
    action: str | None = None
    obj_type: str | None = None
    obj_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # The code filter: events of any of these (object type, public id) records; an empty
    # list matches nothing (the code names no record).
    objects: list[tuple[str, str]] | None = None
    code: str | None = None  # the code ``objects`` came from, for the export's detail
    extra: dict[str, Any] = field(default_factory=dict)

    def apply(self, stmt: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        conditions = []
        if self.actor_id is not None:
            conditions.append(AuditEvent.actor_id == self.actor_id)
        if self.org_id is not None:
            conditions.append(AuditEvent.org_id == self.org_id)
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.obj_type:
            conditions.append(AuditEvent.obj_type == self.obj_type)
        if self.obj_id:
            conditions.append(AuditEvent.obj_id == self.obj_id)
        if self.outcome:
            conditions.append(AuditEvent.outcome == self.outcome)
        if self.since is not None:
            conditions.append(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            conditions.append(AuditEvent.occurred_at < self.until)
        if self.objects is not None:
            conditions.append(
                or_(
                    false(),
                    *(
                        and_(AuditEvent.obj_type == kind, AuditEvent.obj_id == public_id)
                        for kind, public_id in self.objects
                    ),
                )
            )
        return stmt.where(and_(*conditions)) if conditions else stmt

    def as_detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("actor_id", "org_id", "action", "obj_type", "obj_id", "outcome", "code"):
            value = getattr(self, name)
            if value not in (None, ""):
                out[name] = value
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        return out


EVENT_ORDER = Keyset((AuditEvent.id,), descending=True)  # the chain's order, newest first


# The distinct actions of the log, walking the action index one value at a time (one index
# seek per action, however many events there are), on SQLite and PostgreSQL alike.
_KNOWN_ACTIONS = text(
    """
    WITH RECURSIVE walk(action) AS (
        SELECT MIN(action) FROM audit_events
        UNION ALL
        SELECT (SELECT MIN(e.action) FROM audit_events e WHERE e.action > walk.action)
        FROM walk WHERE walk.action IS NOT NULL
    )
    SELECT action FROM walk WHERE action IS NOT NULL
    """
)


def known_actions(session: Session) -> list[str]:
    """Every action the log holds, in order: the audit viewer's action list."""
    return list(session.scalars(_KNOWN_ACTIONS))


# What the audit viewer shows of an event (not its detail, hashes or key): a page reads
# these columns as rows, with who acted and for which organisation in the same statement.
EVENT_LINE_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor_public_id,
    AuditEvent.actor_role,
    AuditEvent.action,
    AuditEvent.obj_type,
    AuditEvent.obj_id,
    AuditEvent.outcome,
    AuditEvent.request_id,
    AuditEvent.client_address,
    AuditEvent.fields_revealed,
    User.email.label("actor_email"),
    Organisation.acronym.label("org_acronym"),
)


def list_events(
    session: Session, flt: AuditFilter, *, cursor: str | None = None, page_size: int = 50
) -> Page[Row[Any]]:
    """Newest first, keyset-paginated on the id (``WHERE id < :last``), never OFFSET: rows
    of EVENT_LINE_COLUMNS. The log keeps no foreign keys (it outlives users and
    organisations), so the actor's e-mail and the acronym come from outer joins and are
    None for a record that is gone."""
    query = (
        select(*EVENT_LINE_COLUMNS)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.org_id)
    )
    return paging.page(
        flt.apply(query),
        EVENT_ORDER,
        cursor=cursor,
        limit=page_size,
        session=session,
        columns=True,
    )


def organisation_acronyms() -> list[tuple[str, str]]:
    """(public id, acronym) of every organisation, for the filter form."""
    rows = db.session.execute(
        select(Organisation.public_id, Organisation.acronym).order_by(Organisation.acronym)
    )
    return [(public_id, acronym) for public_id, acronym in rows]


def user_id_of(needle: str) -> int | None:
    """The user an auditor names by e-mail or public id."""
    found: int | None = db.session.scalar(
        select(User.id).where(or_(User.email == needle.lower(), User.public_id == needle))
    )
    return found


def iter_events(
    session: Session, flt: AuditFilter, *, batch_size: int = 5_000
) -> Iterator[AuditEvent]:
    """All matching events in chain order, batch by batch (keyset over the id)."""
    last = 0
    while True:
        batch = list(
            session.scalars(
                flt.apply(select(AuditEvent))
                .where(AuditEvent.id > last)
                .order_by(AuditEvent.id)
                .limit(batch_size)
            )
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].id
        for row in batch:  # keep the identity map small on long exports
            session.expunge(row)


def event_as_dict(row: AuditEvent) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in (*CHAIN_FIELDS, "prev_hash", "hash")}
    out["occurred_at"] = row.occurred_at.isoformat(timespec="microseconds")
    return out


def json_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for row in events:
        yield json.dumps(event_as_dict(row), sort_keys=True, ensure_ascii=False) + "\n"


CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "actor_public_id",
    "actor_role",
    "org_id",
    "action",
    "obj_type",
    "obj_id",
    "outcome",
    "request_id",
    "client_address",
    "fields_revealed",
    "hash",
)


def _csv_safe(value: Any) -> str:
    """Stringify, defusing spreadsheet formulas (CSV injection)."""
    text = "" if value is None else (";".join(value) if isinstance(value, list) else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for row in events:
        buffer.seek(0)
        buffer.truncate()
        data = event_as_dict(row)
        writer.writerow([_csv_safe(data[name]) for name in CSV_COLUMNS])
        yield buffer.getvalue()
