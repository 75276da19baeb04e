"""Eval floors: a lexicon regression must fail CI.

Own sets meet the issue's targets (held-out imminent 1.000 since the gap patterns). PsySUICIDE
does NOT meet them yet: its floors are the measured values (dev 0.942 page / 0.964 concern /
0.011 false-page; aside 0.897 / 0.824 / 0.014), asserted so they cannot silently drop —
raise them as it improves.
"""
from pathlib import Path

import pytest

from nlu.crisis_eval import OWN_DEV, OWN_HELDOUT, PSY_DEFAULT, evaluate, own_items, psy_items


def m(name, items):
    return evaluate(name, items).overall.metrics()


def test_own_heldout_targets():
    r = m("own-heldout", own_items(OWN_HELDOUT))
    assert r["page_recall"] >= 0.97 and r["imminent_recall"] >= 0.90 and r["false_page"] <= 0.03


def test_own_dev_targets():
    r = m("own-dev", own_items(OWN_DEV))
    assert r["page_recall"] >= 0.97 and r["imminent_recall"] >= 0.90 and r["false_page"] <= 0.03


@pytest.mark.skipif(not Path(PSY_DEFAULT).exists(), reason="PsySUICIDE not present")
@pytest.mark.parametrize("part, page, concern, fp", [("dev", 0.94, 0.96, 0.02), ("aside", 0.89, 0.82, 0.02)])
def test_psysuicide_floors(part, page, concern, fp):
    r = m(part, psy_items(PSY_DEFAULT, part))
    assert r["page_recall"] >= page and r["concern_recall"] >= concern and r["false_page"] <= fp
