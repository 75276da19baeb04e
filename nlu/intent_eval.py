"""Intent evaluation maths and the reading of Rasa-format test sets (no Rasa import).

A test set is a Rasa NLU YAML file (`nlu: - intent: X  examples: | - text`), with
entities marked `[text](entity)` or `[text]{"entity": "e", "value": "v"}`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ruamel.yaml import YAML

OOS = "out_of_scope"
_ENTITY = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: dict[str, str] = field(default_factory=dict)  # entity -> surface text or value


def strip_annotations(line: str) -> tuple[str, dict[str, str]]:
    entities: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        text = m.group("text")
        if m.group("name"):
            name, value = m.group("name"), text
        else:
            spec = json.loads(m.group("json"))
            name, value = spec["entity"], spec.get("value", text)
        entities.setdefault(name, value)
        return text

    return _ENTITY.sub(repl, line), entities


def load_examples(path: Path) -> list[Example]:
    doc = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8")) or {}
    out: list[Example] = []
    for block in doc.get("nlu") or ():
        if "intent" not in block:
            continue
        for raw in str(block.get("examples") or "").splitlines():
            raw = raw.strip()
            if not raw.startswith("- "):
                continue
            text, ents = strip_annotations(raw[2:].strip())
            if text:
                out.append(Example(text, block["intent"], ents))
    return out


def load_synonyms(data_dir: Path) -> dict[str, str]:
    """surface form -> canonical value, from `synonym:` blocks of the training data."""
    syn: dict[str, str] = {}
    for f in sorted(Path(data_dir).glob("*.yml")):
        doc = YAML(typ="safe").load(f.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu") or ():
            if "synonym" in block:
                for raw in str(block.get("examples") or "").splitlines():
                    raw = raw.strip()
                    if raw.startswith("- "):
                        syn[raw[2:].strip()] = block["synonym"]
    return syn


@dataclass
class Report:
    labels: list[str]
    n: int
    accuracy: float
    per_intent: dict[str, dict[str, float]]      # label -> precision, recall, f1, support
    macro_f1: float
    confusion: dict[str, dict[str, int]]          # true -> predicted -> count
    oos_recall: float | None
    entity_total: int
    entity_correct: int
    errors: list[tuple[str, str, str, float]]     # text, true, predicted, confidence

    @property
    def entity_accuracy(self) -> float | None:
        return self.entity_correct / self.entity_total if self.entity_total else None

    def weakest(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(((l, m["f1"]) for l, m in self.per_intent.items()), key=lambda x: x[1])[:k]

    def to_dict(self) -> dict:
        return {"n": self.n, "accuracy": self.accuracy, "macro_f1": self.macro_f1,
                "oos_recall": self.oos_recall, "entity_accuracy": self.entity_accuracy,
                "per_intent": self.per_intent, "confusion": self.confusion}


def evaluate(examples: list[Example], predictions: list[tuple[str | None, float, dict[str, str]]],
             canon: Callable[[str, str], str | None] = lambda e, v: v,
             labels: Iterable[str] | None = None) -> Report:
    """predictions[i] = (intent or None when unparsed, confidence, entities) for examples[i].

    `canon(entity, value)` maps an expected surface form to its canonical value.
    """
    assert len(examples) == len(predictions)
    gold = [e.intent for e in examples]
    pred = [p[0] or "<none>" for p in predictions]
    labels = sorted(set(labels or ()) | set(gold))
    conf: dict[str, dict[str, int]] = {t: {} for t in labels}
    for g, p in zip(gold, pred):
        conf[g][p] = conf[g].get(p, 0) + 1
    per: dict[str, dict[str, float]] = {}
    for l in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == l and p == l)
        fp = sum(1 for g, p in zip(gold, pred) if g != l and p == l)
        fn = sum(1 for g, p in zip(gold, pred) if g == l and p != l)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[l] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    present = [l for l in labels if per[l]["support"] > 0]
    macro = sum(per[l]["f1"] for l in present) / len(present) if present else 0.0
    acc = sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else 0.0
    ent_total = ent_ok = 0
    for ex, (_, _, ents) in zip(examples, predictions):
        for name, surface in ex.entities.items():
            ent_total += 1
            if ents.get(name) == canon(name, surface):
                ent_ok += 1
    errors = [(ex.text, ex.intent, p[0] or "<none>", p[1])
              for ex, p in zip(examples, predictions) if ex.intent != (p[0] or "<none>")]
    oos = per[OOS]["recall"] if OOS in per and per[OOS]["support"] else None
    return Report(labels, len(gold), acc, per, macro, conf, oos, ent_total, ent_ok, errors)


def format_report(title: str, r: Report, show_errors: bool = True) -> str:
    lines = [f"== {title}: {r.n} examples ==",
             f"{'intent':<16}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>5}"]
    for l in r.labels:
        m = r.per_intent[l]
        lines.append(f"{l:<16}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}{int(m['support']):>5}")
    lines.append(f"accuracy {r.accuracy:.3f}   macro-F1 {r.macro_f1:.3f}   "
                 f"out_of_scope recall {r.oos_recall if r.oos_recall is None else format(r.oos_recall, '.3f')}")
    if r.entity_total:
        lines.append(f"entities: {r.entity_correct}/{r.entity_total} correct ({r.entity_accuracy:.3f})")
    lines.append("weakest: " + ", ".join(f"{l} {f:.3f}" for l, f in r.weakest()))
    # confusion matrix: rows true, columns predicted, abbreviated headers
    cols = list(r.labels) + sorted({p for row in r.confusion.values() for p in row} - set(r.labels))
    ab = [c[:5] for c in cols]
    lines.append("confusion (rows true, columns predicted):")
    lines.append(" " * 16 + "".join(f"{a:>6}" for a in ab))
    for t in r.labels:
        row = r.confusion[t]
        lines.append(f"{t:<16}" + "".join(f"{(row.get(c) or '.'):>6}" for c in cols))
    if show_errors and r.errors:
        lines.append("errors (true -> predicted @confidence):")
        for text, g, p, c in r.errors:
            lines.append(f"  {g} -> {p} @{c:.2f}  {text}")
    return "\n".join(lines)
