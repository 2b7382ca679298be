"""How a change is refused, and the explicit state machines.

Every service refuses a change in one of two ways:

- :class:`RuleError`: the input breaks a rule. ``field`` names the form field the message
  belongs next to (or ``""`` for the form as a whole); the request is answered 400.
- :class:`ConflictError`: someone else changed the record first (a lost race, or a
  transition the record's current state no longer allows); the request is answered 409.

Either way nothing is changed: the request's unit of work is rolled back
(``referral.db.work``). Every workflow declares its legal transitions in one table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)


class RuleError(ValueError):
    """A change refused by a rule; ``field`` names the form field the message concerns."""

    def __init__(self, field: str, message: object) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message  # may be lazy: rendered in the request's language

    def __str__(self) -> str:
        return str(self.message)


class ConflictError(RuntimeError):
    """Someone else changed the record first; nothing was changed."""


class IllegalTransitionError(ConflictError):
    """A transition that the workflow's table does not allow (from the current state)."""

    def __init__(self, workflow: str, current: str, target: str) -> None:
        super().__init__(f"{workflow}: {current} -> {target} is not allowed")
        self.workflow = workflow
        self.current = current
        self.target = target


@dataclass(frozen=True)
class TransitionTable(Generic[S]):
    name: str
    allowed: Mapping[S, frozenset[S]]

    @classmethod
    def build(cls, name: str, edges: Mapping[S, Iterable[S]]) -> TransitionTable[S]:
        return cls(name, {state: frozenset(targets) for state, targets in edges.items()})

    def can(self, current: S, target: S) -> bool:
        return target in self.allowed.get(current, frozenset())

    def check(self, current: S, target: S) -> None:
        if not self.can(current, target):
            raise IllegalTransitionError(self.name, current.value, target.value)

    def targets(self, current: S) -> frozenset[S]:
        return self.allowed.get(current, frozenset())
