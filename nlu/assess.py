"""In-process crisis assessment: normalise → prefilter → spaCy rule layer → learned signal.

The learned signal (nlu/crisis_model.py, a char n-gram logistic regression committed as
data in nlu/model/) may only RAISE the rules' level; ``Assessor(model=True|False|None)``
switches it (None: as the model file's CV-decided ``enabled_by_default`` says; whether its page
head may page, or only its concern head may raise to medium, is decided by the same CV).

Never does network I/O and never logs message text. Build an ``Assessor`` once
(``default_assessor()``) and call ``assess(text)``; it returns an
``nlu.risk.Assessment`` (risk, category, signals such as "intent:自杀", "time:今晚").

Cues come from the list entries (substring scan) and from the gap patterns of
nlu/lexicon/*patterns.yaml (regexes over the normalised text: 想…死, 割过腕, 如果我死了,
绳子系好了 …); a pattern hit is a cue of its kind like any other. Only the patterns whose
required text occurs in the message are run (nlu/pattern_index.py). The spaCy layer
(PhraseMatcher over jieba tokens, one dedicated jieba instance) finds nothing the scan
misses on any eval set; it stays switchable (use_spacy) and costs ~2 s start-up.

How cues combine (the lexicon kinds are described in nlu/lexicon_load.py):

* a hyperbole/ordinary word (累死, 杀毒, 跳楼价) drops any cue it overlaps;
  a cue inside a longer cue is dropped (想 inside 想死, 他 inside 杀了他);
* a time word that opens a view held now (现在觉得, 现在想想) is no near time;
* negation right before a cue drops it (not the 不 of an A-not-A question: 是不是, 想不想);
  a generic word right after it (自杀的人, 自杀率) makes it general talk (low); news/fiction
  markers cap cues the writer does not claim with 我 at low;
* cues on the same span are read strongest first, then in lexicon order (never in set order,
  which changes with PYTHONHASHSEED);
* the subject of a cue is the nearest 我/third-party word before it (a third-party
  word after 被/把/跟/想到/恨/查到 … is an object, not a subject); someone named in an earlier
  clause is not the subject when the cue's clause has its own 我, also inside the cue
  (儿子还不知道。安眠药我攒了一瓶), unless that 我 is an object (塞给我);
* a gap pattern's ``unless`` excludes the whole message without moving the cue's span (a
  look-ahead from the message start would make every such cue the writer's);
* writer: intent, self-harm, strong farewell, threat → high; method alone →
  medium, with a want verb → high; passive, past attempt → medium; distress → low;
  any of intent/method/self-harm/farewell/threat together with a near time, an
  in-progress cue, a plan, or a means that was acquired or taken → imminent;
  passive ideation at a dangerous place (我在天台 活着没意思) → imminent, unless a
  habitual frame (总是, 每次) makes it a recurring thought; so is the writer at such a place or in
  such an act with a near time and nothing else (我现在在江边 风好大: writing to a crisis line from
  there), unless habitual; leisure and work there (在江边钓鱼, 家住在海边) are ordinary;
  a plan phrase alone → imminent; past/recovery markers cap at medium (unless 现在, 最近, 又 …
  between the marker and the cue bring the story back to now); a cue written for someone else
  (category third_party) in a message that names nobody else is the writer's;
* someone else: their ideation → medium third_party; in danger now (time,
  in progress, plan, means) or their strong farewell → high third_party, and so are they at a
  dangerous place or in the act with no other cue (孩子在楼顶 我该怎么办), imminent with a near time
  (她现在一个人在河边); the act under
  way, at the place, a means ready or a plan → imminent third_party, and so is their
  in-progress cue whose own level is imminent (我哥吞了一把安眠药);
* medium or more always names whose risk (category none only for none/low).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nlu.crisis_model import MODEL_PATH, CrisisModel
from nlu.lexicon_load import LEXICON_DIR, RISK_CUE_KINDS, Entry, Lexicon, load
from nlu.literal_table import LiteralTable
from nlu.normalize import Normalizer
from nlu.pattern_index import PatternIndex
from nlu.risk import Assessment, Risk, whose

JIEBA_DIR = Path(__file__).with_name("jieba")

TRIGGER_KINDS = RISK_CUE_KINDS | {"distress", "hyperbole"}
CORE_KINDS = frozenset({"intent", "method", "self_harm", "farewell", "others"})
# a gap pattern of these kinds re-reads the list cues inside it (第二次自杀又失败了: past, not intent)
_REINTERPRET = frozenset({"past", "hyperbole", "generic"})
_SUBJECT_KINDS = frozenset({"first_person", "third_party"})
_CLAUSE = re.compile(r"[,.!?;:…。！？；：~\n]+")
_OBJECT_BEFORE = tuple("被把让给跟和与对找替帮为向问陪带养哄骗逗吓送") + (
    "杀了", "打了", "骂", "伤害", "害", "告诉", "通知", "瞒着", "给了", "照顾", "接", "想到", "想起", "梦到", "梦见",
    "恨", "讨厌", "拿", "查到", "找到", "打听到")
# 我 right after these is a listener or an object, not the subject (朋友跟我说, 把存折塞给我)
_ME_AS_OBJECT = ("跟", "和", "对", "给", "问", "找")
_LATIN = re.compile(r"[a-z0-9' ]+")
# between a past/recovery marker and a cue, these bring the story back to now: the cap does not apply
_NOW_AGAIN = ("现在", "最近", "这几天", "这两天", "这阵子", "今天", "又", "还是", "依然", "仍然", "已经")
_NONE = Assessment()
_VIEW_NOW = ("觉得", "感觉", "想想", "想来", "看来", "回想", "回头看", "才明白", "才知道", "才懂", "明白了", "想通了")


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    entry: Entry

    @property
    def kind(self) -> str:
        return self.entry.kind


class _Scanner:
    """Substring scan of the lexicon's variants (the cheap layer and prefilter)."""

    def __init__(self, entries: list[Entry]):
        found: dict[str, list[tuple[Entry, bool]]] = {}
        for e in entries:
            for v in e.variants:
                found.setdefault(v, []).append((e, bool(_LATIN.fullmatch(v))))
        self._table = LiteralTable({v: tuple(es) for v, es in found.items()})
        self.first = self._table.first

    def scan(self, text: str, first_hit_only: bool = False) -> list[Hit]:
        out: list[Hit] = []
        n = len(text)
        for i, j, found in self._table.find(text):
            for e, latin in found:
                if latin and ((i > 0 and text[i - 1].isascii() and text[i - 1].isalpha())
                              or (j < n and text[j].isascii() and text[j].isalpha())):
                    continue
                out.append(Hit(i, j, e))
                if first_hit_only:
                    return out
        return out


class Assessor:
    def __init__(self, lexicon: Lexicon | None = None, *, use_spacy: bool = True,
                 lexicon_dir: Path | str = LEXICON_DIR, model: "bool | None | Path | str | CrisisModel" = None):
        self.lexicon = lexicon if lexicon is not None else load(lexicon_dir)
        self.normalize = Normalizer(self.lexicon)
        entries = self.lexicon.entries
        self._trigger = _Scanner([e for e in entries if e.kind in TRIGGER_KINDS])
        self._all = _Scanner(entries)
        # gap patterns (nlu/lexicon/patterns*.yaml): regexes over the normalised text
        self._patterns = [(re.compile(e.pattern), e) for e in self.lexicon.patterns]
        self._unless = {i: re.compile(e.unless) for i, (_, e) in enumerate(self._patterns) if e.unless}
        self._pattern_index = PatternIndex([e.pattern for e in self.lexicon.patterns])
        self._trigger_patterns = frozenset(i for i, (_, e) in enumerate(self._patterns) if e.kind in TRIGGER_KINDS)
        self.normalize.risky = self.prefilter  # pinyin runs are read when that reading carries a cue
        self.use_spacy = use_spacy
        self._lock = threading.Lock()
        self.nlp = self.matcher = None
        self._entry_by_key: dict[str, Entry] = {}
        if use_spacy:
            self._build_spacy(entries)
        # learned raise-only signal (nlu/crisis_model.py): model=True on, False rules only,
        # None as the committed model file says (enabled_by_default, decided by its CV)
        if model is None:
            model = CrisisModel.load(MODEL_PATH) if MODEL_PATH.exists() else None
            if model is not None and not model.enabled_by_default:
                model = None
        elif model is True:
            model = CrisisModel.load(MODEL_PATH) if MODEL_PATH.exists() else None
        elif model is False:
            model = None
        elif isinstance(model, (str, Path)):
            model = CrisisModel.load(model)
        self.model: CrisisModel | None = model

    # ---- spaCy layer -------------------------------------------------------------
    def _build_spacy(self, entries: list[Entry]) -> None:
        import jieba
        import spacy
        from spacy.matcher import PhraseMatcher

        from spacy.lang.zh import Segmenter

        tok = jieba.Tokenizer()  # dedicated: never touch jieba's global dictionary
        tok.initialize()
        for path in sorted(JIEBA_DIR.glob("*.txt")):
            tok.load_userdict(str(path))
        for e in entries:
            for v in e.variants:
                if not _LATIN.fullmatch(v):
                    tok.add_word(v, freq=max(tok.FREQ.get(v, 0), 50000))
        # Build with the char segmenter and hand spaCy our jieba instance: asking for
        # segmenter=jieba would make spaCy initialise jieba's global dictionary as
        # well (a second ~1.5 s load, and global state we must not touch).
        nlp = spacy.blank("zh")
        nlp.tokenizer.segmenter = Segmenter.jieba
        nlp.tokenizer.jieba_seg = tok
        matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for idx, e in enumerate(entries):
            key = f"{idx}"
            self._entry_by_key[key] = e
            matcher.add(key, [nlp.make_doc(v) for v in e.variants])
        self.nlp, self.matcher = nlp, matcher

    def _spacy_hits(self, text: str) -> list[Hit]:
        doc = self.nlp.make_doc(text)
        strings = self.nlp.vocab.strings
        out = []
        for match_id, s, e in self.matcher(doc):
            span = doc[s:e]
            out.append(Hit(span.start_char, span.end_char, self._entry_by_key[strings[match_id]]))
        return out

    # ---- assessment --------------------------------------------------------------
    def prefilter(self, norm: str, candidates: list[int] | None = None) -> bool:
        """True when the normalised text contains any risk-bearing cue."""
        if not self._trigger.first.isdisjoint(norm) and self._trigger.scan(norm, first_hit_only=True):
            return True
        if candidates is None:
            candidates = self._pattern_index.candidates(norm)
        return any(self._patterns[i][0].search(norm) is not None and not self._excluded(i, norm)
                   for i in candidates if i in self._trigger_patterns)

    def _excluded(self, i: int, text: str) -> bool:
        """Pattern i's ``unless`` occurs in the message."""
        rx = self._unless.get(i)
        return rx is not None and rx.search(text) is not None

    def _pattern_hits(self, text: str, candidates: list[int] | None = None) -> list[Hit]:
        """Hits of the gap patterns (only those whose required text occurs: nlu/pattern_index.py)."""
        if candidates is None:
            candidates = self._pattern_index.candidates(text)
        out = []
        for i in candidates:
            rx, e = self._patterns[i]
            found = [Hit(m.start(), m.end(), e) for m in rx.finditer(text) if m.end() > m.start()]
            if found and not self._excluded(i, text):
                out += found
        return out

    def assess(self, text: str) -> Assessment:
        norm, breaks = self.normalize.with_breaks(text or "")
        if not norm:
            return _NONE
        rules = self.assess_rules(norm, breaks)
        return rules if self.model is None else self.model.raise_(rules, norm)

    def rules_of(self, text: str) -> Assessment:
        """The rule layer alone, on raw text (what ``assess`` combines with the model)."""
        norm, breaks = self.normalize.with_breaks(text or "")
        return self.assess_rules(norm, breaks) if norm else _NONE

    def assess_rules(self, norm: str, breaks: tuple[int, ...] = ()) -> Assessment:
        """The rule layer alone, on already normalised text (``breaks``: Normalizer.with_breaks)."""
        candidates = self._pattern_index.candidates(norm)
        if not self.prefilter(norm, candidates):
            return _NONE
        hits = set(self._all.scan(norm))
        hits.update(self._pattern_hits(norm, candidates))
        if self.use_spacy:
            with self._lock:  # the jieba tokenizer instance is not thread-safe
                hits.update(self._spacy_hits(norm))
        return _combine(norm, sorted(hits, key=_hit_order), breaks)


def _hit_order(h: Hit) -> tuple:
    """Reading order; on the same span the stronger cue first, then lexicon order (file:line), so
    that the outcome never depends on set iteration order (which changes with PYTHONHASHSEED)."""
    return h.start, -h.end, -h.entry.level, h.entry.where, h.entry.term


def _clause_ids(text: str) -> list[int]:
    ids, c, last = [], 0, 0
    for m in _CLAUSE.finditer(text):
        ids.extend([c] * (m.end() - last))
        last = m.end()
        c += 1
    ids.extend([c] * (len(text) - last + 1))
    return ids


def _combine(text: str, hits: list[Hit], breaks: tuple[int, ...] = ()) -> Assessment:
    # 1. a cue inside a strictly longer cue is dropped; hyperbole drops what it overlaps
    # (inside a gap pattern only negation is dropped: 想找个没人的地方死掉; list cues, times
    # and subjects keep their role and their signal: 想今晚就去死 keeps time:今晚)
    # (我 inside 我想/我要 stays: it still names the subject of what follows)
    # an A-not-A question (是不是, 想不想, 会不会) asks, it does not negate: 是不是我死了就好了
    hits = [h for h in hits if not (h.kind == "negation" and text[h.start] in "不没" and 0 < h.start
                                    and h.start + 1 < len(text) and text[h.start - 1] == text[h.start + 1])]

    def inside(h: Hit, o: Hit) -> bool:
        """h lies within the strictly longer o."""
        return o.start <= h.start and h.end <= o.end and (o.end - o.start) > (h.end - h.start)

    def overlaps(h: Hit, x: Hit) -> bool:
        return x.start < h.end and h.start < x.end

    kept = [h for h in hits if not any(inside(h, o)
                                       and (not o.entry.pattern or h.kind == "negation"
                                            or (o.kind in _REINTERPRET and h.kind in TRIGGER_KINDS))
                                       and not (h.kind == "first_person" and o.kind not in _SUBJECT_KINDS)
                                       for o in hits)]
    # 现在觉得…, 现在想想…: a view held now, not a moment something happens
    kept = [h for h in kept if not (h.kind == "time" and not h.entry.pattern and text.startswith(_VIEW_NOW, h.end))]
    hyper = [h for h in kept if h.kind == "hyperbole"]
    kept = [h for h in kept if h.kind == "hyperbole" or not any(overlaps(h, x) for x in hyper)]
    clause = _clause_ids(text)
    # negations, also those a gap pattern swallowed (not those a list cue or a hyperbole holds: 不想活, 会不会)
    negations = [h for h in hits if h.kind == "negation"
                 and not any(inside(h, o) and not o.entry.pattern for o in hits)
                 and not any(overlaps(h, x) for x in hyper)]
    signals = list(dict.fromkeys(f"{h.kind}:{h.entry.term if h.entry.pattern else text[h.start:h.end]}"
                                 for h in sorted({*kept, *negations}, key=_hit_order)))
    by_kind: dict[str, list[Hit]] = {}
    for h in kept:
        by_kind.setdefault(h.kind, []).append(h)
    get = lambda k: by_kind.get(k, [])  # noqa: E731

    def before(h: Hit, kind: str, gap: int | None = None, pool: list[Hit] | None = None) -> Hit | None:
        best = None
        for m in (get(kind) if pool is None else pool):
            if kind == "negation" and any(m.end < b <= h.start for b in breaks):
                continue  # a negation reaches across a typed space only to a cue right after it
                # (我不想 自杀), not past its own object (不想动 活着好没意思)
            if m.start < h.start and m.end <= h.end and clause[m.start] == clause[h.start]:
                g = max(0, h.start - m.end)  # a negation may overlap the cue's start (没想过 + 想过自杀)
                allowed = gap if gap is not None else 99
                if kind == "negation" and gap is None:
                    allowed = 0 if (m.end - m.start) == 1 else 2
                if g <= allowed and (best is None or m.end > best.end):
                    best = m
        return best

    def me_as_object(m: Hit) -> bool:
        return text[max(0, m.start - 1):m.start] in _ME_AS_OBJECT

    def subject(h: Hit) -> str:
        """'self' or 'third_party': nearest valid subject word before the cue."""
        cands = []
        for m in get("first_person") + get("third_party"):
            if m.end > h.start:
                continue
            ch, hc = clause[m.start], clause[h.start]
            if hc - ch > 2:
                continue
            if m.kind == "first_person" and ch == hc and me_as_object(m):
                continue  # 朋友跟我说想自杀: 我 is the listener of this clause's cue
            if m.kind == "third_party":
                # someone named in an earlier clause is not the subject when this clause has its own 我,
                # also one inside the cue (儿子还不知道。安眠药我攒了一瓶): not 塞给我 (an object)
                if ch != hc and any(clause[f.start] == hc and f.start < h.end and not me_as_object(f)
                                    for f in get("first_person")):
                    continue
                pre = text[max(0, m.start - 4):m.start].rstrip("我的一个位名")
                if pre.endswith(_OBJECT_BEFORE):
                    continue
            cands.append(m)
        if not cands:
            return "self"
        best = max(cands, key=lambda m: m.end)
        return "third_party" if best.kind == "third_party" else "self"

    news = bool(get("news"))
    trivial = bool(get("trivial"))
    explicit_me = lambda h: any(m.end <= h.start and clause[m.start] == clause[h.start]  # noqa: E731
                                for m in get("first_person"))

    def near(kind: str, h: Hit) -> bool:
        return any(abs(clause[m.start] - clause[h.start]) <= 1 for m in get(kind))

    def means_ready(h: Hit | None = None) -> bool:
        """A means that was acquired or is being taken (soft means need a core cue too)."""
        for m in get("means"):
            ready = bool(get("acquire")) or bool(get("in_progress"))
            if ready and (not m.entry.soft or h is not None):
                return True
        return False

    self_level, self_cat = Risk.none, "none"
    tp_level = Risk.none
    core_self: list[Hit] = []
    passive_self: list[Hit] = []  # the writer's passive ideation, not capped by a recovery marker

    def raise_self(level: Risk, cat: str):
        nonlocal self_level, self_cat
        if level > self_level:
            self_level, self_cat = level, cat

    for h in kept:
        k = h.kind
        if k not in TRIGGER_KINDS or k in ("hyperbole", "means"):
            continue
        if k == "farewell" and h.entry.level == Risk.none:
            continue  # weak farewell: only combines
        if k == "in_progress" and not h.entry.alone:
            continue  # combines below
        # a gap pattern (希望她不要自杀) is negated when the list cue it ends in is
        inner = [x for x in kept if h.entry.pattern and not x.entry.pattern and x.kind in CORE_KINDS
                 and h.start < x.start and x.end <= h.end]
        if any(before(x, "negation", pool=negations) is not None for x in [h, *inner]):
            if k != "distress" and h.entry.level >= Risk.medium:
                raise_self(Risk.low, "none")
            continue
        generic = any(g.start == h.end for g in get("generic"))
        who = subject(h) if k != "distress" else "self"
        if k == "distress":
            raise_self(Risk.low, "none")
            continue
        if generic or (news and not explicit_me(h)):
            raise_self(Risk.low, "none")
            continue
        level = h.entry.level if k != "in_progress" else h.entry.alone
        cat = h.entry.category
        if k == "method":
            level = Risk.high if (before(h, "want", 2) or before(h, "first_person", 1)) else Risk.medium
        if k == "plan":
            level = Risk.imminent
        if h.entry.soft and trivial:
            level = Risk.low
            cat = "none"
        if k in CORE_KINDS or k == "in_progress":
            rec = before(h, "recovery")  # 去年被机器压了手 … 现在 … 不想活了: the story moved on to now
            rec = None if rec is not None and any(w in text[rec.end:h.start] for w in _NOW_AGAIN) else rec
            capped = not (get("plan") or get("in_progress")) and (
                rec is not None or any(r.entry.scope == "message" for r in get("recovery")))
            if capped and k != "in_progress":
                level = min(level, Risk.medium)
            if not capped and k == "in_progress" and level >= Risk.high and near("time", h):
                level = Risk.imminent  # 我现在站在天台上
            if not capped and k in CORE_KINDS and level >= Risk.medium:
                now = (near("time", h) or get("in_progress") or get("plan") or means_ready(h)
                       or (get("means") and k in ("intent", "method") and get("acquire")))
                if k == "others" and level < Risk.high and not (get("means") or get("in_progress") or get("plan")):
                    now = False  # 今天不给钱谁都别想好过: a vague threat and only a day is still vague
                if now and (k != "farewell" or get("means") or get("in_progress") or get("time")):
                    level = Risk.imminent
        if who == "third_party":
            tp_level = max(tp_level, _third_party_level(h, level, get, means_ready(h)))
            continue
        if cat == "third_party" and not get("third_party"):
            cat = "self"  # a cue written for someone else (吞了一整板药) in a message that names nobody else
        if k in CORE_KINDS:
            core_self.append(h)
        if k == "passive" and level >= Risk.medium and not (get("recovery") or get("habitual")):
            passive_self.append(h)
        raise_self(level, cat)

    # in-progress / means / weak farewell without a core cue of the writer
    if self_level < Risk.imminent and tp_level < Risk.high:
        hard_means = [m for m in get("means") if not m.entry.soft]
        ip = [h for h in get("in_progress") if before(h, "negation") is None]
        strong_ip = [h for h in ip if h.entry.level >= Risk.high]  # not 我现在去阳台 (a cue of level low)
        if hard_means and (ip or get("acquire")) and not news:
            raise_self(Risk.imminent, "self")
        elif ip and (get("means") or core_self or passive_self) and not news:  # 我在天台 活着没意思
            raise_self(Risk.imminent, next((h.entry.category for h in ip), "self"))
        elif self_level >= Risk.high and get("in_progress") and core_self:
            raise_self(Risk.imminent, self_cat)
        elif get("means") and get("farewell") and (ip or get("time")):
            raise_self(Risk.imminent, "self")
        elif get("means") and get("acquire") and get("time") and not news:
            raise_self(Risk.imminent, "self")  # 绳子准备好了，等下班就去 (not 感冒药买好了 一会就吃)
        elif not news and any(subject(h) == "third_party" for h in strong_ip):
            # someone else at the place or in the act (她现在一个人在河边 怎么办): at the place now → imminent
            tp_level = max(tp_level, Risk.imminent if any(near("time", h) for h in strong_ip) else Risk.high)
        elif not news and not get("habitual") and any(subject(h) == "self" and near("time", h) for h in strong_ip):
            raise_self(Risk.imminent, strong_ip[0].entry.category)  # 我现在在江边 风好大
        elif ip:
            raise_self(Risk.low, "none")
    if get("hyperbole"):  # a joke that still leaves concern (不想活了 哈哈开玩笑的: medium) keeps its category
        top = max(get("hyperbole"), key=lambda h: h.entry.level)
        raise_self(top.entry.level, top.entry.category)

    if tp_level > self_level:
        return Assessment(tp_level, "third_party", tuple(signals))
    if self_level == Risk.none and self_cat == "none" and not signals:
        return _NONE
    cat = whose(self_cat) if self_level >= Risk.medium else "none"
    return Assessment(self_level, cat, tuple(signals))


def _third_party_level(h: Hit, level: Risk, get, means_ready: bool) -> Risk:
    """Someone else's cue h (at level): their ideation → at most medium; in danger now (a time, in
    progress, a plan, a means ready) → high, or their strong farewell (永别了) by itself; the act under
    way or at the place, a means ready or a plan → imminent (a time alone is not), and so is their
    in-progress cue whose own level alone is imminent."""
    k = h.kind
    now = get("time") or get("in_progress") or get("plan") or means_ready
    danger = (now and level >= Risk.medium and k != "passive") or (k == "farewell" and level >= Risk.high)
    if not danger:
        return min(level, Risk.medium)
    if k == "in_progress" and h.entry.alone and h.entry.alone >= Risk.imminent:
        return Risk.imminent  # their act under way by itself (我哥吞了一把安眠药): as imminent as the writer's
    acting = any(x.entry.alone and x.entry.alone >= Risk.high for x in get("in_progress")) or \
        bool(get("plan")) or means_ready
    return Risk.imminent if acting and k in CORE_KINDS else Risk.high


@lru_cache(maxsize=1)
def default_assessor() -> Assessor:
    """The process-wide assessor (lexicons loaded once, spaCy layer on, learned model as its file says)."""
    return Assessor()


def assess(text: str) -> Assessment:
    return default_assessor().assess(text)
