"""The risk contract of design.md: ordered levels, categories, one assessment."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Risk(IntEnum):
    none = 0
    low = 1
    medium = 2
    high = 3
    imminent = 4

    @property
    def pages(self) -> bool:
        """high and imminent page the on-duty staff."""
        return self >= Risk.high


CATEGORIES = ("self", "self_harm", "others", "third_party", "none")


def whose(category: str) -> str:
    """The category of a medium-or-higher assessment: whose risk it is (the writer's unless named);
    design.md keeps none for none/low only."""
    return category if category != "none" else "self"


@dataclass(frozen=True)
class Assessment:
    risk: Risk = Risk.none
    category: str = "none"
    signals: tuple[str, ...] = field(default_factory=tuple)

    @property
    def learned_only(self) -> bool:
        """The level comes from the learned signal alone: no rule cue fired (signal ``model:…``)."""
        return bool(self.signals) and all(s.startswith("model:") for s in self.signals)

    def raised_to(self, risk: Risk, category: str, signal: str) -> "Assessment":
        """A later signal may raise a level, never lower one."""
        if risk <= self.risk:
            return Assessment(self.risk, self.category, self.signals + (signal,))
        return Assessment(risk, category, self.signals + (signal,))
