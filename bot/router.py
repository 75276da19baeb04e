"""The router: the routing rule of design.md, safety first.

Every inbound message, in every state, first goes through crisis assessment (in-process,
never waits on Rasa or the network). Then: an active handoff relays to staff; an active
flow step consumes the answer; otherwise Rasa picks the intent and a flow starts. With
Rasa down the router degrades to menu, digits and keywords.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from bot.messages import Inbound, Option, Outbound
from bot.sessions import Session, SessionStore
from core.clock import SystemClock
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.safety import concern_reply, holding_reply, safety_reply
from escalation.transcript import RETENTION_S, UNCONSENTED_RETENTION_S, Transcript
from flows.engine import FlowState, Say, Turn
from flows.registry import FlowRegistry
from nlu.intent import Intent
from nlu.risk import Assessment, Risk

log = logging.getLogger("xinyi.router")

INTENT_CONFIDENCE = 0.6
MENU_WORDS = {"菜单", "menu", "主菜单", "目录", "0"}
STOP_WORDS = {"退出", "stop", "取消", "cancel", "结束"}
EMPATHY = "听起来你最近真的很辛苦。"


class Parser(Protocol):
    async def parse(self, text: str) -> Intent | None: ...


@dataclass
class RouterDeps:
    sessions: SessionStore
    transcript: Transcript
    cases: CaseStore
    flows: FlowRegistry
    orgs: Orgs
    assess: Callable[[str], Assessment]
    nlu: Parser | None = None
    clock: SystemClock = SystemClock()
    max_chars: int = 2000


class Router:
    def __init__(self, deps: RouterDeps):
        self.d = deps

    async def handle(self, msg: Inbound) -> list[Outbound]:
        d = self.d
        now = d.clock.now()
        # Assess the whole message (the channel caps its size); store and converse on a bounded part.
        assessment = d.assess(msg.text) if msg.text else Assessment()
        text = (msg.text or "")[: d.max_chars]
        session = await d.sessions.load(msg.user)
        if msg.org and not session.org:
            session.org = msg.org
        org = session.org or d.orgs.default
        retention = RETENTION_S if session.consent else UNCONSENTED_RETENTION_S

        case = await d.cases.open_case_of(msg.user)
        if assessment.risk.pages or case is not None:
            retention = RETENTION_S  # a case needs its conversation
        await d.transcript.append(msg.user, "user", text or f"[{msg.kind}]", now,
                                  risk=assessment.risk.name, retention_s=retention)

        if assessment.risk.pages:
            opened = await d.cases.open_or_join(msg.user, msg.channel, org, assessment.risk,
                                                assessment.category, list(assessment.signals), now)
            log.warning("crisis user=%s risk=%s category=%s case=%s created=%s raised=%s",
                        msg.user, assessment.risk.name, assessment.category, opened.case_id,
                        opened.created, opened.raised)
            session.flow = None  # a crisis takes over any flow
            replies = [Outbound(safety_reply(d.orgs, org, assessment.risk), kind="safety")]
        elif case is not None and case.status == "claimed":
            log.info("relay user=%s case=%s", msg.user, case.id)
            await d.cases.open_or_join(msg.user, msg.channel, org, assessment.risk, assessment.category,
                                       list(assessment.signals), now)
            replies = []  # a person has taken over: the message reaches them through the case
        elif assessment.risk == Risk.medium:
            opened = await d.cases.open_or_join(msg.user, msg.channel, org, Risk.medium, assessment.category,
                                                list(assessment.signals), now)
            log.info("concern user=%s case=%s created=%s", msg.user, opened.case_id, opened.created)
            session.flow = None
            replies = [Outbound(concern_reply(d.orgs, org), kind="safety")]
        elif case is not None and case.risk >= Risk.high:
            await d.cases.open_or_join(msg.user, msg.channel, org, assessment.risk, assessment.category,
                                       list(assessment.signals), now)
            replies = [Outbound(holding_reply(), kind="safety")]
        else:
            replies = await self._converse(msg, text, session, org, assessment)

        for r in replies:
            await d.transcript.append(msg.user, "safety" if r.kind == "safety" else "bot", r.text, d.clock.now(),
                                      options=json.dumps(r.to_dict()["options"], ensure_ascii=False) if r.options else "",
                                      retention_s=retention)
        await d.sessions.save(msg.user, session)
        return replies

    # -- the ordinary conversation ---------------------------------------------------
    async def _converse(self, msg: Inbound, text: str, session: Session, org: str,
                        assessment: Assessment) -> list[Outbound]:
        engine = self.d.flows.engine
        ctx = self._context(org)
        prefix = [Outbound(EMPATHY)] if assessment.risk == Risk.low else []

        if not session.greeted:
            session.greeted = True
            return prefix + await self._apply(msg, session, org, engine.start("welcome", ctx))

        state = FlowState.from_dict(session.flow)
        plain = text.strip().lower()
        if state is not None:
            turn = engine.answer(state, text, msg.value, ctx)
            if turn is not None:
                return prefix + await self._apply(msg, session, org, turn)
        if plain in MENU_WORDS:
            return await self._apply(msg, session, org, engine.start("main_menu", ctx))
        if plain in STOP_WORDS:
            session.flow = None
            return [Outbound("好的，已经退出。想继续时发送「菜单」。")]
        if msg.kind == "option" and msg.value in engine.flows:
            return await self._apply(msg, session, org, engine.start(msg.value, ctx))
        if msg.kind != "text" or not text.strip():
            return [Outbound("这类消息我暂时看不懂，请用文字告诉我，或从菜单里选择。")] + \
                await self._apply(msg, session, org, engine.start("main_menu", ctx))

        flow_id = await self._flow_from_nlu(text, engine)
        if flow_id is not None:
            return prefix + await self._apply(msg, session, org, engine.start(flow_id, ctx))
        if state is not None:
            again = engine.prompt(state, ctx)
            if again is not None:
                return prefix + [Outbound("抱歉，我没太明白。请选择一个选项，或回复数字："),
                                 self._outbound(again)]
        if assessment.risk == Risk.low:
            return prefix + await self._apply(msg, session, org, engine.start("self_help_stress", ctx))
        return [Outbound("抱歉，我没太明白你的意思。你可以从下面选一个：")] + \
            await self._apply(msg, session, org, engine.start("main_menu", ctx))

    async def _flow_from_nlu(self, text: str, engine) -> str | None:
        intent = await self.d.nlu.parse(text) if self.d.nlu is not None else None
        if intent is not None and intent.confidence >= INTENT_CONFIDENCE:
            return engine.flow_for_intent(intent.name)
        return engine.flow_for_keywords(text)  # Rasa down or unsure: keywords

    async def _apply(self, msg: Inbound, session: Session, org: str, turn: Turn) -> list[Outbound]:
        session.flow = turn.state.to_dict() if turn.state else None
        for action in turn.actions:
            await self._act(action, msg, session, org)
        return [self._outbound(s) for s in turn.says]

    async def _act(self, action: str, msg: Inbound, session: Session, org: str) -> None:
        now = self.d.clock.now()
        if action == "consent_yes":
            session.consent = True
        elif action == "consent_no":
            session.consent = False
        elif action in ("handoff", "escalate"):
            risk = Risk.high if action == "escalate" else Risk.low
            opened = await self.d.cases.open_or_join(msg.user, msg.channel, org, risk, "none",
                                                     [f"request:{action}"], now)
            log.info("%s user=%s case=%s", action, msg.user, opened.case_id)

    @staticmethod
    def _outbound(say: Say) -> Outbound:
        return Outbound(say.text, tuple(Option(label, value) for label, value in say.options))

    def _context(self, org: str) -> dict:
        return {"hotlines": self.d.orgs.hotlines_text(org), "emergency": self.d.orgs.get(org).emergency}
