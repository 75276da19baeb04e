"""What the NLU layer reports about a message's intent (no SDK types)."""
from __future__ import annotations

from dataclasses import dataclass, field

INTENTS = (
    "greet", "goodbye", "thanks", "affirm", "deny", "help", "self_help", "screening",
    "book_counseling", "hotline_info", "talk_to_human", "venting", "privacy", "out_of_scope",
)


@dataclass(frozen=True)
class Intent:
    name: str
    confidence: float
    entities: dict[str, str] = field(default_factory=dict)
