"""The flow engine: pure `start` / `answer` over the flow model; no I/O, no channel.

A turn walks steps until one waits for the user (options, a list chosen at run time, or free
text) or the flow ends. Variables and score totals travel in `vars` (the router keeps them in
the session). Actions are collected, not performed: the router performs them, then renders
the turn's texts (so a text can show what an action did, e.g. a booking reference).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import Undefined
from jinja2.sandbox import SandboxedEnvironment

from flows.lang import localise, to_simplified
from flows.model import Action, Choice, Flow, Score, Step, Text

log = logging.getLogger("xinyi.flows")
MAX_STEPS_PER_TURN = 60
_jinja = SandboxedEnvironment(undefined=Undefined, autoescape=False)
ASK = Text("请选择：", "Please choose:")


@lru_cache(maxsize=2048)
def _template(src: str):
    return _jinja.from_string(src)


@lru_cache(maxsize=512)
def _expression(src: str):
    return _jinja.compile_expression(src)


@dataclass(frozen=True)
class FlowState:
    flow: str
    step: str

    def to_dict(self) -> dict:
        return {"flow": self.flow, "step": self.step}

    @classmethod
    def from_dict(cls, d: dict | None) -> "FlowState | None":
        return cls(d["flow"], d["step"]) if d else None


@dataclass(frozen=True)
class Say:
    text: str
    options: tuple[tuple[str, str], ...] = ()   # (label, value)


@dataclass(frozen=True)
class _Pending:
    text: Text
    options: tuple[tuple[Text, str], ...]
    vars: dict


@dataclass
class Turn:
    says: list[Say] = field(default_factory=list)
    state: FlowState | None = None
    actions: list[Action] = field(default_factory=list)
    vars: dict = field(default_factory=dict)
    visited: list[str] = field(default_factory=list)    # flows entered this turn, in order
    pending: list[_Pending] = field(default_factory=list)

    @property
    def action_names(self) -> list[str]:
        return [a.name for a in self.actions]


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().lower()


class Engine:
    def __init__(self, flows: dict[str, Flow]):
        self.flows = flows
        self.scores: dict[str, Score] = {s.name: s for f in flows.values() for s in f.scores.values()}

    # -- the public API ----------------------------------------------------------------------
    def start(self, flow_id: str, context: dict | None = None, vars: dict | None = None, lang: str | None = None,
              render: bool = True) -> Turn:
        turn = Turn(vars=dict(vars or {}))
        flow = self.flows[flow_id]
        self._enter(turn, flow)
        self._run(turn, flow, flow.start, context or {})
        if render:
            self.render(turn, context or {}, lang)
        return turn

    def answer(self, state: FlowState, text: str, value: str | None, context: dict | None = None,
               vars: dict | None = None, lang: str | None = None, render: bool = True) -> Turn | None:
        """The user's answer to the step waiting in `state`, or None if it does not answer it."""
        context = context or {}
        step = self.step_of(state)
        if step is None or not step.waits:
            return None
        flow = self.flows[state.flow]
        turn = Turn(vars=dict(vars or {}))
        if step.input:
            answer = (text or "").strip()
            if not answer or (step.pattern and not re.fullmatch(step.pattern, answer)):
                return None
            turn.vars[step.input] = answer
            self._go(turn, flow, step.next, step.jump, context)
        else:
            choice = self._match(self.options_of(step, context), text, value)
            if choice is None:
                return None
            if step.save:
                turn.vars[step.save] = choice.value
                turn.vars[f"{step.save}_label"] = choice.label.zh
            for name in step.score:
                turn.vars[name] = int(turn.vars.get(name) or 0) + int(choice.score or 0)
            turn.vars.update(dict(choice.set))
            turn.actions.extend(choice.actions)
            if choice.next or choice.jump:
                self._go(turn, flow, choice.next, choice.jump, context)
            else:
                self._go(turn, flow, step.next, step.jump, context)
        if render:
            self.render(turn, context, lang)
        return turn

    def prompt(self, state: FlowState, context: dict, vars: dict | None = None, lang: str | None = None) -> Say | None:
        """The question waiting in `state`, asked again."""
        step = self.step_of(state)
        if step is None or not step.waits:
            return None
        text = step.retry or (step.say[-1] if step.say else ASK)
        opts = tuple((c.label, c.value) for c in self.options_of(step, context))
        return self._render_one(_Pending(text, opts, dict(vars or {})), context, lang)

    def render(self, turn: Turn, context: dict, lang: str | None) -> Turn:
        turn.says = [self._render_one(p, context, lang) for p in turn.pending]
        return turn

    def step_of(self, state: FlowState | None) -> Step | None:
        flow = self.flows.get(state.flow) if state else None
        return flow.steps.get(state.step) if flow else None

    def flow_for_intent(self, intent: str, entities: dict | None = None) -> str | None:
        entities = entities or {}
        fallback = None
        for flow in self.flows.values():
            if intent not in flow.triggers.intents:
                continue
            if flow.triggers.entities:
                if all(self._entity_matches(entities.get(k), wanted) for k, wanted in flow.triggers.entities):
                    return flow.id
            elif fallback is None:
                fallback = flow.id
        return fallback

    def flow_for_keywords(self, text: str) -> str | None:
        plain = to_simplified(_plain(text))
        best, best_len = None, 0
        for flow in self.flows.values():
            for k in flow.triggers.keywords:
                k = k.lower()
                if k and k in plain and len(k) > best_len:
                    best, best_len = flow.id, len(k)
        return best

    def options_of(self, step: Step, context: dict) -> tuple[Choice, ...]:
        if step.choose_from:
            items = (context.get("lists") or {}).get(step.choose_from) or ()
            return tuple(Choice(Text(label), value) for label, value in items)
        return step.options

    def bands(self, vars: dict, lang: str | None) -> dict:
        out = {}
        for name, score in self.scores.items():
            if name not in vars:
                continue
            band = score.band(int(vars[name] or 0))
            if band:
                out[f"{name}_band"] = band.label.pick(lang)
                out[f"{name}_level"] = band.id
                out[f"{name}_advice"] = band.advice.pick(lang) if band.advice else ""
        return out

    # -- internals ---------------------------------------------------------------------------------
    @staticmethod
    def _entity_matches(got, wanted: tuple[str, ...]) -> bool:
        if got is None:
            return False
        values = got if isinstance(got, (list, tuple)) else [got]
        return any(str(v) in wanted for v in values)

    def _enter(self, turn: Turn, flow: Flow) -> None:
        turn.visited.append(flow.id)
        for name in flow.scores:
            turn.vars[name] = 0

    def _go(self, turn: Turn, flow: Flow, nxt: str | None, jump: str | None, context: dict) -> None:
        if nxt:
            self._run(turn, flow, nxt, context)
        elif jump:
            target = self.flows[jump]
            self._enter(turn, target)
            self._run(turn, target, target.start, context)
        else:
            turn.state = None

    def _condition(self, src: str, turn: Turn, context: dict) -> bool:
        names = {**context, **turn.vars, **self.bands(turn.vars, None)}
        try:
            return bool(_expression(src)(**names))
        except Exception as exc:  # an editor's condition must never break the conversation
            log.error("flow condition failed: %r: %s", src, type(exc).__name__)
            return False

    def _run(self, turn: Turn, flow: Flow, step_name: str, context: dict) -> None:
        for _ in range(MAX_STEPS_PER_TURN):
            step = flow.steps[step_name]
            turn.vars.update(dict(step.set))
            opts = tuple((c.label, c.value) for c in self.options_of(step, context)) if step.waits else ()
            for i, text in enumerate(step.say):
                last = i == len(step.say) - 1
                turn.pending.append(_Pending(text, opts if last else (), dict(turn.vars)))
            if step.waits and not step.say:
                turn.pending.append(_Pending(ASK, opts, dict(turn.vars)))
            turn.actions.extend(step.actions)
            if step.waits:
                turn.state = FlowState(flow.id, step.name)
                return
            nxt, jump = step.next, step.jump
            for b in step.branch:
                if b.condition is None or self._condition(b.condition, turn, context):
                    turn.actions.extend(b.actions)
                    nxt, jump = b.next, b.jump
                    break
            if nxt:
                step_name = nxt
            elif jump:
                flow = self.flows[jump]
                self._enter(turn, flow)
                step_name = flow.start
            else:
                turn.state = None
                return
        raise RuntimeError(f"flow {flow.id} loops without waiting for the user")

    def _render_one(self, p: _Pending, context: dict, lang: str | None) -> Say:
        names = {**context, **p.vars, **self.bands(p.vars, lang), "lang": lang or "zh"}
        text = self._render(p.text.pick(lang), names)
        options = tuple((localise(label.pick(lang), lang), value) for label, value in p.options)
        return Say(localise(text, lang), options)

    @staticmethod
    def _match(options: tuple[Choice, ...], text: str, value: str | None) -> Choice | None:
        if value is not None:
            for c in options:
                if c.value == value:
                    return c
        plain = _plain(text)
        if plain.isdigit() and 1 <= int(plain) <= len(options):
            return options[int(plain) - 1]
        simple = to_simplified(plain)
        for c in options:
            if simple in (_plain(c.label.zh), _plain(c.label.en or ""), _plain(c.value)) and simple:
                return c
        return None

    @staticmethod
    def _render(template: str, names: dict) -> str:
        if "{{" not in template and "{%" not in template:
            return template
        try:
            return _template(template).render(**names).strip()
        except Exception as exc:
            log.error("flow text failed to render: %s", type(exc).__name__)
            return template
