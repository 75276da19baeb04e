"""Load and check flows/content/*.yaml, reporting errors as file:line:column.

`load_flows` reads every file and runs every check (`xinyi flows check` prints the result):
schema (known fields, right kinds of values), unknown references (steps, flows, answer
sets, actions, variables in texts and conditions), unreachable steps, missing translations
(flows that list `languages: [zh, en]`), and score ranges (bands cover the declared range
with no gap or overlap; the questions can reach exactly that range).
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from flows.model import (ACTIONS, GLOBALS, LISTS, REQUIRED_FLOWS, Action, Band, Branch, Choice, Flow, Score,
                         Step, Text, Triggers, Where)

_env = SandboxedEnvironment()
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

FLOW_KEYS = {"flow", "title", "title_en", "description", "languages", "triggers", "start", "steps", "scores",
             "answers"}
STEP_KEYS = {"say", "say_en", "options", "choose_from", "input", "pattern", "retry", "retry_en", "save", "score",
             "set", "branch", "next", "jump", "action", "end"}
OPTION_KEYS = {"label", "label_en", "value", "score", "set", "next", "jump", "action"}
BRANCH_KEYS = {"if", "next", "jump", "action"}
SCORE_KEYS = {"range", "bands"}
BAND_KEYS = {"range", "id", "label", "label_en", "advice", "advice_en"}
TRIGGER_KEYS = {"intents", "keywords", "entities"}


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
            if isinstance(key, int):
                line, col = node.lc.item(key)
            else:
                line, col = node.lc.key(key)
        else:
            line, col = node.lc.line, node.lc.col
        return Where(file, line + 1, col + 1)
    except (AttributeError, KeyError, TypeError, IndexError):
        return Where(file, 1, 1)


def _value_where(file: str, node, key) -> Where:
    try:
        line, col = node.lc.value(key)
        return Where(file, line + 1, col + 1)
    except (AttributeError, KeyError, TypeError):
        return _where(file, node, key)


def _list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


class _Reader:
    """Reads one file into a Flow, collecting schema errors with their places."""

    def __init__(self, file: str):
        self.file = file
        self.errors: list[FlowError] = []

    def error(self, node, key, message: str) -> None:
        self.errors.append(FlowError(_where(self.file, node, key), message))

    def unknown_keys(self, node, known: set[str], what: str) -> None:
        for key in node:
            if key not in known:
                self.error(node, key, f"{what}：不认识的字段 `{key}`（可用：{', '.join(sorted(known))}）"
                                      f" (unknown field `{key}`)")

    def texts(self, node, key: str, what: str) -> tuple[Text, ...]:
        zh = node.get(key)
        en = node.get(f"{key}_en")
        zh_list = [str(v).strip() for v in _list(zh)]
        en_list = [str(v).strip() for v in _list(en)]
        if en is not None and len(en_list) != len(zh_list):
            self.error(node, f"{key}_en", f"{what}：`{key}_en` 的段数（{len(en_list)}）与 `{key}` 的段数"
                                          f"（{len(zh_list)}）不一致 (English must match the Chinese part by part)")
        where = _value_where(self.file, node, key) if key in node else _where(self.file, node)
        return tuple(Text(z, en_list[i] if i < len(en_list) else None, where) for i, z in enumerate(zh_list))

    def text(self, node, key: str, what: str) -> Text | None:
        texts = self.texts(node, key, what)
        if len(texts) > 1:
            self.error(node, key, f"{what}：`{key}` 只能写一段文字 (one text only)")
        return texts[0] if texts else None

    def actions(self, node, key: str = "action") -> tuple[Action, ...]:
        out = []
        raw = node.get(key)
        for i, item in enumerate(_list(raw)):
            holder, hkey = (raw, i) if isinstance(raw, list) else (node, key)
            if isinstance(item, str):
                name, args = item, {}
            elif isinstance(item, dict) and "name" in item:
                name, args = str(item["name"]), {k: v for k, v in item.items() if k != "name"}
            else:
                self.error(holder, hkey, "动作要写成名字，或 {name: 动作名, 参数: 值} (an action is a name or "
                                         "a mapping with `name:`)")
                continue
            where = _where(self.file, holder, hkey)
            spec = ACTIONS.get(name)
            if spec is None:
                self.error(holder, hkey, f"没有这个动作 `{name}`（可用：{', '.join(ACTIONS)}）(unknown action)")
                continue
            for arg, value in args.items():
                kind = spec.args.get(arg)
                if kind is None:
                    self.error(item, arg, f"动作 `{name}` 没有参数 `{arg}`（可用：{', '.join(spec.args) or '无'}）")
                elif kind == "int" and not isinstance(value, int):
                    self.error(item, arg, f"动作 `{name}` 的 `{arg}` 要写整数 (must be a whole number)")
                elif isinstance(kind, tuple) and value not in kind:
                    self.error(item, arg, f"动作 `{name}` 的 `{arg}` 只能是 {', '.join(kind)}")
            for arg in spec.required:
                if arg not in args:
                    self.error(holder, hkey, f"动作 `{name}` 需要参数 `{arg}`（写成 {{name: {name}, {arg}: …}}）")
            out.append(Action(name, tuple(args.items()), where))
        return tuple(out)

    def setter(self, node, key: str = "set") -> tuple[tuple[str, object], ...]:
        raw = node.get(key)
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.error(node, key, "`set:` 要写成 {变量名: 值} (a mapping of variable: value)")
            return ()
        for name in raw:
            if not NAME.match(str(name)):
                self.error(raw, name, f"变量名 `{name}` 只能用英文字母、数字和下划线")
        return tuple((str(k), v) for k, v in raw.items())

    def flow(self, doc) -> Flow | None:
        if not isinstance(doc, dict):
            self.errors.append(FlowError(Where(self.file, 1, 1),
                                         "流程文件要以 flow:、start:、steps: 开头 (a flow file must be a mapping "
                                         "with flow:, start: and steps:)"))
            return None
        self.unknown_keys(doc, FLOW_KEYS, "流程")
        for required in ("flow", "start", "steps"):
            if required not in doc:
                self.error(doc, None, f"缺少 `{required}:` (missing `{required}:`)")
        if self.errors:
            return None
        steps_node = doc["steps"]
        if not isinstance(steps_node, dict) or not steps_node:
            self.error(doc, "steps", "`steps:` 下面至少要有一个步骤 (`steps:` must list at least one step by name)")
            return None
        languages = tuple(str(x) for x in _list(doc.get("languages") or ["zh"]))
        for lang in languages:
            if lang not in ("zh", "en"):
                self.error(doc, "languages", f"语言 `{lang}` 不支持：写 zh 或 en（繁体自动生成）")
        answers = {}
        for set_name, opts in (doc.get("answers") or {}).items():
            if not isinstance(opts, list) or not opts:
                self.error(doc["answers"], set_name, f"答案组 `{set_name}` 要列出选项 (an answer set lists options)")
                continue
            answers[str(set_name)] = self.options(opts, f"答案组 `{set_name}`")
        steps = {}
        for name, node in steps_node.items():
            step = self.step(str(name), node, steps_node, answers)
            if step is not None:
                steps[str(name)] = step
        scores = {}
        for sname, snode in (doc.get("scores") or {}).items():
            score = self.score(str(sname), snode, doc["scores"])
            if score is not None:
                scores[score.name] = score
        trig = doc.get("triggers") or {}
        entities = ()
        if isinstance(trig, dict):
            self.unknown_keys(trig, TRIGGER_KEYS, "triggers")
            ent = trig.get("entities") or {}
            entities = tuple((str(k), tuple(str(v) for v in _list(val))) for k, val in ent.items())
        else:
            self.error(doc, "triggers", "`triggers:` 要写成 intents: / keywords: / entities:")
            trig = {}
        return Flow(
            id=str(doc["flow"]),
            title=Text(str(doc.get("title", doc["flow"])), doc.get("title_en")),
            start=str(doc["start"]), steps=steps,
            triggers=Triggers(tuple(str(i) for i in _list(trig.get("intents"))),
                              tuple(str(k) for k in _list(trig.get("keywords"))), entities),
            scores=scores, languages=languages, where=_where(self.file, doc, "flow"),
        )

    def options(self, opts, what: str) -> tuple[Choice, ...]:
        out = []
        for i, opt in enumerate(opts):
            if not isinstance(opt, dict) or "label" not in opt:
                self.error(opts, i, f"{what}：每个选项都要有 `label:` (each option needs a `label:`)")
                continue
            self.unknown_keys(opt, OPTION_KEYS, f"{what} 的选项")
            score = opt.get("score")
            if score is not None and not isinstance(score, int):
                self.error(opt, "score", "选项的 `score:` 要写整数 (a whole number)")
                score = None
            out.append(Choice(
                label=self.text(opt, "label", what) or Text(""), value=str(opt.get("value", i + 1)),
                next=opt.get("next"), jump=opt.get("jump"), actions=self.actions(opt), score=score,
                set=self.setter(opt), where=_where(self.file, opts, i),
            ))
        return tuple(out)

    def step(self, name: str, node, parent, answers: dict) -> Step | None:
        if not isinstance(node, dict):
            self.error(parent, name, f"步骤 `{name}` 要写成 say:、options:、next: 这样的字段 "
                                     f"(step `{name}` must be a mapping)")
            return None
        what = f"步骤 `{name}`"
        self.unknown_keys(node, STEP_KEYS, what)
        raw_opts = node.get("options")
        options: tuple[Choice, ...] = ()
        if isinstance(raw_opts, str):
            if raw_opts not in answers:
                self.error(node, "options", f"{what}：没有答案组 `{raw_opts}`（在文件顶部 `answers:` 下定义）"
                                            f" (no answer set `{raw_opts}`)")
            options = answers.get(raw_opts, ())
        elif raw_opts is not None:
            options = self.options(raw_opts, what)
        if node.get("choose_from") is not None and node["choose_from"] not in LISTS:
            self.error(node, "choose_from", f"{what}：没有名单 `{node['choose_from']}`（可用：{', '.join(LISTS)}）")
        for var_key in ("input", "save"):
            if node.get(var_key) is not None and not NAME.match(str(node[var_key])):
                self.error(node, var_key, f"{what}：变量名 `{node[var_key]}` 只能用英文字母、数字和下划线")
        if node.get("pattern") is not None:
            try:
                re.compile(str(node["pattern"]))
            except re.error as exc:
                self.error(node, "pattern", f"{what}：`pattern:` 不是有效的正则表达式：{exc}")
        waits = sum(bool(x) for x in (options, node.get("choose_from"), node.get("input")))
        if waits > 1:
            self.error(node, None, f"{what}：options:、choose_from:、input: 只能用一个")
        branches = []
        raw_branch = node.get("branch")
        if raw_branch is not None:
            if not isinstance(raw_branch, list) or not raw_branch:
                self.error(node, "branch", f"{what}：`branch:` 要列出 - if: 条件 / next: 步骤")
                raw_branch = []
            if waits:
                self.error(node, "branch", f"{what}：等待回答的步骤不能同时写 branch:（放到下一步）")
            for i, b in enumerate(raw_branch):
                if not isinstance(b, dict):
                    self.error(raw_branch, i, f"{what}：分支要写成 {{if: 条件, next: 步骤}}")
                    continue
                self.unknown_keys(b, BRANCH_KEYS, f"{what} 的分支")
                cond = b.get("if")
                if cond is not None:
                    cond = str(cond)
                    try:
                        _env.compile_expression(cond)
                    except TemplateSyntaxError as exc:
                        self.error(b, "if", f"{what}：条件 `{cond}` 写得不对：{exc.message}")
                if not (b.get("next") or b.get("jump")):
                    self.error(raw_branch, i, f"{what}：分支要写 next: 或 jump:")
                branches.append(Branch(cond, b.get("next"), b.get("jump"), self.actions(b),
                                       _where(self.file, raw_branch, i)))
            if branches and branches[-1].condition is not None:
                self.error(node, "branch", f"{what}：最后一个分支不要写 if:，它是「其他情况」"
                                           f" (the last branch must have no `if:`: it is the otherwise case)")
        score = tuple(str(s) for s in _list(node.get("score")))
        if score and not options:
            self.error(node, "score", f"{what}：`score:` 只能用在有选项的步骤上")
        for c in options if score else ():
            if c.score is None:
                self.errors.append(FlowError(c.where or _where(self.file, node),
                                             f"{what} 计分，但选项「{c.label.zh}」没有 `score:`"))
        return Step(
            name=name, say=self.texts(node, "say", what), options=options,
            choose_from=node.get("choose_from"), input=node.get("input"),
            pattern=str(node["pattern"]) if node.get("pattern") is not None else None,
            retry=self.text(node, "retry", what), save=node.get("save"), score=score, set=self.setter(node),
            branch=tuple(branches), next=node.get("next"), jump=node.get("jump"), actions=self.actions(node),
            end=bool(node.get("end", False)), where=_where(self.file, parent, name),
        )

    def score(self, name: str, node, parent) -> Score | None:
        if not NAME.match(name):
            self.error(parent, name, f"分数名 `{name}` 只能用英文字母、数字和下划线")
        if not isinstance(node, dict) or "range" not in node:
            self.error(parent, name, f"分数 `{name}` 要写 range: [最低, 最高] (a score needs `range: [low, high]`)")
            return None
        self.unknown_keys(node, SCORE_KEYS, f"分数 `{name}`")
        rng = self.range(node, "range", f"分数 `{name}`")
        if rng is None:
            return None
        bands = []
        for i, b in enumerate(node.get("bands") or ()):
            if not isinstance(b, dict) or "range" not in b or "id" not in b or "label" not in b:
                self.error(node["bands"], i, f"分数 `{name}` 的分段要写 range:、id:、label:")
                continue
            self.unknown_keys(b, BAND_KEYS, f"分数 `{name}` 的分段")
            brng = self.range(b, "range", f"分数 `{name}` 的分段")
            if brng is None:
                continue
            bands.append(Band(brng[0], brng[1], str(b["id"]), self.text(b, "label", "分段"),
                              self.text(b, "advice", "分段"), _where(self.file, node["bands"], i)))
        return Score(name, rng[0], rng[1], tuple(bands), _where(self.file, parent, name))

    def range(self, node, key, what) -> tuple[int, int] | None:
        r = node[key]
        if not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) for x in r) and r[0] <= r[1]):
            self.error(node, key, f"{what}：range 要写成 [最低分, 最高分]，两个整数，前小后大")
            return None
        return r[0], r[1]


# -- checks across a flow and across flows ----------------------------------------------------------------------

def _targets(step: Step):
    yield step.next, step.jump, step.where
    for c in step.options:
        yield c.next, c.jump, c.where
    for b in step.branch:
        yield b.next, b.jump, b.where


def reachable_steps(flow: Flow) -> set[str]:
    seen, todo = set(), deque([flow.start])
    while todo:
        name = todo.popleft()
        if name in seen or name not in flow.steps:
            continue
        seen.add(name)
        for nxt, _, _ in _targets(flow.steps[name]):
            if nxt:
                todo.append(nxt)
    return seen


def variables(flows: dict[str, Flow]) -> set[str]:
    """Every name a text or condition may use: globals, saved and set variables, scores and their bands."""
    names = set(GLOBALS)
    for flow in flows.values():
        for s in flow.scores.values():
            names |= {s.name, f"{s.name}_band", f"{s.name}_level", f"{s.name}_advice"}
        for step in flow.steps.values():
            names |= {v for v in (step.input, step.save) if v}
            if step.save:
                names.add(f"{step.save}_label")
            names |= {k for k, _ in step.set}
            for c in step.options:
                names |= {k for k, _ in c.set}
    return names


def _texts_of(flow: Flow):
    yield flow.title, flow.where, "标题"
    for step in flow.steps.values():
        for t in step.say:
            yield t, t.where or step.where, f"步骤 `{step.name}` 的 say"
        if step.retry:
            yield step.retry, step.where, f"步骤 `{step.name}` 的 retry"
        for c in step.options:
            yield c.label, c.where, f"步骤 `{step.name}` 的选项「{c.label.zh}」"
    for s in flow.scores.values():
        for b in s.bands:
            yield b.label, b.where, f"分数 `{s.name}` 的分段 `{b.id}`"
            if b.advice:
                yield b.advice, b.where, f"分数 `{s.name}` 的分段 `{b.id}` 的 advice"


def check_flows(flows: dict[str, Flow]) -> list[FlowError]:
    errors: list[FlowError] = []
    names = variables(flows)
    all_scores = {s.name for f in flows.values() for s in f.scores.values()}
    first = next(iter(flows.values()), None)
    for required in REQUIRED_FLOWS:
        if required not in flows and first is not None:
            errors.append(FlowError(Where(first.where.file, 1, 1) if first.where else Where("flows", 1, 1),
                                    f"缺少必需的流程 `{required}`（机器人从它开始）(required flow missing)"))
    for flow in flows.values():
        if flow.start not in flow.steps:
            errors.append(FlowError(flow.where, f"流程 `{flow.id}` 的开头步骤 `{flow.start}` 不存在 "
                                                f"(flow `{flow.id}`: start step `{flow.start}` does not exist)"))
        for step in flow.steps.values():
            for nxt, jump, where in _targets(step):
                if nxt is not None and nxt not in flow.steps:
                    errors.append(FlowError(where, f"找不到步骤 `{nxt}` (`next: {nxt}` — flow `{flow.id}` has "
                                                   f"no step `{nxt}`)"))
                if jump is not None and jump not in flows:
                    errors.append(FlowError(where, f"找不到流程 `{jump}` (`jump: {jump}` — there is no flow "
                                                   f"`{jump}`)"))
            if not (step.waits or step.next or step.jump or step.end or step.branch):
                errors.append(FlowError(step.where, f"步骤 `{step.name}` 之后无路可走：请写 options:、next:、jump:"
                                                    f" 或 end: true (step `{step.name}` leads nowhere)"))
            if step.waits and not step.say:
                errors.append(FlowError(step.where, f"步骤 `{step.name}` 在等用户回答，请用 say: 写出问题"))
            for target in step.score:
                if target not in flow.scores:
                    errors.append(FlowError(step.where, f"步骤 `{step.name}`：分数 `{target}` 没有在 `scores:` 里"
                                                        f"声明 (unknown score)"))
            labels = [c.label.zh for c in step.options]
            for dup in {x for x in labels if labels.count(x) > 1}:
                errors.append(FlowError(step.where, f"步骤 `{step.name}` 有两个选项都叫「{dup}」"))
            for action in list(step.actions) + [a for c in step.options for a in c.actions] + \
                    [a for b in step.branch for a in b.actions]:
                if action.name == "record_result" and action.arg("score") not in all_scores:
                    errors.append(FlowError(action.where, f"record_result：没有分数 `{action.arg('score')}`"))
            for b in step.branch:
                if b.condition:
                    try:
                        unknown = meta.find_undeclared_variables(_env.parse("{{ " + b.condition + " }}")) - names
                    except TemplateSyntaxError:
                        continue
                    for n in sorted(unknown):
                        errors.append(FlowError(b.where, f"条件里的 `{n}` 不认识：不是分数、变量或系统名称 "
                                                         f"(unknown name `{n}`)"))
        for name in flow.steps:
            if name not in reachable_steps(flow):
                errors.append(FlowError(flow.steps[name].where, f"步骤 `{name}` 从开头走不到（没有任何 next、"
                                                                f"选项或分支指向它）(unreachable step)"))
        for text, where, what in _texts_of(flow):
            for part in (text.zh, text.en):
                if not part or ("{{" not in part and "{%" not in part):
                    continue
                try:
                    unknown = meta.find_undeclared_variables(_env.parse(part)) - names
                except TemplateSyntaxError as exc:
                    errors.append(FlowError(where, f"{what}：花括号写法有误：{exc.message}"))
                    continue
                for n in sorted(unknown):
                    errors.append(FlowError(where, f"{what}：`{{{{ {n} }}}}` 不认识 (unknown name `{n}`；"
                                                   f"可用：{', '.join(sorted(GLOBALS))} 及变量、分数)"))
            if "en" in flow.languages and text.zh and not text.en:
                errors.append(FlowError(where, f"{what}：缺少英文（本流程写了 languages: [zh, en]，请补 `_en`）"
                                               f" (missing English translation)"))
        errors.extend(_check_scores(flow))
    return errors


def _check_scores(flow: Flow) -> list[FlowError]:
    errors = []
    for s in flow.scores.values():
        lo = hi = 0
        for step in flow.steps.values():
            if s.name in step.score and step.options:
                values = [c.score or 0 for c in step.options]
                lo, hi = lo + min(values), hi + max(values)
        if (lo, hi) != (s.low, s.high):
            errors.append(FlowError(s.where, f"分数 `{s.name}` 写的范围是 {s.low}–{s.high}，但题目能得到的是 "
                                             f"{lo}–{hi} (score range does not match the questions)"))
        if s.bands:
            bands = sorted(s.bands, key=lambda b: b.low)
            if bands[0].low != s.low:
                errors.append(FlowError(bands[0].where, f"分数 `{s.name}` 的分段从 {bands[0].low} 开始，"
                                                        f"应从 {s.low} 开始 (bands must start at the lowest score)"))
            if bands[-1].high != s.high:
                errors.append(FlowError(bands[-1].where, f"分数 `{s.name}` 的分段到 {bands[-1].high} 为止，"
                                                         f"应到 {s.high} (bands must reach the highest score)"))
            for a, b in zip(bands, bands[1:]):
                if b.low != a.high + 1:
                    kind = "重叠 (overlap)" if b.low <= a.high else "有空档 (gap)"
                    errors.append(FlowError(b.where, f"分数 `{s.name}` 的分段 {a.low}–{a.high} 和 {b.low}–{b.high} "
                                                     f"{kind}"))
            ids = [b.id for b in bands]
            for dup in {x for x in ids if ids.count(x) > 1}:
                errors.append(FlowError(s.where, f"分数 `{s.name}` 有两个分段都叫 `{dup}`"))
    return errors


def read_file(path: Path, yaml: YAML | None = None) -> tuple[Flow | None, list[FlowError]]:
    yaml = yaml or YAML(typ="rt")
    rel = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(rel, mark.line + 1, mark.column + 1) if mark else Where(rel, 1, 1)
        return None, [FlowError(where, f"YAML 格式错误 (not valid YAML): {exc.problem or exc.context}"
                                       f"（常见原因：缩进不齐、冒号后少空格、括号或引号没有闭合）")]
    except (YAMLError, UnicodeDecodeError) as exc:
        return None, [FlowError(Where(rel, 1, 1), f"YAML 格式错误 (not valid YAML): {exc}")]
    reader = _Reader(rel)
    flow = reader.flow(doc)
    return flow, reader.errors


def load_flows(folder: Path) -> dict[str, Flow]:
    """Load every flow in a folder; raise FlowLoadError listing every problem found."""
    yaml = YAML(typ="rt")
    flows: dict[str, Flow] = {}
    errors: list[FlowError] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        flow, errs = read_file(path, yaml)
        errors.extend(errs)
        if flow is None:
            continue
        if flow.id in flows:
            errors.append(FlowError(flow.where, f"流程 `{flow.id}` 定义了两次 (flow `{flow.id}` is defined twice)"))
        flows[flow.id] = flow
    errors.extend(check_flows(flows))
    if errors:
        raise FlowLoadError(errors)
    return flows


def check_references(flows: dict[str, Flow]) -> list[FlowError]:  # kept for older callers
    return check_flows(flows)
