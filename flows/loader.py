"""Load and check flows/content/*.yaml, reporting errors as file:line:column."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from flows.model import ACTIONS, Choice, Flow, Step, Triggers, Where


@dataclass(frozen=True)
class FlowError:
    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class FlowLoadError(Exception):
    def __init__(self, errors: list[FlowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def _where(file: str, node, key=None) -> Where:
    try:
        if key is not None:
            line, col = node.lc.key(key)
        else:
            line, col = node.lc.line, node.lc.col
        return Where(file, line + 1, col + 1)
    except (AttributeError, KeyError, TypeError):
        return Where(file, 1, 1)


def _texts(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    return tuple(str(v).strip() for v in value)


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.errors: list[FlowError] = []

    def error(self, node, key, message: str) -> None:
        self.errors.append(FlowError(_where(self.file, node, key), message))

    def flow(self, doc) -> Flow | None:
        if not isinstance(doc, dict):
            self.errors.append(FlowError(Where(self.file, 1, 1), "a flow file must be a mapping with flow:, start: and steps:"))
            return None
        for required in ("flow", "start", "steps"):
            if required not in doc:
                self.error(doc, None, f"missing `{required}:`")
        if self.errors:
            return None
        steps_node = doc["steps"]
        if not isinstance(steps_node, dict) or not steps_node:
            self.error(doc, "steps", "`steps:` must list at least one step by name")
            return None
        steps = {name: self.step(str(name), node, steps_node) for name, node in steps_node.items()}
        trig = doc.get("triggers") or {}
        return Flow(
            id=str(doc["flow"]), title=str(doc.get("title", doc["flow"])), start=str(doc["start"]),
            steps={k: v for k, v in steps.items() if v is not None},
            triggers=Triggers(tuple(trig.get("intents") or ()), tuple(trig.get("keywords") or ())),
            where=_where(self.file, doc, "flow"),
        )

    def step(self, name: str, node, parent) -> Step | None:
        if not isinstance(node, dict):
            self.error(parent, name, f"step `{name}` must be a mapping (say:, options:, next: …)")
            return None
        known = {"say", "options", "next", "jump", "action", "end"}
        for key in node:
            if key not in known:
                self.error(node, key, f"step `{name}`: unknown field `{key}` (known: {', '.join(sorted(known))})")
        action = node.get("action")
        if action is not None and action not in ACTIONS:
            self.error(node, "action", f"unknown action `{action}` (known: {', '.join(ACTIONS)})")
        options = []
        for i, opt in enumerate(node.get("options") or ()):
            if not isinstance(opt, dict) or "label" not in opt:
                self.error(node["options"], i, f"step `{name}`: each option needs a `label:`")
                continue
            if opt.get("action") is not None and opt["action"] not in ACTIONS:
                self.error(opt, "action", f"unknown action `{opt['action']}` (known: {', '.join(ACTIONS)})")
            options.append(Choice(
                label=str(opt["label"]), value=str(opt.get("value", i + 1)), next=opt.get("next"),
                jump=opt.get("jump"), action=opt.get("action"), where=_where(self.file, opt),
            ))
        return Step(
            name=name, say=_texts(node.get("say")), options=tuple(options), next=node.get("next"),
            jump=node.get("jump"), action=action, end=bool(node.get("end", False)),
            where=_where(self.file, parent, name),
        )


def check_references(flows: dict[str, Flow]) -> list[FlowError]:
    errors: list[FlowError] = []
    for flow in flows.values():
        if flow.start not in flow.steps:
            errors.append(FlowError(flow.where, f"flow `{flow.id}`: start step `{flow.start}` does not exist"))
        for step in flow.steps.values():
            targets = [(step.next, step.jump, step.where)] + [(c.next, c.jump, c.where) for c in step.options]
            for nxt, jump, where in targets:
                if nxt is not None and nxt not in flow.steps:
                    errors.append(FlowError(where, f"`next: {nxt}` — flow `{flow.id}` has no step `{nxt}`"))
                if jump is not None and jump not in flows:
                    errors.append(FlowError(where, f"`jump: {jump}` — there is no flow `{jump}`"))
            if not (step.options or step.next or step.jump or step.end):
                errors.append(FlowError(step.where, f"step `{step.name}` leads nowhere: give it options:, next:, jump: or end: true"))
    return errors


def load_flows(folder: Path) -> dict[str, Flow]:
    """Load every flow in a folder; raise FlowLoadError listing every problem found."""
    yaml = YAML(typ="rt")
    flows: dict[str, Flow] = {}
    errors: list[FlowError] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        rel = str(path)
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = Where(rel, mark.line + 1, mark.column + 1) if mark else Where(rel, 1, 1)
            errors.append(FlowError(where, f"not valid YAML: {exc.problem or exc.context}"))
            continue
        reader = _Reader(rel)
        flow = reader.flow(doc)
        errors.extend(reader.errors)
        if flow is None:
            continue
        if flow.id in flows:
            errors.append(FlowError(flow.where, f"flow `{flow.id}` is defined twice"))
        flows[flow.id] = flow
    errors.extend(check_references(flows))
    if errors:
        raise FlowLoadError(errors)
    return flows
