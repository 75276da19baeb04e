"""The router: the routing rule of design.md, safety first.

Every inbound message, in every state, first goes through crisis assessment (in-process,
never waits on Rasa or the network). Then: an active handoff relays to staff; an active
flow step consumes the answer; otherwise Rasa picks the intent and a flow starts. With
Rasa down the router degrades to menu, digits and keywords.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from bot.addresses import AddressBook
from bot.messages import Inbound, Option, Outbound
from bot.services import CHINA, SERVICES_FILE, Services
from bot.sessions import Session, SessionStore
from bot.userdata import UserData
from core import keys
from core.clock import SystemClock
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.safety import concern_reply, holding_reply, safety_reply
from escalation.transcript import RETENTION_S, UNCONSENTED_RETENTION_S, Transcript
from escalation.followups import FollowUps
from flows.engine import FlowState, Say, Turn
from flows.lang import detect, localise, to_simplified
from flows.model import Action
from flows.registry import FlowRegistry
from nlu.intent import Intent
from nlu.risk import Assessment, Risk

log = logging.getLogger("xinyi.router")

INTENT_CONFIDENCE = 0.6
MENU_WORDS = {"菜单", "menu", "主菜单", "目录", "0", "返回菜单", "回到菜单"}
STOP_WORDS = {"退出", "stop", "取消", "cancel", "结束", "quit", "exit"}
SENSITIVE_VARS = ("phone",)   # dropped from the session as soon as the flow that asked for it is left
TEXTS = {
    "empathy": ("听起来你最近真的很辛苦。", "It sounds like things have been really hard lately."),
    "stopped": ("好的，已经退出。想继续时发送「菜单」。", 'OK, stopped. Send "menu" whenever you want to continue.'),
    "unclear_step": ("抱歉，我没太明白。请选择一个选项，或回复数字：", "Sorry, I didn't catch that. Please choose an option or reply with its number:"),
    "unclear": ("抱歉，我没太明白你的意思。你可以从下面选一个：", "Sorry, I didn't quite understand. You can choose from these:"),
    "unsupported": ("这类消息我暂时看不懂，请用文字告诉我，或从菜单里选择。", "I can't read this kind of message yet; please write it in words or choose from the menu."),
}
EMPATHY = TEXTS["empathy"][0]


def _t(key: str, lang: str | None) -> str:
    zh, en = TEXTS[key]
    return en if lang == "en" else localise(zh, lang)


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
    userdata: UserData | None = None      # screening results, bookings, satisfaction (built from Redis if None)
    followups: object | None = None       # escalation.followups.FollowUps (built from Redis if None)
    services: Services | None = None      # config/services.yaml: service info and weekly slots


class Router:
    def __init__(self, deps: RouterDeps):
        self.d = deps
        redis, sealer = deps.transcript.redis, deps.transcript.sealer
        self.userdata = deps.userdata or UserData(redis, sealer)
        self.addresses = AddressBook(redis, sealer)
        self.followups = deps.followups or FollowUps(redis, sealer, deps.transcript, deps.clock)
        self.services = deps.services or Services(SERVICES_FILE, deps.orgs)
        self.observer: Callable[[str, Turn], None] | None = None   # tests: see every turn the engine makes

    async def handle(self, msg: Inbound) -> list[Outbound]:
        d = self.d
        now = d.clock.now()
        # Assess the whole message (the channel caps its size); store and converse on a bounded part.
        assessment = d.assess(msg.text) if msg.text else Assessment()
        text = (msg.text or "")[: d.max_chars]
        session = await d.sessions.load(msg.user)
        if msg.org and not session.org and msg.org in d.orgs.orgs:  # an unknown id from a link is ignored
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
            if assessment.learned_only and session.flow:
                # a statistical guess on a message with no rule cue (想好了, 不想了 answering a
                # flow's question): staff see the case and can call back; the flow goes on
                replies = await self._converse(msg, text, session, org, assessment)
            else:
                session.flow = None
                replies = [Outbound(concern_reply(d.orgs, org), kind="safety")]
        elif case is not None and case.risk >= Risk.high:
            await d.cases.open_or_join(msg.user, msg.channel, org, assessment.risk, assessment.category,
                                       list(assessment.signals), now)
            replies = [Outbound(holding_reply(), kind="safety")]
        else:
            replies = await self._converse(msg, text, session, org, assessment)

        if session.vars.pop("_forgotten", False):
            replies_kept = []   # the user's data was just deleted: keep nothing of this turn
        else:
            replies_kept = replies
        now = d.clock.now()
        await d.transcript.append_many(msg.user, [
            ("safety" if r.kind == "safety" else "bot", r.text, now, "",
             json.dumps(r.to_dict()["options"], ensure_ascii=False) if r.options else "")
            for r in replies_kept], retention_s=retention)
        await d.sessions.save(msg.user, session)
        return replies

    # -- the ordinary conversation ---------------------------------------------------
    async def _converse(self, msg: Inbound, text: str, session: Session, org: str,
                        assessment: Assessment) -> list[Outbound]:
        engine = self.d.flows.engine
        self._update_lang(msg, text, session)
        lang = session.lang
        ctx = self._context(org, session)
        prefix = [Outbound(_t("empathy", lang))] if assessment.risk == Risk.low else []

        async def start(flow_id: str) -> list[Outbound]:
            return await self._apply(msg, session, org, ctx,
                                     engine.start(flow_id, ctx, session.vars, lang, render=False))

        if not session.greeted:
            session.greeted = True
            return prefix + await start("welcome")

        state = FlowState.from_dict(session.flow)
        plain = to_simplified(text.strip().lower())
        step = engine.step_of(state)
        control_word = plain in MENU_WORDS or plain in STOP_WORDS
        if state is not None and not (step is not None and step.input and control_word):
            turn = engine.answer(state, text, msg.value, ctx, session.vars, lang, render=False)
            if turn is not None:
                return prefix + await self._apply(msg, session, org, ctx, turn)
        if plain in MENU_WORDS:
            return await start("main_menu")
        if plain in STOP_WORDS:
            session.flow = None
            self._drop_sensitive(session, engine)
            return [Outbound(_t("stopped", lang))]
        if msg.kind == "option" and msg.value in engine.flows:
            return await start(msg.value)
        if msg.kind != "text" or not text.strip():
            return [Outbound(_t("unsupported", lang))] + await start("main_menu")

        flow_id = await self._flow_from_nlu(text, engine)
        if flow_id is not None:
            return prefix + await start(flow_id)
        due = session.vars.get("followup_due")
        if due is not None and self.d.clock.now() >= float(due) and "followup_checkin" in engine.flows:
            session.vars.pop("followup_due", None)   # the reply to a delivered check-in
            return await start("followup_checkin")
        if state is not None:
            again = engine.prompt(state, ctx, session.vars, lang)
            if again is not None:
                return prefix + [Outbound(_t("unclear_step", lang)), self._outbound(again)]
        if assessment.risk == Risk.low:
            return prefix + await start("self_help_stress")
        return [Outbound(_t("unclear", lang))] + await start("main_menu")

    async def _flow_from_nlu(self, text: str, engine) -> str | None:
        intent = await self.d.nlu.parse(text) if self.d.nlu is not None else None
        if intent is not None and intent.confidence >= INTENT_CONFIDENCE:
            return engine.flow_for_intent(intent.name, getattr(intent, "entities", None) or {})
        return engine.flow_for_keywords(text)  # Rasa down or unsure: keywords

    @staticmethod
    def _update_lang(msg: Inbound, text: str, session: Session) -> None:
        """Traditional when the user writes traditional; English when the channel says so or they write it."""
        if msg.lang == "en" and session.lang is None:
            session.lang = "en"
        if msg.kind != "text":
            return
        seen = detect(text)
        if seen in ("zh-Hant", "zh") and session.lang != seen:
            session.lang = seen
        elif seen == "en" and session.lang != "en" and (not session.greeted or len(text.split()) >= 3):
            session.lang = "en"

    def _drop_sensitive(self, session: Session, engine) -> None:
        state = FlowState.from_dict(session.flow)
        flow = engine.flows.get(state.flow) if state else None
        asked_here = {s.input for s in flow.steps.values() if s.input} if flow else set()
        for name in SENSITIVE_VARS:
            if name not in asked_here:
                session.vars.pop(name, None)

    async def _apply(self, msg: Inbound, session: Session, org: str, ctx: dict, turn: Turn) -> list[Outbound]:
        engine = self.d.flows.engine
        session.flow = turn.state.to_dict() if turn.state else None
        session.vars = dict(turn.vars)
        for action in turn.actions:
            ctx.update(await self._act(action, msg, session, org) or {})
        ctx["consent"], ctx["lang"] = session.consent, session.lang
        engine.render(turn, ctx, session.lang)
        self._drop_sensitive(session, engine)
        if self.observer is not None:
            self.observer(msg.user, turn)
        return [self._outbound(s) for s in turn.says]

    async def _act(self, action: Action | str, msg: Inbound, session: Session, org: str) -> dict | None:
        now = self.d.clock.now()
        name = action if isinstance(action, str) else action.name
        arg = (lambda k, default=None: default) if isinstance(action, str) else action.arg
        if name == "consent_yes":
            session.consent = True
        elif name == "consent_no":
            session.consent = False
        elif name in ("handoff", "escalate"):
            risk = Risk[arg("risk", "high")] if name == "escalate" else Risk.low
            opened = await self.d.cases.open_or_join(msg.user, msg.channel, org, risk, "none",
                                                     [f"request:{name}"], now)
            log.info("%s user=%s case=%s risk=%s", name, msg.user, opened.case_id, risk.name)
        elif name == "record_result":
            scale = arg("score")
            value = int(session.vars.get(scale) or 0)
            score = self.d.flows.engine.scores.get(scale)
            band = score.band(value) if score else None
            if session.consent:
                await self.userdata.add_result(msg.user, scale, value, band.label.zh if band else "", now)
                log.info("screening result stored user=%s scale=%s", msg.user, scale)
            else:
                log.info("screening result not stored (no consent) user=%s scale=%s", msg.user, scale)
        elif name == "schedule_followup":
            due = now + int(arg("days", 14)) * 86400
            fid = await self.followups.schedule(msg.user, due, arg("kind", "screening_recheck"),
                                                org=org, channel=msg.channel)
            session.vars["followup_id"], session.vars["followup_due"] = fid, due
            day = datetime.fromtimestamp(due, CHINA)
            return {"followup_date": f"{day:%d %b}" if session.lang == "en" else f"{day.month}月{day.day}日"}
        elif name == "book":
            booking = await self.userdata.add_booking(msg.user, org, msg.channel, session.vars, now)
            session.vars.pop("phone", None)
            log.info("booking requested user=%s booking=%s", msg.user, booking.id)
            return {"booking_ref": booking.id}
        elif name == "rate":
            await self.userdata.rate(str(session.vars.get("about", "")), str(session.vars.get("rating", "")))
        elif name == "my_data":
            held = await self.d.transcript.redis.xlen(keys.transcript(msg.user))
            return {"my_data": await self.userdata.summary(msg.user, held, session.consent, session.lang)}
        elif name == "delete_my_data":
            await self._forget(msg.user, session)
        elif name == "set_lang":
            session.lang = None if arg("lang") == "zh" else arg("lang")
        return None

    async def _forget(self, user: str, session: Session) -> None:
        await self.userdata.forget(user)
        fid = session.vars.get("followup_id")
        if fid:
            await self.followups.cancel(fid)
        if await self.d.cases.open_case_of(user) is None:   # an open case still needs its conversation
            await self.d.transcript.delete(user)             # and its delivery address
            await self.addresses.forget(user)
        session.consent, session.flow, session.greeted = None, None, False
        session.vars = {"_forgotten": True}
        log.info("user data deleted on request user=%s", user)

    @staticmethod
    def _outbound(say: Say) -> Outbound:
        return Outbound(say.text, tuple(Option(label, value) for label, value in say.options))

    def _context(self, org: str, session: Session) -> dict:
        lang = session.lang
        return {"hotlines": self.d.orgs.hotlines_text(org), "emergency": self.d.orgs.get(org).emergency,
                "org_name": self.d.orgs.get(org).name,
                "service_hours": self.services.text(org, "service_hours", lang),
                "counselling_place": self.services.text(org, "counselling_place", lang),
                "consent": session.consent, "lang": lang,
                "lists": {"slots": self.services.slots(org, self.d.clock.now(), lang)}}
