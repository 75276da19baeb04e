"""Crisis-assessment evaluation (the crisis half of `xinyi nlu eval`).

Sets: PsySUICIDE valid.json split deterministically by a hash of ``idx`` into a
dev part (~70 %, may be inspected and tuned on) and an aside part (~30 %, only
aggregate numbers are ever looked at); the PsyGUARD test split
(``nlu/eval/psyguard_test/``, same labels, no text shared with valid.json: tuned on
from its arrival, its first measurement is recorded in its README); and our own labelled YAML sets
``nlu/eval/crisis_dev.yaml`` (tuned on), ``nlu/eval/crisis_heldout.yaml``
(written before tuning, never tuned on; two items were once quoted while tuning), and two sets
written by someone who had not seen the lexicons or code: ``crisis_dev2.yaml`` (measured once,
then tuned on) and ``crisis_heldout3.yaml`` (never tuned on); then a pool of 596 written the same
way, split by a hash of the text into ``crisis_dev3.yaml`` (tuned on) and ``crisis_heldout4.yaml``
(never read, never tuned on); and a second pool of 599 (other briefs) split into
``crisis_dev4.yaml`` (tuned on) and ``crisis_heldout5.yaml`` (never read, never tuned on);
and a third pool of 1,189 (eight briefs) split into ``crisis_dev5.yaml`` (tuned on) and
``crisis_heldout6.yaml`` (never read, never tuned on); a fourth pool of 1,191 (eight new briefs)
is all ``crisis_dev6.yaml`` (tuned on; heldout4/5/6 measure it); a fifth pool of 897 (six new
briefs) is all ``crisis_dev7.yaml`` (training data for the model; measured once, never tuned on);
a sixth pool of 891 (six more briefs) is all ``crisis_heldout7.yaml`` (never read, never tuned or
trained on); a seventh pool of 1,188 (eight new briefs) is all ``crisis_dev8.yaml`` (dev); an eighth
pool of 594 (four more briefs) is all ``crisis_heldout8.yaml`` (never read, never tuned or trained on);
a ninth pool of 1,192 (eight new briefs) is all ``crisis_dev9.yaml`` (dev), and a tenth pool (four
more briefs) is all ``crisis_heldout9.yaml`` (never read, never tuned or trained on); an eleventh pool of
892 (six new briefs) is all ``crisis_dev10.yaml`` (dev), and a twelfth (four more briefs) is all
``crisis_heldout10.yaml`` (never read, never tuned or trained on); a thirteenth pool of 885 (six new briefs) is
all ``crisis_dev11.yaml`` (dev), and a fourteenth of 595 (four more briefs) is all
``crisis_heldout11.yaml`` (never read, never tuned or trained on); a fifteenth of 589 (four more
briefs) is all ``crisis_dev12.yaml`` (training data for the model; no lexicon round was tuned on it).

Metrics: page recall (true high/imminent assessed ≥ high), imminent recall (true
imminent assessed imminent), concern recall (true medium assessed ≥ medium),
false-page rate (true none/low assessed ≥ high). Misses go to ``var/`` (the text is
sensitive), never to stdout.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from nlu.risk import Risk

ROOT = Path(__file__).resolve().parent.parent
PSY_DEFAULT = Path("/work/shared/data/psysuicide/valid.json")
EVAL_DIR = Path(__file__).with_name("eval")
PSY_TEST = EVAL_DIR / "psyguard_test" / "test.jsonl"
OWN_DEV = EVAL_DIR / "crisis_dev.yaml"
OWN_HELDOUT = EVAL_DIR / "crisis_heldout.yaml"
# written independently of the lexicons and code (160 items each): dev2 was measured once, then
# tuned on (its first figures are in its header); heldout3 is never tuned on
OWN_DEV2 = EVAL_DIR / "crisis_dev2.yaml"
OWN_HELDOUT3 = EVAL_DIR / "crisis_heldout3.yaml"
# a pool of 596 written the same way by four helpers, split by a hash of the text: dev3 (366,
# tuned on) and heldout4 (230, never read, never tuned on); see their headers
OWN_DEV3 = EVAL_DIR / "crisis_dev3.yaml"
OWN_HELDOUT4 = EVAL_DIR / "crisis_heldout4.yaml"
# a second pool of 599 (other briefs), split by a hash of the text: dev4 (457) and heldout5 (142)
OWN_DEV4 = EVAL_DIR / "crisis_dev4.yaml"
OWN_HELDOUT5 = EVAL_DIR / "crisis_heldout5.yaml"
# a third pool of 1,189 (eight briefs), split by a hash of the text: dev5 (895) and heldout6 (294)
OWN_DEV5 = EVAL_DIR / "crisis_dev5.yaml"
OWN_HELDOUT6 = EVAL_DIR / "crisis_heldout6.yaml"
# a fourth pool of 1,191 (eight new briefs), all of it dev: the never-read sets above measure it
OWN_DEV6 = EVAL_DIR / "crisis_dev6.yaml"
# a fifth pool of 897 (six new briefs), all of it training data for the model (lexicons not tuned on it)
OWN_DEV7 = EVAL_DIR / "crisis_dev7.yaml"
# a sixth pool of 891 (six more briefs), all of it held out: never read, tuned or trained on
OWN_HELDOUT7 = EVAL_DIR / "crisis_heldout7.yaml"
# a seventh pool of 1,188 (eight new briefs), all of it dev
OWN_DEV8 = EVAL_DIR / "crisis_dev8.yaml"
# an eighth pool of 594 (four more briefs), all of it held out: never read, tuned or trained on
OWN_HELDOUT8 = EVAL_DIR / "crisis_heldout8.yaml"
# a ninth pool of 1,192 (eight new briefs), all of it dev; a tenth (four more briefs), all held out
OWN_DEV9 = EVAL_DIR / "crisis_dev9.yaml"
OWN_HELDOUT9 = EVAL_DIR / "crisis_heldout9.yaml"
# an eleventh pool of 892 (six new briefs), all of it dev; a twelfth (four more briefs), all held out
OWN_DEV10 = EVAL_DIR / "crisis_dev10.yaml"
OWN_HELDOUT10 = EVAL_DIR / "crisis_heldout10.yaml"
# a thirteenth pool of 885 (six new briefs), all of it dev; a fourteenth (four more briefs), all held out
OWN_DEV11 = EVAL_DIR / "crisis_dev11.yaml"
OWN_HELDOUT11 = EVAL_DIR / "crisis_heldout11.yaml"
# a fifteenth pool of 589 (four new briefs), all of it dev (training data; no lexicon round tuned on it)
OWN_DEV12 = EVAL_DIR / "crisis_dev12.yaml"
OWN_DEV_SETS = (OWN_DEV, OWN_DEV2, OWN_DEV3, OWN_DEV4, OWN_DEV5, OWN_DEV6, OWN_DEV7,
                OWN_DEV8, OWN_DEV9, OWN_DEV10, OWN_DEV11, OWN_DEV12)  # trained/tuned on; never a held-out one
# every own set by its report name, in report order
OWN_SETS = {"own-dev": OWN_DEV, "own-heldout": OWN_HELDOUT, "own-dev2": OWN_DEV2, "own-heldout3": OWN_HELDOUT3,
            "own-dev3": OWN_DEV3, "own-heldout4": OWN_HELDOUT4, "own-dev4": OWN_DEV4, "own-heldout5": OWN_HELDOUT5,
            "own-dev5": OWN_DEV5, "own-heldout6": OWN_HELDOUT6, "own-dev6": OWN_DEV6, "own-dev7": OWN_DEV7,
            "own-heldout7": OWN_HELDOUT7, "own-dev8": OWN_DEV8, "own-heldout8": OWN_HELDOUT8,
            "own-dev9": OWN_DEV9, "own-heldout9": OWN_HELDOUT9, "own-dev10": OWN_DEV10,
            "own-heldout10": OWN_HELDOUT10, "own-dev11": OWN_DEV11, "own-heldout11": OWN_HELDOUT11,
            "own-dev12": OWN_DEV12}
MISSES_DIR = ROOT / "var" / "crisis_eval"
NEVER_READ = frozenset({"psysuicide-aside", "own-heldout3", "own-heldout4", "own-heldout5", "own-heldout6",
                        "own-heldout7", "own-heldout8", "own-heldout9", "own-heldout10",
                        "own-heldout11"})  # no misses file written

# PsySUICIDE label → minimal expected Xinyi level (README beside valid.json).
# None = "judge by text" (aggression labels): reported, not scored.
UNRELATED = "与自杀/自伤/攻击行为无关"
EXPLORATION = "关于自杀的探索"
PSY_LEVEL = {
    UNRELATED: Risk.none,
    EXPLORATION: Risk.none,          # none..medium, never paged
    "被动自杀意图": Risk.medium,
    "自杀未遂": Risk.medium,
    "主动自杀意图": Risk.high,
    "自杀计划": Risk.high,
    "自杀准备行为": Risk.high,
    "自伤意图": Risk.high,
    "自伤行为": Risk.high,
    "他人攻击行为": None,
    "用户攻击行为": None,
}
PSY_CATEGORY = {"自伤意图": "self_harm", "自伤行为": "self_harm", "他人攻击行为": "others",
                "用户攻击行为": "others", UNRELATED: "none", EXPLORATION: "exploration"}


def psy_is_dev(idx: int) -> bool:
    """Deterministic 70/30 split on a hash of the record idx."""
    h = hashlib.sha256(f"psysuicide:{idx}".encode()).hexdigest()
    return int(h[:8], 16) % 100 < 70


@dataclass
class Item:
    text: str
    risk: Risk | None          # expected level (None: not scored)
    category: str
    groups: tuple[str, ...]    # source / tags for the breakdown
    ref: str = ""


def psy_records(path: Path) -> list[dict]:
    """valid.json (a JSON array) or our JSON-lines copy of the test split."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def psy_items(path: Path = PSY_DEFAULT, part: str = "dev") -> list[Item]:
    """PsySUICIDE records as items; part "dev"/"aside" (valid.json's split) or "all"."""
    out = []
    for r in psy_records(path):
        if part != "all" and psy_is_dev(r["idx"]) != (part == "dev"):
            continue
        levels = [PSY_LEVEL[l] for l in r["labels"]]
        scored = [lv for lv in levels if lv is not None]
        risk = max(scored) if scored else None
        main = max(r["labels"], key=lambda l: (PSY_LEVEL[l] or -1))
        cat = PSY_CATEGORY.get(main, "self")
        out.append(Item(r["text"], risk, cat, (f"source:{r['data_source']}", f"label:{main}"), ref=str(r["idx"])))
    return out


def own_items(path: Path) -> list[Item]:
    data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, it in enumerate(data["items"]):
        out.append(Item(str(it["text"]), Risk[it["risk"]], it["category"],
                        tuple(f"tag:{t}" for t in it.get("tags", [])) + (f"category:{it['category']}",), ref=str(i)))
    return out


@dataclass
class Counts:
    page_n: int = 0
    page_hit: int = 0
    imm_n: int = 0
    imm_hit: int = 0
    concern_n: int = 0
    concern_hit: int = 0
    neg_n: int = 0
    neg_paged: int = 0
    unscored: int = 0
    unscored_paged: int = 0

    def add(self, want: Risk | None, got: Risk) -> list[str]:
        missed = []
        if want is None:
            self.unscored += 1
            self.unscored_paged += got >= Risk.high
            return missed
        if want >= Risk.high:
            self.page_n += 1
            if got >= Risk.high:
                self.page_hit += 1
            else:
                missed.append("page")
        if want == Risk.imminent:
            self.imm_n += 1
            if got == Risk.imminent:
                self.imm_hit += 1
            else:
                missed.append("imminent")
        if want == Risk.medium:
            self.concern_n += 1
            if got >= Risk.medium:
                self.concern_hit += 1
            else:
                missed.append("concern")
        if want <= Risk.low:
            self.neg_n += 1
            if got >= Risk.high:
                self.neg_paged += 1
                missed.append("false_page")
        return missed

    @staticmethod
    def _r(a: int, n: int) -> float | None:
        return round(a / n, 4) if n else None

    def metrics(self) -> dict:
        return {
            "page_recall": self._r(self.page_hit, self.page_n), "page_n": self.page_n,
            "imminent_recall": self._r(self.imm_hit, self.imm_n), "imminent_n": self.imm_n,
            "concern_recall": self._r(self.concern_hit, self.concern_n), "concern_n": self.concern_n,
            "false_page": self._r(self.neg_paged, self.neg_n), "negative_n": self.neg_n,
            **({"unscored_paged": f"{self.unscored_paged}/{self.unscored}"} if self.unscored else {}),
        }


@dataclass
class Report:
    name: str
    overall: Counts = field(default_factory=Counts)
    groups: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    misses: list[dict] = field(default_factory=list)


def evaluate(name: str, items: list[Item], assessor=None) -> Report:
    if assessor is None:
        from nlu.assess import default_assessor
        assessor = default_assessor()
    rep = Report(name)
    for it in items:
        a = assessor.assess(it.text)
        missed = rep.overall.add(it.risk, a.risk)
        for g in it.groups:
            rep.groups[g].add(it.risk, a.risk)
        if missed:
            rep.misses.append({"ref": it.ref, "text": it.text, "want": it.risk.name if it.risk is not None else None,
                               "got": a.risk.name, "category": a.category, "missed": missed,
                               "signals": list(a.signals)})
    return rep


def _fmt(m: dict) -> str:
    def f(k):
        v = m[k]
        return "  -  " if v is None else f"{v:.3f}"
    s = (f"page {f('page_recall')} (n={m['page_n']})  imminent {f('imminent_recall')} (n={m['imminent_n']})  "
         f"concern {f('concern_recall')} (n={m['concern_n']})  false-page {f('false_page')} (n={m['negative_n']})")
    if "unscored_paged" in m:
        s += f"  unscored paged {m['unscored_paged']}"
    return s


def run_all(psy_path: Path | None = PSY_DEFAULT, assessor=None, write_misses: bool = True,
            show_aside_misses: bool = False, suffix: str = "") -> dict[str, Report]:
    sets: dict[str, list[Item]] = {}
    if psy_path is not None and Path(psy_path).exists():
        sets["psysuicide-dev"] = psy_items(psy_path, "dev")
        sets["psysuicide-aside"] = psy_items(psy_path, "aside")
    sets["psyguard-test"] = psy_items(PSY_TEST, "all")
    for name, path in OWN_SETS.items():
        if path.exists():
            sets[name] = own_items(path)
    reports = {name: evaluate(name, items, assessor) for name, items in sets.items()}
    if write_misses:
        MISSES_DIR.mkdir(parents=True, exist_ok=True)
        for name, rep in reports.items():
            if name in NEVER_READ and not show_aside_misses:
                continue  # never look at a held-out set's individual misses
            with (MISSES_DIR / f"{name}{suffix}.misses.jsonl").open("w", encoding="utf-8") as f:
                for m in rep.misses:
                    f.write(json.dumps(m, ensure_ascii=False) + "\n")
    return reports


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="xinyi nlu eval --crisis", description=__doc__.splitlines()[0])
    ap.add_argument("--psysuicide", default=str(PSY_DEFAULT), help="path to PsySUICIDE valid.json")
    ap.add_argument("--no-spacy", action="store_true", help="prefilter/substring layer only")
    ap.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ap.add_argument("--model", choices=("both", "on", "off"), default="both",
                    help="learned raise-only signal (nlu/crisis_model.py): report with it, without it, or both")
    args = ap.parse_args(argv)
    from nlu.assess import Assessor
    use_spacy = not args.no_spacy
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.model]
    out: dict = {}
    for with_model in modes:
        assessor = Assessor(use_spacy=use_spacy, model=with_model)
        if with_model and assessor.model is None:
            print("no model file (nlu/model/crisis_ngram_lr.json): rules only", file=sys.stderr)
        label = "rules+model" if with_model else "rules"
        reports = run_all(Path(args.psysuicide), assessor, suffix="" if with_model else ".rules")
        out[label] = {name: {"all": rep.overall.metrics(), **{g: c.metrics() for g, c in sorted(rep.groups.items())}}
                      for name, rep in reports.items()}
        if args.json:
            continue
        print(f"######## {label}")
        for name, rep in reports.items():
            print(f"== {name} [{label}]: {_fmt(rep.overall.metrics())}")
            for g, c in sorted(rep.groups.items()):
                print(f"   {g:28s} {_fmt(c.metrics())}")
    if args.json:
        print(json.dumps(out if len(modes) > 1 else next(iter(out.values())), ensure_ascii=False, indent=1))
        return 0
    print(f"misses (text, sensitive) written to {MISSES_DIR}/ (*.rules.* without the model; held-out sets: none written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
