"""Explicit state machines: every workflow declares its legal transitions in one table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)


class IllegalTransitionError(Exception):
    """A transition that the workflow's table does not allow."""

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
