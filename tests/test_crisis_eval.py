"""Eval floors: a lexicon (or model) regression must fail CI.

Own held-out meets the issue's targets, with and without the learned model. Own dev no longer
does: 35 items were added for the learned signal (counselling-chat replies without lexicon cues,
terse answers, ordinary messages sharing characters with crisis talk), most of which the rules
miss — its floors are the measured values (page 0.833 rules / 0.852 with the model, which was
trained on them; concern 0.792; imminent 1.0; false-page 0.0). PsySUICIDE does NOT meet the
targets: floors are the measured values (dev 0.942 page / 0.964 concern / 0.011 false-page;
aside 0.897 / 0.824 / 0.014 rules, 0.017 false-page with the model, which is why the model is
off by default) — raise them as it improves.
"""
from pathlib import Path

import pytest

from nlu.assess import Assessor
from nlu.crisis_eval import OWN_DEV, OWN_HELDOUT, PSY_DEFAULT, evaluate, own_items, psy_items

RULES = Assessor(model=False)
WITH_MODEL = Assessor(model=True)


def m(name, items, assessor=None):
    return evaluate(name, items, assessor).overall.metrics()


@pytest.mark.parametrize("assessor", [None, RULES, WITH_MODEL], ids=["default", "rules", "rules+model"])
def test_own_heldout_targets(assessor):
    r = m("own-heldout", own_items(OWN_HELDOUT), assessor)
    assert r["page_recall"] >= 0.97 and r["imminent_recall"] >= 0.90 and r["false_page"] <= 0.03


@pytest.mark.parametrize("assessor, page", [(None, 0.83), (RULES, 0.83), (WITH_MODEL, 0.85)],
                         ids=["default", "rules", "rules+model"])
def test_own_dev_floors(assessor, page):
    r = m("own-dev", own_items(OWN_DEV), assessor)
    assert r["page_recall"] >= page and r["imminent_recall"] >= 0.90 and r["concern_recall"] >= 0.79
    assert r["false_page"] <= 0.03


@pytest.mark.skipif(not Path(PSY_DEFAULT).exists(), reason="PsySUICIDE not present")
@pytest.mark.parametrize("part, page, concern, fp, assessor", [
    ("dev", 0.94, 0.96, 0.02, None), ("aside", 0.89, 0.82, 0.02, None),
    ("dev", 0.95, 0.96, 0.02, WITH_MODEL), ("aside", 0.89, 0.82, 0.02, WITH_MODEL),
], ids=["dev-default", "aside-default", "dev-model", "aside-model"])
def test_psysuicide_floors(part, page, concern, fp, assessor):
    r = m(part, psy_items(PSY_DEFAULT, part), assessor)
    assert r["page_recall"] >= page and r["concern_recall"] >= concern and r["false_page"] <= fp
