"""The flow engine: pure `start` / `answer` over the flow model; no I/O, no channel."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from flows.model import Choice, Flow, Step

MAX_STEPS_PER_TURN = 50
_jinja = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


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


@dataclass
class Turn:
    says: list[Say] = field(default_factory=list)
    state: FlowState | None = None
    actions: list[str] = field(default_factory=list)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


class Engine:
    def __init__(self, flows: dict[str, Flow]):
        self.flows = flows
        self._by_intent = {i: f.id for f in flows.values() for i in f.triggers.intents}

    def start(self, flow_id: str, context: dict) -> Turn:
        turn = Turn()
        self._run(turn, self.flows[flow_id], self.flows[flow_id].start, context)
        return turn

    def answer(self, state: FlowState, text: str, value: str | None, context: dict) -> Turn | None:
        """The user's answer to the step waiting in `state`, or None if it is not one of its options."""
        flow = self.flows.get(state.flow)
        step = flow.steps.get(state.step) if flow else None
        if step is None or not step.waits:
            return None
        choice = self._match(step, text, value)
        if choice is None:
            return None
        turn = Turn()
        if choice.action:
            turn.actions.append(choice.action)
        if choice.next:
            self._run(turn, flow, choice.next, context)
        elif choice.jump:
            self._run(turn, self.flows[choice.jump], self.flows[choice.jump].start, context)
        elif step.next:
            self._run(turn, flow, step.next, context)
        elif step.jump:
            self._run(turn, self.flows[step.jump], self.flows[step.jump].start, context)
        return turn

    def prompt(self, state: FlowState, context: dict) -> Say | None:
        """The question waiting in `state`, asked again."""
        step = self.flows.get(state.flow, None)
        step = step.steps.get(state.step) if step else None
        if step is None or not step.waits:
            return None
        text = self._render(step.say[-1], context) if step.say else "请选择："
        return Say(text, self._options(step))

    def flow_for_intent(self, intent: str) -> str | None:
        return self._by_intent.get(intent)

    def flow_for_keywords(self, text: str) -> str | None:
        plain = _plain(text)
        for flow in self.flows.values():
            if any(k.lower() in plain for k in flow.triggers.keywords):
                return flow.id
        return None

    # -- internals -------------------------------------------------------------------
    def _run(self, turn: Turn, flow: Flow, step_name: str, context: dict) -> None:
        for _ in range(MAX_STEPS_PER_TURN):
            step = flow.steps[step_name]
            texts = [self._render(t, context) for t in step.say]
            for i, text in enumerate(texts):
                last = i == len(texts) - 1
                turn.says.append(Say(text, self._options(step) if last else ()))
            if step.waits and not texts:
                turn.says.append(Say("请选择：", self._options(step)))
            if step.action:
                turn.actions.append(step.action)
            if step.waits:
                turn.state = FlowState(flow.id, step.name)
                return
            if step.next:
                step_name = step.next
            elif step.jump:
                flow = self.flows[step.jump]
                step_name = flow.start
            else:
                turn.state = None
                return
        raise RuntimeError(f"flow {flow.id} loops without waiting for the user")

    @staticmethod
    def _options(step: Step) -> tuple[tuple[str, str], ...]:
        return tuple((c.label, c.value) for c in step.options)

    @staticmethod
    def _match(step: Step, text: str, value: str | None) -> Choice | None:
        if value is not None:
            for c in step.options:
                if c.value == value:
                    return c
        plain = _plain(text)
        if plain.isdigit() and 1 <= int(plain) <= len(step.options):
            return step.options[int(plain) - 1]
        for c in step.options:
            if _plain(c.label) == plain or _plain(c.value) == plain:
                return c
        return None

    @staticmethod
    def _render(template: str, context: dict) -> str:
        if "{{" not in template and "{%" not in template:
            return template
        return _jinja.from_string(template).render(**context)
