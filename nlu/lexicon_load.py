"""Load the crisis lexicons (YAML data under nlu/lexicon/) with file:line for errors.

Cue files look like::

    kind: intent
    entries:
      - {term: 自杀, also: [自尽], level: high, category: self, example: 我想自杀, notes: …}

Every entry needs ``term``, ``level``, ``category`` and ``example``; ``also`` lists
variants that count as the same entry, ``notes`` is free text, ``soft: true`` marks a
cue that a trivial cause (kind ``trivial``) downgrades to low. ``level`` is the level
the example sentence must be assessed at (tests check it): for a cue that only
modifies others (time, means, negation …) it is the level of its example with the
cue doing its job.

Pattern files (``patterns:``) hold gap patterns over the normalised text, for
phrasing a fixed list cannot enumerate (想找个地方安静地死掉, 割过腕, 如果我死了)::

    classes:
      WANT: [想, 要, 准备, 打算]
      DIE: [自杀, 死掉, 死去]
    patterns:
      - {term: 想…死, kind: intent, pattern: "{WANT}~6{DIE}", level: high, category: self,
         example: 我想找个没人的地方死掉}

Pattern syntax: ``{NAME}`` is any word of class NAME; ``~N`` is a gap of 0..N
characters inside one clause (no ，。！？ between); ``$`` is the end of a clause and
``^`` its start; anything else is a Python regular expression. A pattern hit is a cue
of its ``kind`` like any list entry (its signal is ``kind:term``), so negation,
hyperbole, subject and time rules apply to it unchanged. ``unless`` (same syntax) excludes
the whole message when it occurs anywhere in it (搬家, 出差 for a giving-away pattern): the
cue's span stays where the cue is, so the subject before it is still read (an exclusion
written as a look-ahead from ``\\A`` would start the span at the message start, and the
writer would be taken as the subject of someone else's act).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from nlu.risk import CATEGORIES, Risk

LEXICON_DIR = Path(__file__).with_name("lexicon")

# What each kind does in the engine (see nlu/assess.py).
KINDS = {
    "intent": "active ideation, alone high",
    "method": "a named way to die (跳楼, 上吊); with a want/time/in-progress cue it is intent",
    "self_harm": "self-harm intent or behaviour",
    "plan": "plan or preparation phrase, alone imminent",
    "in_progress": "act under way or at the place",
    "means": "an object that can kill (安眠药, 绳子); with in-progress/acquire/intent → imminent",
    "acquire": "got/saved/bought the means (买好了, 攒够了)",
    "time": "a near time (今晚, 现在); with intent → imminent",
    "want": "a will/desire verb (想, 要, 准备) that turns a method into intent",
    "farewell": "goodbye, giving things away",
    "others": "harm to others",
    "passive": "passive ideation, alone medium",
    "past": "a past attempt, alone medium",
    "recovery": "past/recovery marker that caps ideation at medium",
    "distress": "distress, alone low",
    "hyperbole": "idioms that must not page; suppress cues they overlap",
    "negation": "negates the cue right after it",
    "third_party": "someone else is the subject",
    "first_person": "the writer is the subject",
    "generic": "follows a cue and makes it general talk (自杀的人)",
    "news": "news, fiction, lectures: cues are reports, not the writer's state",
    "trivial": "a trivial cause that downgrades soft cues",
    "habitual": "often/sometimes (总是, 每次): passive ideation at a dangerous place is a recurring thought, not now",
}

# kinds whose cue alone says something about risk (the engine's triggers, with distress and hyperbole)
RISK_CUE_KINDS = frozenset({"intent", "method", "self_harm", "plan", "in_progress", "farewell", "others",
                            "passive", "past", "means"})


class LexiconError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    kind: str
    term: str
    variants: tuple[str, ...]
    level: Risk
    category: str
    example: str
    soft: bool = False
    notes: str = ""
    where: str = ""  # file:line
    alone: Risk | None = None   # modifier kinds: level the cue gives on its own
    scope: str = "clause"       # recovery markers: clause (before the cue) or message
    pattern: str = ""           # compiled regex source for pattern entries (variants then = (term,))
    unless: str = ""            # pattern entries: no hit when this regex occurs anywhere in the message

    @property
    def signal(self) -> str:
        return f"{self.kind}:{self.term}"


@dataclass
class Lexicon:
    entries: list[Entry] = field(default_factory=list)
    slang: list[dict] = field(default_factory=list)   # {from, to, except, where}
    emoji: list[dict] = field(default_factory=list)   # {emoji, to, where}
    patterns: list[Entry] = field(default_factory=list)  # gap patterns (Entry.pattern set)

    @property
    def all_entries(self) -> list[Entry]:
        return self.entries + self.patterns


def _yaml() -> YAML:
    y = YAML(typ="rt")
    return y


def _line(node, key=None) -> int:
    try:
        if key is not None:
            return node.lc.key(key)[0] + 1
        return node.lc.line + 1
    except Exception:
        return 0


def _load_cues(path: Path, data) -> list[Entry]:
    where0 = f"{path}:{_line(data) if hasattr(data, 'lc') else 1}"
    if not isinstance(data, dict) or "kind" not in data or "entries" not in data:
        raise LexiconError(f"{where0}: a cue file needs 'kind' and 'entries'")
    kind = data["kind"]
    if kind not in KINDS:
        raise LexiconError(f"{path}:{_line(data, 'kind')}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    out = []
    seq = data["entries"] or []
    for i, e in enumerate(seq):
        line = seq.lc.item(i)[0] + 1 if hasattr(seq, "lc") else 0
        where = f"{path}:{line}"
        if not isinstance(e, dict):
            raise LexiconError(f"{where}: an entry must be a mapping")
        missing = [k for k in ("term", "level", "category", "example") if k not in e]
        if missing:
            raise LexiconError(f"{where}: entry misses {', '.join(missing)}")
        unknown = set(e) - {"term", "also", "level", "category", "example", "notes", "soft", "alone", "scope"}
        if unknown:
            raise LexiconError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if e["level"] not in Risk.__members__:
            raise LexiconError(f"{where}: level {e['level']!r} is not one of {', '.join(Risk.__members__)}")
        if e.get("alone", "none") not in Risk.__members__:
            raise LexiconError(f"{where}: alone {e.get('alone')!r} is not one of {', '.join(Risk.__members__)}")
        if e.get("scope", "clause") not in ("clause", "message"):
            raise LexiconError(f"{where}: scope must be clause or message")
        _check_category(where, e)
        term = str(e["term"]).strip()
        also = e.get("also") or []
        if not isinstance(also, list):
            raise LexiconError(f"{where}: 'also' must be a list")
        if not term or not str(e["example"]).strip():
            raise LexiconError(f"{where}: empty term or example")
        out.append(Entry(kind=kind, term=term, variants=tuple(dict.fromkeys([term] + [str(a).strip() for a in also])),
                         level=Risk[e["level"]], category=e["category"], example=str(e["example"]),
                         soft=bool(e.get("soft", False)), notes=str(e.get("notes", "")), where=where,
                         alone=Risk[e["alone"]] if "alone" in e else None, scope=e.get("scope", "clause")))
    return out


CLAUSE_BREAK = r",.!?;:…。！？；：~\n"
_GAP = re.compile(r"~(\d+)")
_CLASS = re.compile(r"\{([A-Z_][A-Z0-9_]*)\}")


def compile_pattern(src: str, classes: dict[str, list[str]], where: str = "") -> str:
    """Pattern mini-language → Python regex source (see the module docstring)."""
    def cls(m):
        name = m.group(1)
        if name not in classes:
            raise LexiconError(f"{where}: unknown class {{{name}}} (defined: {', '.join(sorted(classes))})")
        alts = sorted({str(a) for a in classes[name]}, key=len, reverse=True)
        return "(?:" + "|".join(re.escape(a) for a in alts) + ")"
    out = _CLASS.sub(cls, src)
    # $ / ^ anywhere (not escaped, not a class negation) mean the end / start of a clause
    out = re.sub(r"(?<!\\)\$", lambda m: f"(?=[{CLAUSE_BREAK}]|$)", out)
    out = re.sub(r"(?<![\\\[])\^", lambda m: f"(?:^|(?<=[{CLAUSE_BREAK}]))", out)
    out = _GAP.sub(lambda m: f"[^{CLAUSE_BREAK}]{{0,{m.group(1)}}}?", out)
    try:
        re.compile(out)
    except re.error as exc:
        raise LexiconError(f"{where}: bad pattern {src!r}: {exc}") from exc
    return out


def _load_patterns(path: Path, data) -> list[Entry]:
    classes = {str(k): [str(a) for a in v] for k, v in (data.get("classes") or {}).items()}
    seq = data.get("patterns") or []
    out = []
    for i, e in enumerate(seq):
        line = seq.lc.item(i)[0] + 1 if hasattr(seq, "lc") else 0
        where = f"{path}:{line}"
        if not isinstance(e, dict):
            raise LexiconError(f"{where}: a pattern must be a mapping")
        missing = [k for k in ("term", "kind", "pattern", "level", "category", "example") if k not in e]
        if missing:
            raise LexiconError(f"{where}: pattern misses {', '.join(missing)}")
        unknown = set(e) - {"term", "kind", "pattern", "level", "category", "example", "notes", "soft", "alone",
                            "unless"}
        if unknown:
            raise LexiconError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if e["kind"] not in KINDS:
            raise LexiconError(f"{where}: unknown kind {e['kind']!r}")
        for key in ("level", "alone"):
            if key in e and e[key] not in Risk.__members__:
                raise LexiconError(f"{where}: {key} {e[key]!r} is not one of {', '.join(Risk.__members__)}")
        _check_category(where, e)
        term = str(e["term"]).strip()
        out.append(Entry(kind=e["kind"], term=term, variants=(term,), level=Risk[e["level"]],
                         category=e["category"], example=str(e["example"]), soft=bool(e.get("soft", False)),
                         notes=str(e.get("notes", "")), where=where,
                         alone=Risk[e["alone"]] if "alone" in e else None,
                         pattern=compile_pattern(str(e["pattern"]), classes, where),
                         unless=compile_pattern(str(e["unless"]), classes, where) if e.get("unless") else ""))
    return out


def _load_map(path: Path, data, key: str, needed: tuple[str, ...]) -> list[dict]:
    seq = data.get(key) or []
    out = []
    for i, e in enumerate(seq):
        line = seq.lc.item(i)[0] + 1 if hasattr(seq, "lc") else 0
        where = f"{path}:{line}"
        if not isinstance(e, dict) or any(k not in e for k in needed):
            raise LexiconError(f"{where}: entry needs {', '.join(needed)}")
        d = {k: e[k] for k in e}
        d["where"] = where
        out.append(d)
    return out


def load(directory: Path | str = LEXICON_DIR) -> Lexicon:
    directory = Path(directory)
    lex = Lexicon()
    y = _yaml()
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            try:
                data = y.load(f)
            except Exception as exc:  # ruamel's errors carry their own line
                raise LexiconError(f"{path}: {exc}") from exc
        if data is None:
            continue
        if "patterns" in data:
            lex.patterns += _load_patterns(path, data)
        elif "replacements" in data:   # slang / homophones / pinyin
            lex.slang += _load_map(path, data, "replacements", ("from", "to", "example"))
        elif "emoji" in data:
            lex.emoji += _load_map(path, data, "emoji", ("emoji", "to", "example"))
        else:
            lex.entries += _load_cues(path, data)
    return lex


def _check_category(where: str, e: dict) -> None:
    """A known category, and one that names whose risk it is (not none) from medium up."""
    if e["category"] not in CATEGORIES:
        raise LexiconError(f"{where}: category {e['category']!r} is not one of {', '.join(CATEGORIES)}")
    if e["category"] == "none" and Risk[e["level"]] >= Risk.medium:
        raise LexiconError(f"{where}: level {e['level']} needs a category other than none (whose risk is it?)")
