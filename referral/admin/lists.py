"""Country-adapted lists of the GBVIMS intake: ethnicity, incident location types, who
referred the survivor, perpetrator occupations.

The GBVIMS lets each country adapt these lists; its core lists (incident types, age
bands, relationships, referral answers...) stay fixed in code. An item's code is stable:
records store the code, the label may be reworded, and an item that is no longer offered
is deactivated, never deleted, so older records keep their meaning. A list that was never
adapted offers its built-in default items (GBVIMS suggestions); the first change an
administrator makes copies them in. Incident location *names* are the areas of the
directory, with their own P-codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from referral.db import User
from referral.db.base import TimestampMixin, enum_type
from referral.extensions import Base, db
from referral.i18n import in_current_language
from referral.messages import lazy_gettext as _l
from referral.security import events
from referral.workflow import RuleError


class CountryList(StrEnum):
    ETHNICITY = "ethnicity"
    LOCATION_TYPE = "location_type"
    REFERRED_FROM = "referred_from"
    OCCUPATION = "occupation"


LIST_LABELS = {
    CountryList.ETHNICITY: _l("Ethnicity"),
    CountryList.LOCATION_TYPE: _l("Type of incident location"),
    CountryList.REFERRED_FROM: _l("Referred from"),
    CountryList.OCCUPATION: _l("Occupation of the alleged perpetrator"),
}

# Built-in items (code, English label) a list offers until an administrator adapts it.
# Location types keep the codes incidents stored before the list became adaptable.
DEFAULT_ITEMS: dict[CountryList, tuple[tuple[str, Any], ...]] = {
    CountryList.ETHNICITY: (),
    CountryList.LOCATION_TYPE: (
        ("home", _l("Home")),
        ("road", _l("Road")),
        ("field_or_bush", _l("Field or bush")),
        ("school", _l("School")),
        ("market", _l("Market")),
        ("distribution_site", _l("Distribution site")),
        ("camp_or_settlement", _l("Camp or settlement")),
        ("workplace", _l("Workplace")),
        ("detention", _l("Detention")),
        ("other", _l("Other")),
    ),
    CountryList.REFERRED_FROM: (
        ("health_medical", _l("Health / Medical Services")),
        ("psychosocial", _l("Psychosocial / Counseling Services")),
        ("police_security", _l("Police / Other Security Actor")),
        ("legal_assistance", _l("Legal Assistance Services")),
        ("livelihoods", _l("Livelihoods Program")),
        ("self_referral", _l("Self Referral / First Point of Contact")),
        ("teacher_school", _l("Teacher / School Official")),
        ("community_camp_leader", _l("Community or Camp Leader")),
        ("safe_house", _l("Safe House / Shelter")),
        ("other_humanitarian", _l("Other Humanitarian or Development Actor")),
        ("other_government", _l("Other Government Service")),
        ("other", _l("Other")),
    ),
    CountryList.OCCUPATION: (
        ("unemployed", _l("Unemployed")),
        ("armed_forces", _l("Armed forces or armed group")),
        ("police", _l("Police or other security")),
        ("humanitarian_worker", _l("Humanitarian or development worker")),
        ("teacher", _l("Teacher or school staff")),
        ("health_worker", _l("Health worker")),
        ("religious_leader", _l("Religious leader")),
        ("community_leader", _l("Community leader")),
        ("farmer", _l("Farmer or herder")),
        ("trader", _l("Trader or business owner")),
        ("student", _l("Student")),
        ("other", _l("Other")),
        ("unknown", _l("Unknown")),
    ),
}

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
MAX_LABEL = 200


class ListItem(TimestampMixin, Base):
    """One item of a country-adapted list; ``code`` never changes once created."""

    __tablename__ = "country_list_items"
    __table_args__ = (UniqueConstraint("list_name", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[CountryList] = mapped_column(enum_type(CountryList), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(MAX_LABEL))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# The defaults as code -> label, for in_current_language (translated once per language).
DEFAULT_LABELS = {kind: dict(items) for kind, items in DEFAULT_ITEMS.items()}


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    active: bool = True


def _stored(kind: CountryList) -> list[ListItem]:
    return list(
        db.session.scalars(
            select(ListItem)
            .where(ListItem.list_name == kind)
            .order_by(ListItem.position, ListItem.id)
        )
    )


def items(kind: CountryList, *, include_inactive: bool = False) -> list[Item]:
    """The list as offered now: the adapted items, or the defaults if never adapted."""
    stored = _stored(kind)
    if not stored:
        return [Item(code, str(label)) for code, label in DEFAULT_ITEMS[kind]]
    return [
        Item(row.code, row.label, row.active) for row in stored if include_inactive or row.active
    ]


def is_adapted(kind: CountryList) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).select_from(ListItem).where(ListItem.list_name == kind)
        )
    )


def labels(kind: CountryList) -> dict[str, str]:
    """Code -> label of every item ever offered (inactive too: older records use them)."""
    return {item.code: item.label for item in items(kind, include_inactive=True)}


def labels_of(*kinds: CountryList) -> dict[CountryList, dict[str, str]]:
    """:func:`labels` of several lists, read in one query (a page that shows several)."""
    stored: dict[CountryList, dict[str, str]] = {kind: {} for kind in kinds}
    rows = db.session.execute(
        select(ListItem.list_name, ListItem.code, ListItem.label)
        .where(ListItem.list_name.in_(kinds))
        .order_by(ListItem.position, ListItem.id)
    )
    for kind, code, label in rows:
        stored[kind][code] = label
    return {
        kind: found or dict(in_current_language(DEFAULT_LABELS[kind]))
        for kind, found in stored.items()
    }


def choices(kind: CountryList, *, keep: str | None = None) -> list[tuple[str, str]]:
    """Active items for a form; ``keep`` is the record's current code, offered even when
    it was deactivated since, so saving the record does not change it."""
    options = [(item.code, item.label) for item in items(kind)]
    if keep and keep not in {code for code, _label in options}:
        label = labels(kind).get(keep)
        if label is not None:
            options.append((keep, label))
    return options


def check_code(kind: CountryList, code: str | None, field: str, *, keep: str | None = None) -> None:
    """A record may name an active item, or keep the (possibly deactivated) one it has."""
    if code is None or code == keep:
        return
    if code not in {item.code for item in items(kind)}:
        raise RuleError(field, _l("Choose an item of the list."))


def _materialise(kind: CountryList) -> list[ListItem]:
    """Copy the defaults in before the first change, so their codes stay the same."""
    stored = _stored(kind)
    if stored:
        return stored
    for position, (code, label) in enumerate(DEFAULT_ITEMS[kind], start=1):
        row = ListItem(list_name=kind, code=code, label=str(label), position=position, active=True)
        db.session.add(row)
        stored.append(row)
    db.session.flush()
    return stored


def _check_label(label: str) -> str:
    label = label.strip()
    if not label:
        raise RuleError("label", _l("Give the item a label."))
    if len(label) > MAX_LABEL:
        raise RuleError("label", _l("At most %(n)d characters.", n=MAX_LABEL))
    return label


def add_item(kind: CountryList, code: str, label: str, *, actor: User) -> ListItem:
    code = code.strip().lower()
    if not CODE_PATTERN.match(code):
        raise RuleError(
            "code",
            _l("A code is 1 to 40 lowercase letters, digits or _ (not _ first)."),
        )
    label = _check_label(label)
    stored = _materialise(kind)
    if any(row.code == code for row in stored):
        raise RuleError("code", _l("This code is already used in the list; codes never change."))
    if any(row.label.casefold() == label.casefold() for row in stored):
        raise RuleError("label", _l("An item of the list already has this label."))
    row = ListItem(
        list_name=kind,
        code=code,
        label=label,
        position=max((r.position for r in stored), default=0) + 1,
        active=True,
    )
    db.session.add(row)
    db.session.flush()
    events.emit(
        "admin.list_item_added",
        user=actor,
        obj_type="country_list",
        obj_id=kind.value,
        detail={"code": code},
    )
    return row


def update_item(kind: CountryList, code: str, label: str, active: bool, *, actor: User) -> ListItem:
    """Reword or (de)activate an item; its code stays."""
    label = _check_label(label)
    stored = _materialise(kind)
    row = next((r for r in stored if r.code == code), None)
    if row is None:
        raise RuleError("code", _l("No such item in the list."))
    if any(r is not row and r.label.casefold() == label.casefold() for r in stored):
        raise RuleError("label", _l("An item of the list already has this label."))
    changed = {
        name: value
        for name, value in (("label", label != row.label), ("active", active != row.active))
        if value
    }
    row.label = label
    row.active = active
    db.session.flush()
    if changed:
        events.emit(
            "admin.list_item_changed",
            user=actor,
            obj_type="country_list",
            obj_id=kind.value,
            detail={"code": code, "changed": sorted(changed), "active": active},
        )
    return row
