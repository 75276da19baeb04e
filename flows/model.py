"""The flow model: what a content editor writes in flows/content/*.yaml, as data."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Where:
    """Where a piece of a flow was written, for errors an editor can find."""
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Choice:
    label: str
    value: str
    next: str | None = None      # a step of the same flow
    jump: str | None = None      # another flow
    action: str | None = None    # e.g. consent_yes, consent_no, escalate, end
    where: Where | None = None


@dataclass(frozen=True)
class Step:
    name: str
    say: tuple[str, ...] = ()
    options: tuple[Choice, ...] = ()
    next: str | None = None
    jump: str | None = None
    action: str | None = None
    end: bool = False
    where: Where | None = None

    @property
    def waits(self) -> bool:
        return bool(self.options)


@dataclass(frozen=True)
class Triggers:
    intents: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    start: str
    steps: dict[str, Step]
    triggers: Triggers = field(default_factory=Triggers)
    where: Where | None = None


ACTIONS = ("consent_yes", "consent_no", "escalate", "end", "handoff")
