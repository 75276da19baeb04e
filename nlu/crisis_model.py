"""Learned, raise-only crisis signal: character n-gram logistic regression.

Two ordinal heads over the NORMALISED text (nlu/normalize.py), sharing one
vocabulary of character 1..3-grams (with ``^``/``$`` marking the text's edges):

* ``page``    — P(true level ≥ high: active ideation, plan, preparation, self-harm)
* ``concern`` — P(true level ≥ medium: also passive ideation, past attempt)
* ``imminent`` (optional, a third weight per n-gram) — P(true level = imminent: plan, means,
  time, act under way); it only turns a message that already pages (high, by the rules or the
  page head) into imminent: a shorter SLA and the top of the queue, never a new page

Features are binary presence, L2-normalised over the n-grams that are in the
vocabulary (x_g = 1/sqrt(k) for each of the k known n-grams present), so a score is
``intercept + sum(weights) / sqrt(k)``. Pure Python at run time: one dict look-up per
n-gram, no numpy.

The model only ever RAISES what the rules said (``Assessment.raised_to``):
``p_page ≥ thresholds.page`` → high (signal ``model:page(0.93)``), else
``p_concern ≥ thresholds.concern`` → medium (``model:concern(0.71)``). Guards
(chosen by cross-validation, stored in the file): no raise when the rules matched a
hyperbole/news cue and no crisis cue (rules level below medium); no raise when the
rules saw a crisis word negated or as general talk and kept it below medium;
optionally no page raise over a third-party assessment. Always: no page raise when
the rules saw a past/recovery marker (they cap such messages at medium).

The weights are data, committed as ``nlu/model/crisis_ngram_lr.json`` and produced
by ``python -m nlu.crisis_model_train`` (trained only on the PsySUICIDE dev split, the PsyGUARD
test split, the own dev sets and the chatbot's ordinary examples; hyperparameters and thresholds
by k-fold CV inside them).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from nlu.risk import Assessment, Risk, whose

MODEL_PATH = Path(__file__).with_name("model") / "crisis_ngram_lr.json"
FORMAT = "xinyi-crisis-ngram-lr/1"
_GUARD_KINDS = ("hyperbole:", "news:")
_DEFUSED_KINDS = ("negation:", "generic:")
_CAPPED_KINDS = ("past:", "recovery:")


def ngrams(norm: str, nmax: int = 3) -> set[str]:
    """Character 1..nmax-grams of the normalised text, edges marked by ^ and $."""
    s = f"^{norm}$"
    out = set(norm)
    n = len(s)
    for k in range(2, nmax + 1):
        for i in range(n - k + 1):
            out.add(s[i:i + k])
    return out


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def content_hash(model: dict) -> str:
    """sha256 over what decides the scores (features, weights, thresholds, guards)."""
    core = {k: model[k] for k in ("format", "features", "intercepts", "thresholds", "guards", "weights")}
    return hashlib.sha256(json.dumps(core, ensure_ascii=False, sort_keys=True,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Scores:
    page: float
    concern: float
    imminent: float = 0.0


class CrisisModel:
    def __init__(self, data: dict):
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {data.get('format')!r}")
        self.data = data
        self.nmax = int(data["features"]["ngram_max"])
        self.b_page = float(data["intercepts"]["page"])
        self.b_concern = float(data["intercepts"]["concern"])
        self.b_imminent = float(data["intercepts"].get("imminent", 0.0))
        # gram -> (w_page, w_concern, w_imminent); models without the imminent head store two
        self.weights: dict[str, tuple[float, float, float]] = {
            g: (float(w[0]), float(w[1]), float(w[2]) if len(w) > 2 else 0.0) for g, w in data["weights"].items()}
        self.t_page = float(data["thresholds"]["page"])
        self.t_concern = float(data["thresholds"]["concern"])
        self.t_imminent = float(data["thresholds"].get("imminent", 1.01))  # absent: the head never fires
        g = data["guards"]
        self.guard_hyperbole_news = bool(g["hyperbole_news"])
        self.guard_negated = bool(g["negated_or_generic"])
        self.guard_third_party = bool(g["third_party_no_page"])
        self.enabled_by_default = bool(data.get("enabled_by_default", False))

    @classmethod
    def load(cls, path: Path | str = MODEL_PATH) -> "CrisisModel":
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def scores(self, norm: str) -> Scores:
        w = self.weights
        sp = sc = si = 0.0
        k = 0
        for g in ngrams(norm, self.nmax):
            t = w.get(g)
            if t is not None:
                sp += t[0]
                sc += t[1]
                si += t[2]
                k += 1
        if k:
            r = 1.0 / math.sqrt(k)
            sp *= r
            sc *= r
            si *= r
        return Scores(_sigmoid(self.b_page + sp), _sigmoid(self.b_concern + sc), _sigmoid(self.b_imminent + si))

    def guarded(self, rules: Assessment) -> bool:
        """The rules read the message and defused it: the model must not raise.

        hyperbole/news: the rules matched a hyperbole or news cue and no crisis cue
        (level below medium). negated_or_generic: a crisis word the rules saw negated
        (不想自杀) or as general talk (自杀的人, 预防自杀) and so kept below medium — a bag
        of n-grams cannot read negation, the rules can.
        """
        if rules.risk >= Risk.medium:
            return False
        if self.guard_hyperbole_news and any(s.startswith(_GUARD_KINDS) for s in rules.signals):
            return True
        return self.guard_negated and any(s.startswith(_DEFUSED_KINDS) for s in rules.signals)

    @staticmethod
    def capped(rules: Assessment) -> bool:
        """The rules saw a past/recovery marker (以前想过, 现在好多了): they cap at medium, so does the model."""
        return any(s.startswith(_CAPPED_KINDS) for s in rules.signals)

    def apply(self, rules: Assessment, s: Scores) -> Assessment:
        """Raise-only combination of the rules' assessment with the model's scores."""
        if self.guarded(rules):
            return rules
        if rules.risk == Risk.high:
            return self.urgent(rules, s)
        cat = whose(rules.category) if rules.risk >= Risk.medium else "self"
        if s.page >= self.t_page:
            if rules.category == "third_party" and self.guard_third_party or self.capped(rules):
                return rules.raised_to(Risk.medium, cat, f"model:page({s.page:.2f})")
            return self.urgent(rules.raised_to(Risk.high, cat, f"model:page({s.page:.2f})"), s)
        if s.concern >= self.t_concern:
            return rules.raised_to(Risk.medium, cat, f"model:concern({s.concern:.2f})")
        return rules

    def urgent(self, paged: Assessment, s: Scores) -> Assessment:
        """A message that pages (high) is imminent when the imminent head says so (never if capped)."""
        if paged.risk == Risk.high and s.imminent >= self.t_imminent and not self.capped(paged):
            return paged.raised_to(Risk.imminent, paged.category, f"model:imminent({s.imminent:.2f})")
        return paged

    def raise_(self, rules: Assessment, norm: str) -> Assessment:
        if rules.risk >= Risk.imminent or (rules.risk == Risk.high and self.t_imminent > 1.0) or self.guarded(rules):
            return rules  # nothing to raise (or not allowed to): skip the scoring
        return self.apply(rules, self.scores(norm))
