"""Which record's data key encrypts a row: ``__data_key_owners__`` declarations.

Per-record data keys (envelope encryption): a model that declares
``__data_key_owners__`` (see :class:`DataKeyOwner`) has its values sealed under the
data key of its owner record. Destroying that one key (retention purge, R26) makes
every value of the record, children included, unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import FromClause, String, Table, case, event, literal, type_coerce
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, Session, object_mapper
from sqlalchemy.sql.elements import ColumnElement

from referral.security.crypto.errors import EncryptionError
from referral.security.crypto.sealed import owner_label

OWNER_CLASS_INFO = "referral_data_key_owner_class"


@dataclass(frozen=True, slots=True)
class DataKeyOwner:
    """Names the record whose data key encrypts a model's fields.

    Declare on the model as ``__data_key_owners__ = (DataKeyOwner(...), ...)``; the
    first declaration whose ``when`` matches the row applies:

    - ``DataKeyOwner("case")``: the row itself owns a key (owner id: its public id);
    - ``DataKeyOwner("case", via="case")``: the owner is the row's ``case`` relationship;
    - ``DataKeyOwner("case", public_id_attr="source_public_id", when=("source_kind",
      "case"))``: the owner's public id is stored on the row, for rows whose
      ``source_kind`` is ``"case"``;
    - ``via`` and ``public_id_attr`` together: the owner's public id is stored on the
      related row (``when`` is then tested on the related row too).
    """

    owner_type: str
    via: str | None = None
    public_id_attr: str | None = None
    when: tuple[str, str] | None = None

    def applies_to(self, instance: object, session: Session | None) -> bool:
        if self.when is None:
            return True
        holder = self._target(instance, session) if self.via and self.public_id_attr else instance
        value = getattr(holder, self.when[0], None) if holder is not None else None
        return value is not None and str(value) == self.when[1]

    def _target(self, instance: object, session: Session | None) -> Any:
        if self.via is None:
            return instance
        target = getattr(instance, self.via, None)
        if target is None:  # a pending row with only the foreign key set
            mapper = object_mapper(instance)
            relationship = mapper.relationships[self.via]
            keys = [
                getattr(instance, mapper.get_property_by_column(c).key)
                for c in relationship.local_columns
            ]
            if any(k is None for k in keys) or session is None:
                return None
            with session.no_autoflush:
                ident = keys[0] if len(keys) == 1 else tuple(keys)
                target = session.get(relationship.mapper.class_, ident)
        return target

    def owner_public_id(self, instance: object, session: Session | None) -> str | None:
        if self.via is None and self.public_id_attr is None:
            ensure_public_id(instance)
            return str(instance.public_id)  # type: ignore[attr-defined]
        holder: Any = self._target(instance, session)
        if holder is None:
            return None
        if self.public_id_attr is not None:
            value = getattr(holder, self.public_id_attr, None)
            return str(value) if value else None
        ensure_public_id(holder)
        return str(holder.public_id)


def data_key_owners(cls: type) -> tuple[DataKeyOwner, ...]:
    return tuple(getattr(cls, "__data_key_owners__", ()))


def data_key_owner_of(instance: object, session: Session | None) -> tuple[str, str] | None:
    """(owner type, owner public id) whose data key encrypts this row; None: master key."""
    owners = data_key_owners(type(instance))
    if not owners:
        return None
    for decl in owners:
        if decl.applies_to(instance, session):
            public_id = decl.owner_public_id(instance, session)
            if public_id:
                return decl.owner_type, public_id
    raise EncryptionError(
        f"{type(instance).__name__}: no data key owner for this row (set its owner first)"
    )


def ensure_public_id(instance: object) -> None:
    """Give a pending row its public id now (they are generated in Python)."""
    if getattr(instance, "public_id", None):
        return
    mapper: Mapper[Any] = object_mapper(instance)
    col = mapper.columns.get("public_id")
    default = getattr(col, "default", None) if col is not None else None
    if default is None or not getattr(default, "is_callable", False):
        raise EncryptionError(
            f"{type(instance).__name__} needs a public_id generated in Python before insert"
        )
    instance.public_id = default.arg(None)  # type: ignore[attr-defined]


@event.listens_for(Mapper, "after_mapper_constructed")
def _remember_owner_class(mapper: Mapper[Any], cls: type) -> None:
    """Batch jobs walk tables, not classes: the table names the class that declares its
    owners, so :func:`owner_sql` can say in SQL whose row each one is."""
    if data_key_owners(cls):
        cast(Table, mapper.local_table).info[OWNER_CLASS_INFO] = cls


def owner_sql(table: Table) -> tuple[ColumnElement[str] | None, FromClause]:
    """The owner of each row of ``table`` in SQL (:func:`owner_label` text, NULL when no
    declaration applies), and the table joined with what that needs; (None, table) for
    a table whose rows have no owner. Mirrors :func:`data_key_owner_of`."""
    cls = table.info.get(OWNER_CLASS_INFO)
    if cls is None:
        return None, table
    mapper: Mapper[Any] = sa_inspect(cls)
    source: FromClause = table
    joined: set[str] = set()
    whens: list[tuple[ColumnElement[bool], ColumnElement[str]]] = []
    default: ColumnElement[str] | None = None
    for decl in data_key_owners(cls):
        holder_mapper, holder = mapper, table
        if decl.via is not None:
            relationship = mapper.relationships[decl.via]
            holder_mapper = relationship.mapper
            holder = cast(Table, holder_mapper.local_table)
            if decl.via not in joined:
                source = source.outerjoin(holder, relationship.primaryjoin)
                joined.add(decl.via)
        attr = decl.public_id_attr or "public_id"
        column = holder_mapper.get_property(attr).columns[0]
        column = holder.c[column.name]
        label = literal(owner_label(decl.owner_type, "")) + type_coerce(column, String)
        if decl.when is None:
            default = label
            break
        flag = holder.c[holder_mapper.get_property(decl.when[0]).columns[0].name]
        whens.append((type_coerce(flag, String) == decl.when[1], label))
    if not whens:
        return default, source
    return case(*whens, else_=default), source
