"""Rules snapshots: what the rules said before tuning, and the trainer combining the model with it."""
import json

import pytest

from nlu import rules_snapshot
from nlu.crisis_eval import (OWN_DEV3, OWN_DEV4, OWN_DEV5, OWN_DEV6, OWN_DEV7, OWN_DEV8, OWN_DEV9, OWN_DEV10, OWN_DEV11, OWN_DEV12,
                             own_items)
from nlu.crisis_model_train import build_examples, untuned_rules
from nlu.assess import Assessor
from nlu.risk import Risk


def test_write_and_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(rules_snapshot, "SNAPSHOT_DIR", tmp_path)
    src = tmp_path / "tiny.yaml"
    src.write_text('items:\n  - {text: "我想自杀", risk: high, category: self}\n'
                   '  - {text: "今天天气很好", risk: none, category: none}\n', encoding="utf-8")
    path = rules_snapshot.write(src, note="test")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["set"] == "tiny.yaml" and len(data["rules_commit"]) == 40
    snap = rules_snapshot.load(src)
    assert snap["我想自杀"].risk == Risk.high and snap["今天天气很好"].risk == Risk.none


# dev3's snapshot was taken from a later commit than its first measurement (0.415): 0.437
@pytest.mark.parametrize("path, first_page", [(OWN_DEV3, 0.437), (OWN_DEV4, 0.553), (OWN_DEV5, 0.476),
                                              (OWN_DEV6, 0.610), (OWN_DEV7, 0.609), (OWN_DEV8, 0.646),
                                              (OWN_DEV9, 0.646), (OWN_DEV10, 0.635), (OWN_DEV11, 0.746), (OWN_DEV12, 0.708)],
                         ids=["dev3", "dev4", "dev5", "dev6", "dev7", "dev8", "dev9", "dev10", "dev11", "dev12"])
def test_committed_snapshots_cover_their_sets_and_show_the_untuned_rules(path, first_page):
    """Each snapshot covers its set and pages what the untuned rules paged (the first measurement
    in the set's header), not what today's tuned rules do."""
    snap = rules_snapshot.load(path)
    items = own_items(path)
    assert {it.text for it in items} <= set(snap)
    pages = [it for it in items if it.risk >= Risk.high]
    caught = sum(snap[it.text].risk >= Risk.high for it in pages) / len(pages)
    assert round(caught, 3) == first_page


def test_trainer_uses_the_snapshot_for_own_items_only():
    untuned = untuned_rules()
    text = next(iter(untuned))
    exs = build_examples([(text, Risk.high, "own"), (text, Risk.high, "psy")], Assessor(model=False), untuned)
    assert exs[0].rules == untuned[text]
    assert exs[1].rules == Assessor(model=False).assess_rules(exs[1].norm)
