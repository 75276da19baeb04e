"""The one message type every channel converts to and from. No SDK object crosses it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InboundKind = Literal["text", "option", "event", "unsupported"]
OutboundKind = Literal["bot", "safety", "staff", "system"]


@dataclass(frozen=True)
class Option:
    label: str
    value: str


@dataclass(frozen=True)
class Inbound:
    channel: str            # "web", "terminal", "wechat", "telegram"
    user: str               # pseudonymous id (core.pseudonym), never the platform id
    text: str = ""
    kind: InboundKind = "text"
    value: str | None = None    # the chosen option's value, or the event name
    message_id: str | None = None
    lang: str | None = None     # "zh" / "en" when the channel knows it
    org: str | None = None      # organisation from the entry link, when known


@dataclass(frozen=True)
class Outbound:
    text: str
    options: tuple[Option, ...] = ()
    kind: OutboundKind = "bot"

    def as_numbered_text(self) -> str:
        """Graceful degradation for channels without buttons: options become numbered lines."""
        if not self.options:
            return self.text
        lines = [self.text, ""] + [f"{i}. {o.label}" for i, o in enumerate(self.options, 1)]
        lines.append("（回复数字即可选择）")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind,
                "options": [{"label": o.label, "value": o.value} for o in self.options]}

    @classmethod
    def from_dict(cls, d: dict) -> "Outbound":
        return cls(text=d["text"], kind=d.get("kind", "bot"),
                   options=tuple(Option(o["label"], o["value"]) for o in d.get("options", ())))
