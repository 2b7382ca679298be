"""Row-bound encrypted attributes and their column type.

A ``TypeDecorator`` does not see its row, so encrypted attributes are plain Python
descriptors (:class:`EncryptedField`, declared with :func:`encrypted_column`) sitting
over a private mapped column of type :class:`EncryptedBlob`. Setting the attribute
records the plaintext as pending; a ``before_flush`` session hook seals it with
(table, column, public_id) as associated data, under the data key of the row's owner
record when the model declares one (:mod:`referral.security.crypto.owners`). Reading
the attribute opens the stored value lazily, on first access, so a list page that
never touches the field never decrypts it. The column type itself only converts
between bytes and :class:`Sealed` and refuses anything else, so a plaintext can never
be bound to an encrypted column by mistake (Core inserts included). It holds no key
material.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from functools import partial
from typing import Any, Final, cast

from sqlalchemy import LargeBinary, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, object_mapper, object_session
from sqlalchemy.orm.exc import UnmappedInstanceError
from sqlalchemy.types import TypeDecorator

from referral.security import events
from referral.security.crypto.app import current_data_key_store, current_keyring
from referral.security.crypto.errors import DecryptionError, EncryptionError, ShreddedError
from referral.security.crypto.keyring import DataKeyResolver, KeyRing
from referral.security.crypto.owners import data_key_owner_of, ensure_public_id
from referral.security.crypto.sealed import KIND_DATA_KEY, Binding, Sealed, owner_label


class EncryptedBlob(TypeDecorator[Sealed]):
    """Column type for sealed values: bytes in the database, :class:`Sealed` in Python.

    It holds no key material and refuses to bind anything but a :class:`Sealed`, so a
    plaintext string can never reach an encrypted column.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.raw
        raise TypeError(
            "encrypted columns accept only Sealed values; set the plaintext through "
            "the model's encrypted attribute"
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> Sealed | None:
        if value is None:
            return None
        return Sealed(bytes(value))


_PENDING: Final = "_referral_enc_pending_"
_CACHE: Final = "_referral_enc_cache_"
_NOTHING: Final = object()


class EncryptedField:
    """Descriptor holding a plaintext ``str`` over a private :class:`EncryptedBlob` column.

    Declare with :func:`encrypted_column`. The plaintext is sealed at flush with
    (table, column, public_id) as associated data and opened on first read.
    The model must have a ``public_id`` string attribute.
    """

    def __init__(self, column_name: str | None = None, *, nullable: bool = True) -> None:
        self.column_name = column_name
        self.nullable = nullable
        self.attr = ""
        self.storage_attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = name
        self.storage_attr = f"_{name}_sealed"
        if self.column_name is None:
            self.column_name = name
        # Declarative maps this private attribute as the real column.
        setattr(
            owner,
            self.storage_attr,
            mapped_column(self.column_name, EncryptedBlob(), nullable=self.nullable),
        )
        fields = dict(getattr(owner, "__encrypted_fields__", {}))
        fields[name] = self
        owner.__encrypted_fields__ = fields  # type: ignore[attr-defined]

    def binding(
        self, instance: object, owner: tuple[str, str] | object | None = _NOTHING
    ) -> Binding:
        """Table, column, public id and, for a model with data key owners, the owner
        record as the row names it now (``owner``: already known, at flush)."""
        mapper = object_mapper(instance)
        column = mapper.get_property(self.storage_attr).columns[0]
        public_id = getattr(instance, "public_id", None)
        if not isinstance(public_id, str) or not public_id:
            raise EncryptionError(
                f"{type(instance).__name__}.{self.attr}: the row has no public_id to bind to"
            )
        if owner is _NOTHING:
            owner = data_key_owner_of(instance, object_session(instance))
        label = owner_label(*owner) if isinstance(owner, tuple) else None
        return Binding(column.table.name, column.name, public_id, label)

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        state = instance.__dict__
        pending = state.get(_PENDING + self.attr, _NOTHING)
        if pending is not _NOTHING:
            return pending
        sealed = getattr(instance, self.storage_attr)
        if sealed is None:
            return None
        cached = state.get(_CACHE + self.attr)
        if cached is not None and cached[0] is sealed:
            return cached[1]
        try:
            data_keys = _data_keys_of(instance) if sealed.kind == KIND_DATA_KEY else None
            plaintext = (
                current_keyring()
                .open(sealed, self.binding(instance), data_keys=data_keys)
                .decode("utf-8")
            )
        except ShreddedError:
            return None  # purged (R26): the value no longer exists
        except DecryptionError as error:
            binding = self.binding(instance)
            # A value that does not open was tampered with, moved or sealed under a lost
            # key: the audit trail records where (never a value), then the error goes on.
            events.emit(
                "crypto.decryption_failed",
                outcome="error",
                obj_type=binding.table,
                obj_id=binding.public_id,
                detail={"column": binding.column, "error": str(error)},
            )
            raise
        state[_CACHE + self.attr] = (sealed, plaintext)
        return plaintext

    def __set__(self, instance: object, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{self.attr} takes a str or None")
        if value is None and not self.nullable:
            raise ValueError(f"{self.attr} may not be None")
        instance.__dict__[_PENDING + self.attr] = value
        with contextlib.suppress(UnmappedInstanceError):  # unmapped: nothing to flag
            attributes.flag_dirty(instance)

    def seal_pending(
        self,
        instance: object,
        keyring: KeyRing,
        data_key: tuple[str, bytes] | None = None,
        owner: tuple[str, str] | None = None,
    ) -> bool:
        """Seal a pending plaintext into the storage column; return True if one was sealed.

        With ``data_key`` (id, key) the value is sealed under that record data key and
        bound to its ``owner`` (type, public id).
        """
        pending = instance.__dict__.pop(_PENDING + self.attr, _NOTHING)
        if pending is _NOTHING:
            return False
        if pending is None:
            setattr(instance, self.storage_attr, None)
            return True
        plaintext = str(pending).encode("utf-8")
        binding = self.binding(instance, owner)
        if data_key is not None:
            sealed = keyring.seal_with_data_key(plaintext, binding, data_key[0], data_key[1])
        else:
            sealed = keyring.seal(plaintext, binding)
        setattr(instance, self.storage_attr, sealed)
        instance.__dict__[_CACHE + self.attr] = (sealed, pending)
        return True


def encrypted_column(
    column_name: str | None = None, *, nullable: bool = True
) -> Mapped[str | None]:
    """Declare an encrypted text attribute: ``name: Mapped[str | None] = encrypted_column()``.

    The database column (named ``column_name``, default the attribute name) is
    ``LARGEBINARY``; no query can filter on it.
    """
    return cast("Mapped[str | None]", EncryptedField(column_name, nullable=nullable))


def encrypted_fields(cls: type) -> Mapping[str, EncryptedField]:
    return cast("Mapping[str, EncryptedField]", getattr(cls, "__encrypted_fields__", {}))


def _data_keys_of(instance: object) -> DataKeyResolver | None:
    """The app's data key store, read in the row's own session."""
    session = object_session(instance)
    if session is None:
        return None
    return partial(current_data_key_store().resolve, session)


@event.listens_for(Session, "before_flush")
def _seal_pending_values(session: Session, flush_context: Any, instances: Any) -> None:
    for instance in (*session.new, *session.dirty):
        fields = encrypted_fields(type(instance))
        if not fields:
            continue
        pending = [f for f in fields.values() if _PENDING + f.attr in instance.__dict__]
        if not pending:
            continue
        keyring = current_keyring()
        ensure_public_id(instance)
        data_key: tuple[str, bytes] | None = None
        owner: tuple[str, str] | None = None
        if any(p is not None for p in (instance.__dict__[_PENDING + f.attr] for f in pending)):
            owner = data_key_owner_of(instance, session)
            if owner is not None:
                data_key = current_data_key_store().key_for(session, *owner)
        for f in pending:
            f.seal_pending(instance, keyring, data_key, owner)
