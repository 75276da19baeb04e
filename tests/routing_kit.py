"""A router on the real Redis with an in-process conversation helper (push a message, pop replies)."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Inbound, Outbound
from bot.router import Router, RouterDeps
from bot.sessions import SessionStore
from core.clock import FakeClock
from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.transcript import Transcript
from flows.registry import FlowRegistry
from nlu.assess import default_assessor
from nlu.intent import Intent
from bot.settings import ROOT


class ScriptedParser:
    """Stands in for Rasa in router unit tests: a fixed text → intent table; None = Rasa down."""

    def __init__(self, table: dict[str, Intent] | None = None):
        self.table = table or {}

    async def parse(self, text: str) -> Intent | None:
        return self.table.get(text)


@dataclass
class Conversation:
    router: Router
    user: str = "we-test-user"
    channel: str = "web"
    replies: list[Outbound] = field(default_factory=list)

    async def say(self, text: str = "", value: str | None = None) -> list[Outbound]:
        msg = Inbound(channel=self.channel, user=self.user, text=text,
                      kind="option" if value else "text", value=value)
        self.replies = await self.router.handle(msg)
        return self.replies

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)


def make_router(redis, parser=None, clock=None, flows_dir=None) -> Router:
    sealer = Sealer(Sealer.new_key())
    return Router(RouterDeps(
        sessions=SessionStore(redis, 3600, sealer), transcript=Transcript(redis, sealer), cases=CaseStore(redis),
        flows=FlowRegistry(flows_dir or ROOT / "flows" / "content"),
        orgs=Orgs.load(ROOT / "config" / "organisations.yaml"),
        assess=default_assessor().assess, nlu=parser, clock=clock or FakeClock(),
    ))
