"""Runs the editors' conversation tests in flows/tests/*.yaml (format: flows/README.md).

Each file is one test: its conversations run through the real router on the real Redis, with
a scripted NLU (a step's `intent:` says what Rasa would answer for that text) and a
controllable clock. Every content flow must be entered by at least one conversation.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.settings import ROOT
from core.clock import FakeClock
from escalation.cases import CaseStore
from flows.loader import load_flows
from nlu.intent import Intent
from tests.routing_kit import Conversation, ScriptedParser, make_router

TESTS = ROOT / "flows" / "tests"
CONTENT = ROOT / "flows" / "content"
STEP_KEYS = {"user", "press", "intent", "bot", "not_bot", "options", "flow", "vars", "actions", "case", "booking",
             "followup", "lang", "safety", "consent", "advance_days", "no_reply"}


def _files() -> list[Path]:
    return sorted(TESTS.glob("*.yaml"))


def _load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}


def _texts(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _intent(spec) -> Intent:
    if isinstance(spec, str):
        return Intent(spec, 0.95)
    spec = dict(spec)
    name = spec.pop("name")
    confidence = float(spec.pop("confidence", 0.95))
    return Intent(name, confidence, {k: str(v) for k, v in spec.items()})


class Failure(AssertionError):
    pass


async def run_conversation(aredis, where: str, conv_spec: dict, visited: set[str]) -> None:
    parser = ScriptedParser()
    clock = FakeClock()
    router = make_router(aredis, parser=parser, clock=clock)
    seen_actions: list[str] = []

    def observe(user, turn):
        visited.update(turn.visited)
        seen_actions.extend(turn.action_names)
    router.observer = observe
    conv = Conversation(router, user=f"we-{abs(hash(where)) % 10**8}", channel=conv_spec.get("channel", "web"))
    given = conv_spec.get("given") or {}
    session = await router.d.sessions.load(conv.user)
    if given.get("lang"):
        session.lang = given["lang"]
        await router.d.sessions.save(conv.user, session)
    if given.get("consented"):
        await conv.say("你好")
        await conv.say("", value="consent_yes")
    elif given.get("greeted"):
        await conv.say("你好")
    cases = CaseStore(aredis)

    for i, step in enumerate(conv_spec.get("steps") or (), 1):
        here = f"{where} 第 {i} 步 (step {i})"
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise Failure(f"{here}：不认识的字段 {sorted(unknown)}（可用：{sorted(STEP_KEYS)}）")
        if step.get("advance_days"):
            clock.advance(float(step["advance_days"]) * 86400)
        seen_actions.clear()
        if "press" in step:
            text = str(step.get("user", ""))
            if step.get("intent"):
                parser.table[text] = _intent(step["intent"])
            replies = await conv.say(text, value=str(step["press"]))
        elif "user" in step:
            text = str(step["user"])
            if step.get("intent"):
                parser.table[text] = _intent(step["intent"])
            replies = await conv.say(text)
        else:
            replies = conv.replies
        said = conv.text
        shown = f"\n—— 机器人实际回复 (the bot said) ——\n{said}\n——"
        for want in _texts(step.get("bot")):
            if want not in said:
                raise Failure(f"{here}：回复里应该有「{want}」(expected in the reply){shown}")
        for unwanted in _texts(step.get("not_bot")):
            if unwanted in said:
                raise Failure(f"{here}：回复里不应该有「{unwanted}」(must not be in the reply){shown}")
        if step.get("no_reply") and replies:
            raise Failure(f"{here}：这一步不应该有回复 (expected no reply){shown}")
        if "options" in step:
            got = [o.label for o in replies[-1].options] if replies else []
            if got != _texts(step["options"]):
                raise Failure(f"{here}：选项应该是 {_texts(step['options'])}，实际是 {got}{shown}")
        if step.get("safety") and not (replies and replies[0].kind == "safety"):
            raise Failure(f"{here}：应该是安全回复（危机处理）(expected the safety reply){shown}")
        session = await router.d.sessions.load(conv.user)
        if "flow" in step:
            want = step["flow"]
            got = None if session.flow is None else f"{session.flow['flow']}.{session.flow['step']}"
            ok = got is None if want is None else (got == want or (got or "").split(".")[0] == want)
            if not ok:
                raise Failure(f"{here}：应该停在 `{want}`，实际在 `{got}`{shown}")
        for name, value in (step.get("vars") or {}).items():
            if str(session.vars.get(name)) != str(value):
                raise Failure(f"{here}：变量 {name} 应该是 {value}，实际是 {session.vars.get(name)}")
        for action in _texts(step.get("actions")):
            if action not in seen_actions:
                raise Failure(f"{here}：应该执行动作 `{action}`，实际执行了 {seen_actions}")
        if "consent" in step and session.consent != step["consent"]:
            raise Failure(f"{here}：知情同意应该是 {step['consent']}，实际是 {session.consent}")
        if "lang" in step and session.lang != step["lang"]:
            raise Failure(f"{here}：语言应该是 {step['lang']}，实际是 {session.lang}")
        if "case" in step:
            case = await cases.open_case_of(conv.user)
            got = case.risk.name if case else "none"
            if str(step["case"]) != got:
                raise Failure(f"{here}：个案应该是 {step['case']}，实际是 {got}")
        if "booking" in step:
            has = bool(await router.userdata.bookings_of(conv.user))
            if has != bool(step["booking"]):
                raise Failure(f"{here}：预约{'应该' if step['booking'] else '不应该'}存在")
        if "followup" in step:
            has = bool(session.vars.get("followup_id"))
            if has != bool(step["followup"]):
                raise Failure(f"{here}：随访{'应该' if step['followup'] else '不应该'}已安排")


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
async def test_conversations(aredis, path: Path):
    spec = _load(path)
    visited: set[str] = set()
    conversations = spec.get("conversations") or []
    assert conversations, f"{path.name}: 没有对话 (no `conversations:`)"
    for n, conv_spec in enumerate(conversations, 1):
        await aredis.flushdb()
        where = f"{path.relative_to(ROOT)} 第 {n} 段对话「{conv_spec.get('name', '')}」"
        await run_conversation(aredis, where, conv_spec, visited)
    for flow in _texts(spec.get("flows")):
        assert flow in visited, f"{path.name} 声明测试流程 `{flow}`，但没有一段对话进入它 (never entered)"


def test_every_content_flow_has_a_conversation_test():
    covered = {f for path in _files() for f in _texts(_load(path).get("flows"))}
    missing = sorted(set(load_flows(CONTENT)) - covered)
    assert not missing, f"这些流程还没有对话测试 (flows without a conversation test): {missing}"
