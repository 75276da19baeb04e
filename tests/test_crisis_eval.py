"""Eval floors: a lexicon (or model) regression must fail CI.

Own held-out v1 meets the issue's targets, with and without the learned model. Nothing else does:
floors are the measured values (raise them as things improve). Measured 2026-11-23 (a later
session), after the eighth lexicon round (tuned on dev11) and the model retrained with dev11 and dev12
(its CV chose ngram_max 2, l2 1e-5; it combines the model with the rules' untuned assessments of
dev3–dev12, see nlu/rules_snapshot.py):

  set                        default (rules + model)                 rules only
  valid dev                  page 0.950 concern 0.973 fp 0.009       0.950 / 0.973 / 0.009
  valid aside (held out)     page 0.914 concern 0.882 fp 0.014       0.914 / 0.853 / 0.014
  PsyGUARD test (tuned)      page 0.966 concern 0.960 fp 0.012       0.961 / 0.960 / 0.012
  own held-out v3 (50 of 160 seen) page 0.954 imm 1.000 concern 1.000 fp 0.015   rules page 0.908
  own held-out v4 (never read)     page 0.879 imm 0.955 concern 0.830 fp 0.030   rules page 0.793
  own held-out v5 (never read)     page 0.739 imm 0.739 concern 0.914 fp 0.048   rules page 0.661
  own held-out v6 (never read)     page 0.838 imm 0.848 concern 0.919 fp 0.042   rules page 0.728
  own held-out v7 (never read)     page 0.831 imm 0.838 concern 0.855 fp 0.020   rules page 0.696
  own held-out v8 (never read)     page 0.841 imm 0.867 concern 0.933 fp 0.020   rules page 0.773
  own held-out v9 (never read)     page 0.799 imm 0.769 concern 0.825 fp 0.005   rules page 0.691
  own held-out v10 (never read)    page 0.815 imm 0.873 concern 0.888 fp 0.015   rules page 0.699
  own held-out v11 (never read, measured at the start and at the end of that session)
                                   page 0.803 imm 0.808 concern 0.815 fp 0.015   rules page 0.634

Pooled over v4–v11 that session changed nothing in pages (1,512 of 1,841 before and after),
imminent 657 → 656 of 784, concern 690 → 692 of 798, false pages 28 → 25 of 1,293: the rules rose
on every never-read set (pooled rules-only pages +1 to +2 points), the retrained model added less on
top of them. Floors that lost items were lowered by what they lost (counts in the rows below); the
model was not chosen by these sets.

The session before (seventh round, dev10) raised or kept every floor but one: held-out v7 concern
151 → 150 of 179, its floor lowered with it.

The round before (the sixth, tuned on dev9) raised every never-read page and imminent floor. Four
floors were lowered with it, by one item each: held-out v5 concern 33 → 32 of 35, held-out v7 false
pages 6 → 7 of 298, and dev7 (trained on) concern 157 → 156 of 180 and false pages 5 → 6 of 298.
The model was not chosen by these sets.

Retrained with dev8 (2026-11-23, late): v4 page 97 → 96 of 116, v5 page 47 → 46 of 65 and imminent
16 → 15 of 23, v6 concern 53 → 51 of 62, v7 imminent 136 → 133 of 179 — all recovered or passed
this round except v5 imminent (18 of 23 now).

Retrained with dev5 and an imminent head (2026-11-22, later): PsyGUARD test concern went 0.960 →
0.953 (one item of 148) while concern on held-out v6 went 0.645 → 0.710, v3 0.833 → 0.900 and v4
0.745 → 0.766; its floor was lowered to 0.95 with it.

The aside's concern recall fell from 0.912 (the earlier concern-only model) to 0.853: two of its
34 items; the same retraining raised concern on held-out v4 from 0.532 to 0.745 and v5 from 0.571
to 0.886. That trade was accepted and its floors lowered with it.
"""
from pathlib import Path

import pytest

from nlu.assess import Assessor
from nlu.crisis_eval import (OWN_DEV, OWN_DEV2, OWN_DEV3, OWN_DEV4, OWN_DEV5, OWN_DEV6, OWN_DEV7, OWN_DEV8, OWN_DEV9, OWN_DEV10, OWN_DEV11, OWN_DEV12, OWN_HELDOUT, OWN_HELDOUT3, OWN_HELDOUT4,
                              OWN_HELDOUT5, OWN_HELDOUT6, OWN_HELDOUT7, OWN_HELDOUT8, OWN_HELDOUT9, OWN_HELDOUT10, OWN_HELDOUT11, PSY_DEFAULT, PSY_TEST, evaluate, own_items, psy_items)

RULES = Assessor(model=False)
WITH_MODEL = Assessor(model=True)


def m(name, items, assessor=None):
    return evaluate(name, items, assessor).overall.metrics()


@pytest.mark.parametrize("assessor", [None, RULES, WITH_MODEL], ids=["default", "rules", "rules+model"])
def test_own_heldout_targets(assessor):
    r = m("own-heldout", own_items(OWN_HELDOUT), assessor)
    assert r["page_recall"] >= 0.97 and r["imminent_recall"] >= 0.90 and r["false_page"] <= 0.03


@pytest.mark.parametrize("assessor, page, concern", [(None, 0.92, 0.96), (RULES, 0.92, 0.96), (WITH_MODEL, 0.92, 0.96)],
                         ids=["default", "rules", "rules+model"])
def test_own_dev_floors(assessor, page, concern):
    r = m("own-dev", own_items(OWN_DEV), assessor)
    assert r["page_recall"] >= page and r["imminent_recall"] >= 0.90 and r["concern_recall"] >= concern
    assert r["false_page"] <= 0.03


# Regression floors of the own sets (default assessor): page, imminent, concern ≥ and false-page ≤.
OWN_FLOORS = [
    # written independently, never tuned on; first measured page 0.569 / imminent 0.520 /
    # concern 0.633 / false-page 0.031, now 0.954 / 1.000 / 0.967 / 0.015
    ("own-heldout3", OWN_HELDOUT3, 0.95, 0.99, 0.99, 0.02),
    # held-out part of a 596-item pool (never read, never tuned on): first 0.336 / 0.318 / 0.383 /
    # 0.045 — far below the targets; now 0.871 / 0.955 / 0.808 / 0.030
    # (after the model retrained with dev11 and dev12, 2026-11-23: 0.879 / 0.955 / 0.830 / 0.030 — one page less)
    ("own-heldout4", OWN_HELDOUT4, 0.87, 0.95, 0.82, 0.03),
    # held-out quarter of a second pool (never read): first 0.477 / 0.261 / 0.571 / 0.095; now
    # 0.739 / 0.783 / 0.914 / 0.048
    # (after the retrain with dev11 and dev12: 0.739 / 0.739 / 0.914 / 0.048 — one imminent less, 17 of 23)
    ("own-heldout5", OWN_HELDOUT5, 0.73, 0.73, 0.91, 0.05),
    # held-out quarter of a third pool (eight briefs, 1,189 items; never read): first 0.625 /
    # 0.271 / 0.645 / 0.073; now 0.838 / 0.831 / 0.871 / 0.042
    ("own-heldout6", OWN_HELDOUT6, 0.83, 0.84, 0.91, 0.045),
    # a sixth pool (six more briefs, 891 items; never read), measured once with the final lexicons
    # and model of 2026-11-23: 0.773 / 0.760 / 0.816 / 0.027 (rules alone 0.616 / 0.520 / 0.575 / 0.017);
    # now 0.814 / 0.804 / 0.844 / 0.024
    # (after the retrain with dev11 and dev12: 0.831 / 0.838 / 0.855 / 0.020)
    ("own-heldout7", OWN_HELDOUT7, 0.83, 0.83, 0.85, 0.021),
    # an eighth pool (four more briefs, 594 items; never read), measured once with the final lexicons
    # and model of 2026-11-23 (late): 0.812 / 0.825 / 0.892 / 0.025 (rules alone 0.722 / 0.708 / 0.725 / 0.015);
    # now 0.838 / 0.842 / 0.925 / 0.025
    # (after the retrain with dev11 and dev12: 0.841 / 0.867 / 0.933 / 0.020 — three pages and one concern less)
    ("own-heldout8", OWN_HELDOUT8, 0.84, 0.86, 0.93, 0.021),
    # a tenth pool (four more briefs, 597 items; never read), measured once with the final lexicons
    # and model of 2026-11-23 (night): 0.799 / 0.777 / 0.817 / 0.010 (rules alone 0.666); now 0.806 /
    # 0.793 / 0.842 / 0.005
    # (after the retrain with dev11 and dev12: 0.799 / 0.769 / 0.825 / 0.005 — two pages, three imminent,
    # two concern less)
    ("own-heldout9", OWN_HELDOUT9, 0.79, 0.76, 0.82, 0.006),
    # a twelfth pool (four more briefs, 589 items; never read), measured once with the final lexicons
    # and model of 2026-11-23 (the next session): 0.808 / 0.873 / 0.888 / 0.020 (rules alone 0.685 /
    # 0.636 / 0.629 / 0.010)
    # (after the retrain with dev11 and dev12: 0.815 / 0.873 / 0.888 / 0.015)
    ("own-heldout10", OWN_HELDOUT10, 0.81, 0.87, 0.88, 0.016),
    # a fourteenth pool (four more briefs, 595 items; never read), measured first with the lexicons and
    # model as they were when it was written (2c93cbe): 0.814 / 0.825 / 0.798 / 0.015 (rules alone
    # 0.620 / 0.542 / 0.639 / 0.015); after lexicon round eight and the model retrained with dev11 and
    # dev12 (measured once more at the end of that session): 0.803 / 0.808 / 0.815 / 0.015 (rules alone
    # 0.634 / 0.550 / 0.664 / 0.015) — three pages and two imminent less, two concern more
    ("own-heldout11", OWN_HELDOUT11, 0.80, 0.80, 0.81, 0.016),
    # a thirteenth pool (six new briefs): first (before any tuning or training on it) 0.863 / 0.883 /
    # 0.803 / 0.027 (rules alone page 0.746); then tuned on (lexicon round eight) and trained on: 0.990 /
    # 0.983 / 0.983 / 0.000
    ("own-dev11", OWN_DEV11, 0.98, 0.98, 0.98, 0.0),
    # a fifteenth pool (four new briefs; training data only, no lexicon round tuned on it): first, with
    # the round-eight rules and the model before it was trained on it, 0.838 / 0.817 / 0.846 / 0.031
    # (rules alone page 0.708); trained on: 0.816 / 0.808 / 0.829 / 0.005 (the CV chose a more
    # regularised model, ngram_max 2, l2 1e-5, with a lower page threshold: fewer false pages)
    ("own-dev12", OWN_DEV12, 0.81, 0.80, 0.82, 0.006),
    # an eleventh pool (six new briefs): first (before any tuning or training on it) 0.797 / 0.765 /
    # 0.804 / 0.017; then tuned on (lexicon round seven) and trained on: 0.981 / 0.983 / 0.994 / 0.003
    ("own-dev10", OWN_DEV10, 0.98, 0.98, 0.99, 0.004),
    # a ninth pool (eight new briefs): first (before any tuning or training on it) 0.765 / 0.775 /
    # 0.756 / 0.013; then tuned on (lexicon round six) and trained on: 0.971 / 0.983 / 0.945 / 0.003
    ("own-dev9", OWN_DEV9, 0.97, 0.98, 0.95, 0.003),
    # a seventh pool (eight new briefs): first (before any tuning or training on it) 0.790 / 0.774 /
    # 0.788 / 0.033; then tuned on (lexicon round five) and trained on: 0.973 / 0.983 / 0.983 / 0.000
    ("own-dev8", OWN_DEV8, 0.97, 0.98, 0.98, 0.0),
    # a fifth pool (six new briefs): first (before the model was trained on it; lexicons never
    # tuned on it) 0.666 / 0.722 / 0.811 / 0.020; now, trained on: 0.843 / 0.878 / 0.867 / 0.0201
    # (after the retrain with dev11 and dev12, ngram_max 2: 0.819 / 0.861 / 0.856 / 0.020)
    ("own-dev7", OWN_DEV7, 0.81, 0.86, 0.85, 0.021),
    # a fourth pool (eight briefs): first 0.702 / 0.725 / 0.760 / 0.040, then tuned on
    # (0.986 / 0.983 / 1.000 / 0.000)
    ("own-dev6", OWN_DEV6, 0.98, 0.98, 0.99, 0.0),
    # dev part of the third pool: first 0.540 / 0.332 / 0.560 / 0.033, then tuned on (0.988 /
    # 0.995 / 0.977 / 0.000)
    # (after the retrain with dev11 and dev12: 0.988 / 1.000 / 0.983 / 0.000)
    ("own-dev5", OWN_DEV5, 0.98, 0.99, 0.97, 0.0),
    # dev part of the second pool: first 0.553 / 0.505 / 0.577 / 0.029, then tuned on
    ("own-dev4", OWN_DEV4, 0.99, 0.99, 0.99, 0.0),
    # dev part of the first pool: first 0.415 / 0.343 / 0.630 / 0.045, then tuned on
    ("own-dev3", OWN_DEV3, 0.99, 0.99, 0.99, 0.0),
    # written independently of the lexicons; first 0.769 / 0.680 / 0.633 / 0.031, then tuned on
    ("own-dev2", OWN_DEV2, 0.98, 0.99, 0.99, 0.0),
]


@pytest.mark.parametrize("name, path, page, imminent, concern, fp", OWN_FLOORS, ids=[f[0] for f in OWN_FLOORS])
def test_own_set_floors(name, path, page, imminent, concern, fp):
    r = m(name, own_items(path))
    assert r["page_recall"] >= page and r["imminent_recall"] >= imminent and r["concern_recall"] >= concern, r
    assert r["false_page"] <= fp, r


@pytest.mark.skipif(not Path(PSY_DEFAULT).exists(), reason="PsySUICIDE not present")
@pytest.mark.parametrize("part, page, concern, fp, assessor", [
    ("dev", 0.95, 0.97, 0.01, None), ("aside", 0.91, 0.85, 0.015, None),
    ("dev", 0.95, 0.96, 0.01, RULES), ("aside", 0.91, 0.85, 0.015, RULES),
    ("test", 0.96, 0.95, 0.014, None), ("test", 0.96, 0.95, 0.014, RULES),
], ids=["dev-default", "aside-default", "dev-rules", "aside-rules", "test-default", "test-rules"])
def test_psysuicide_floors(part, page, concern, fp, assessor):
    items = psy_items(PSY_TEST, "all") if part == "test" else psy_items(PSY_DEFAULT, part)
    r = m(part, items, assessor)
    assert r["page_recall"] >= page and r["concern_recall"] >= concern and r["false_page"] <= fp, r
