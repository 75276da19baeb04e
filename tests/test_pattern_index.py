"""The pattern index may only skip patterns that cannot match: compare with running them all."""

import pytest

from nlu.assess import Assessor
from nlu.crisis_eval import OWN_DEV_SETS, PSY_TEST, own_items, psy_items
from nlu.crisis_model_train import chat_rows
from nlu.pattern_index import PatternIndex, anchors
from nlu.risk import Risk

A = Assessor(model=False, use_spacy=False)


def _texts():
    items = psy_items(PSY_TEST, "all")
    for p in OWN_DEV_SETS:
        items += own_items(p)
    return [A.normalize(it.text) for it in items] + [A.normalize(t) for t, _, _ in chat_rows()]


def test_index_finds_every_pattern_hit_on_the_eval_texts():
    texts = _texts()
    assert len(texts) > 2000
    for norm in texts:
        brute = {(m.start(), m.end(), e.term) for i, (rx, e) in enumerate(A._patterns) if not A._excluded(i, norm)
                 for m in rx.finditer(norm) if m.end() > m.start()}
        fast = {(h.start, h.end, h.entry.term) for h in A._pattern_hits(norm)}
        assert fast == brute, norm


def test_unless_excludes_the_whole_message_and_keeps_the_span_at_the_cue():
    # a giving-away pattern with unless: the span starts at the act, so the father named before it
    # is the subject (a \\A look-ahead would have started the span at 0 and made it the writer's)
    a = A.assess("我爸最近把他的手表和存款都分给我们了，我心里有点发毛")
    assert a.risk >= Risk.high and a.category == "third_party", a
    assert "farewell:把存款首饰都分了我很害怕" not in A.assess("我爸要搬家 把他的手表和存款都分给我们了，我心里有点发毛").signals


def test_index_skips_most_patterns_on_ordinary_text():
    n = len(A._patterns)
    assert len(A._pattern_index.candidates(A.normalize("你们的服务时间是几点到几点"))) < n // 5


@pytest.mark.parametrize("pattern, want", [
    ("想.{0,6}(?:自杀|跳楼)", {"自杀", "跳楼"}),          # a word class beats a single character
    ("(?:我|俺)~?在(?:天台|楼顶)", {"天台", "楼顶"}),
    ("a+bc", {"bc"}),
    ("(?:x|y)?abc", {"abc"}),                          # an optional group is not required
])
def test_anchors(pattern, want):
    assert anchors(pattern.replace("~?", "")) == frozenset(want)


def test_pattern_without_required_text_is_always_run():
    idx = PatternIndex([r"\w+", "死"])
    assert idx.always == [0] and idx.candidates("你好") == [0] and idx.candidates("死") == [0, 1]
