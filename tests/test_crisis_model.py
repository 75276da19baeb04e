"""The learned, raise-only crisis signal (nlu/crisis_model.py, nlu/model/crisis_ngram_lr.json)."""
import json
import os
from pathlib import Path

import pytest

from nlu.assess import Assessor
from nlu.crisis_eval import PSY_DEFAULT
from nlu.crisis_model import FORMAT, MODEL_PATH, CrisisModel, Scores, content_hash
from nlu.risk import Assessment, Risk

RULES = Assessor(use_spacy=False, model=False)
BOTH = Assessor(use_spacy=False, model=True)
MODEL = CrisisModel.load()


def test_model_file_loads_and_is_what_it_says():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT
    assert data["content_sha256"] == content_hash(data)  # weights not edited by hand without re-hashing
    assert len(data["training_set"]["sha256"]) == 64 and data["trained"]
    assert 0 < MODEL.t_page <= 1.01 and 0 < MODEL.t_concern <= 1.01
    assert BOTH.model is not None and RULES.model is None


def test_default_assessor_follows_the_files_cv_decision():
    on = Assessor(use_spacy=False).model is not None
    assert on == MODEL.enabled_by_default


def test_scores_are_deterministic_and_probabilities():
    for text in ("我想自杀", "嗯，有过这种想法", "今天天气怎么样", "", "a" * 500):
        norm = BOTH.normalize(text)
        s1, s2 = MODEL.scores(norm), CrisisModel.load().scores(norm)
        assert s1 == s2
        assert 0.0 <= s1.page <= 1.0 and 0.0 <= s1.concern <= 1.0


@pytest.mark.parametrize("rules", [
    Assessment(), Assessment(Risk.low, "none", ("distress:压力好大",)),
    Assessment(Risk.medium, "self", ("passive:活着没意思",)), Assessment(Risk.medium, "third_party", ("x:y",)),
    Assessment(Risk.high, "others", ("others:杀了他",)), Assessment(Risk.imminent, "self", ("plan:遗书",)),
])
@pytest.mark.parametrize("scores", [Scores(0.0, 0.0), Scores(0.0, 1.0), Scores(1.0, 1.0), Scores(1.0, 0.0),
                                    Scores(0.0, 0.0, 1.0), Scores(1.0, 1.0, 1.0)])
def test_model_only_raises(rules, scores):
    got = MODEL.apply(rules, scores)
    assert got.risk >= rules.risk
    assert got.signals[:len(rules.signals)] == rules.signals
    if got.risk > rules.risk:
        assert any(s.startswith("model:") for s in got.signals)
    if rules.risk >= Risk.medium:
        assert got.category == rules.category  # the rules' category is kept


def test_full_assessor_never_lower_than_rules():
    texts = ["我想自杀", "今晚就跳", "我朋友说他想死", "不想自杀，只是很累", "笑死我了", "有时候觉得活着是一种负担",
             "我同事现在站在楼顶上要跳", "我的信息会保密吗", "以前想过自杀，现在好多了"]
    for t in texts:
        assert BOTH.assess(t).risk >= RULES.assess(t).risk, t


@pytest.mark.parametrize("text", ["今天加班累死了", "笑死我了哈哈", "电脑又死机了，想死的心都有了", "开会说错话社死了",
                                  "新闻说发生了自杀式袭击", "据报道一名男子在桥上轻生被民警救下", "不想自杀，只是很累",
                                  "公司组织预防自杀的讲座"])
def test_hyperbole_news_and_negation_are_not_raised(text):
    a = BOTH.assess(text)
    assert a.risk < Risk.high, a
    assert a.risk == RULES.assess(text).risk, a  # guarded: the model adds nothing


def test_guard_blocks_even_a_certain_score():
    rules = Assessment(Risk.low, "none", ("hyperbole:累死",))
    assert MODEL.apply(rules, Scores(1.0, 1.0)) == rules


def _with_thresholds(page: float, concern: float, imminent: float | None = None) -> CrisisModel:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["thresholds"] = {"page": page, "concern": concern}
    if imminent is not None:
        data["thresholds"]["imminent"] = imminent
    return CrisisModel(data)


def test_imminent_head_only_makes_a_paging_message_imminent():
    m = _with_thresholds(0.5, 0.5, 0.5)
    high = Assessment(Risk.high, "self", ("intent:想死",))
    got = m.apply(high, Scores(0.1, 0.1, 0.9))
    assert got.risk == Risk.imminent and got.category == "self" and got.signals[-1] == "model:imminent(0.90)"
    assert m.apply(high, Scores(0.1, 0.1, 0.4)) == high
    # nothing pages: the imminent head alone never raises (no new page from it)
    assert m.apply(Assessment(), Scores(0.1, 0.1, 0.99)).risk == Risk.none
    assert m.apply(Assessment(Risk.medium, "self", ("passive:活着没意思",)), Scores(0.1, 0.9, 0.99)).risk == Risk.medium
    # the page head pages, the imminent head makes it imminent
    got = m.apply(Assessment(), Scores(0.9, 0.9, 0.9))
    assert got.risk == Risk.imminent and got.signals == ("model:page(0.90)", "model:imminent(0.90)")
    # past/recovery: the rules cap at medium, so does the model
    past = Assessment(Risk.high, "self", ("past:以前", "intent:自杀"))
    assert m.apply(past, Scores(0.1, 0.1, 0.99)) == past


def test_a_model_without_the_imminent_head_never_makes_anything_imminent():
    m = _with_thresholds(0.5, 0.5)  # no "imminent" threshold: the head is off
    high = Assessment(Risk.high, "self", ("intent:想死",))
    assert m.t_imminent > 1.0 and m.apply(high, Scores(0.9, 0.9, 1.0)) == high


def test_model_signal_is_named_with_its_score():
    rules = Assessment()
    got = _with_thresholds(0.5, 0.5).apply(rules, Scores(0.999, 0.999))
    assert got.risk == Risk.high and got.signals == ("model:page(1.00)",)
    got = _with_thresholds(1.01, 0.5).apply(rules, Scores(0.999, 0.7))
    assert got.risk == Risk.medium and got.signals == ("model:concern(0.70)",)


def test_page_head_off_means_the_model_never_pages():
    """The CV turned the page head off (nested estimate: no page gain within the false-page
    limit), so the committed model can only offer support (medium), never page."""
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    if data["cv"]["page_head"]:
        assert MODEL.t_page <= 1.0
    else:
        assert MODEL.t_page > 1.0
        assert MODEL.apply(Assessment(), Scores(1.0, 1.0)).risk == Risk.medium


def test_switchable_from_a_path(tmp_path):
    p = tmp_path / "m.json"
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["thresholds"] = {"page": 1.01, "concern": 1.01}  # never fires
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    a = Assessor(use_spacy=False, model=p)
    for t in ("嗯，有过这种想法", "我想自杀", "你好"):
        assert a.assess(t) == RULES.assess(t)


@pytest.mark.skipif(not Path(PSY_DEFAULT).exists(), reason="PsySUICIDE not present")
@pytest.mark.skipif(os.environ.get("XINYI_SKIP_RETRAIN") == "1", reason="XINYI_SKIP_RETRAIN=1")
def test_retrain_reproduces_the_committed_weights():
    """Refit with the committed hyperparameters/thresholds (no CV; ~5 s) → same content hash.

    The full command (with the cross-validation that picks them) takes ~10 min:
    `python -m nlu.crisis_model_train` and then `git diff nlu/model/` should show only the date.
    """
    from nlu.crisis_model_train import main
    assert main(["--check"]) == 0


def test_false_page_limits_count_only_what_the_model_adds():
    """The CV's limits are on false pages the model ADDS to the rules' (pooled and own sets):
    rules that already page many negatives must not leave the model no room, nor a free pass."""
    from nlu.crisis_model_train import OWN_EXTRA_FALSE_PAGE, within_false_page_limits
    base = {"neg_n": 2000, "neg_paged": 60, "own_neg_n": 1000, "own_neg_paged": 40}
    extra_pooled = int(0.005 * 2000)
    extra_own = int(OWN_EXTRA_FALSE_PAGE * 1000)
    ok = {**base, "neg_paged": 60 + min(extra_pooled, extra_own), "own_neg_paged": 40 + min(extra_pooled, extra_own)}
    assert within_false_page_limits(ok, base, 0.005)
    assert not within_false_page_limits({**base, "neg_paged": 60 + extra_pooled + 1}, base, 0.005)
    assert not within_false_page_limits({**base, "neg_paged": 60 + extra_pooled}, base, 0.005, share=0.8)
    assert not within_false_page_limits({**base, "neg_paged": 60 + extra_own + 1, "own_neg_paged": 40 + extra_own + 1},
                                        base, 0.05)


def test_lexicon_examples_train_but_are_never_scored(tmp_path):
    """The lexicons' example sentences are training rows only: the CV scores none of them (the
    rules catch them by construction), and the stored copy round-trips (so --check still
    reproduces the model after a lexicon edit)."""
    from nlu.crisis_model_train import Ex, cross_validate, stored_lexicon_examples, write_lexicon_examples
    path = tmp_path / "lexicon_examples.jsonl"
    write_lexicon_examples([{"text": "我想自杀", "risk": "high", "where": "x.yaml:1"},
                            {"text": "累死了", "risk": "none", "where": "y.yaml:2"}], path)
    assert stored_lexicon_examples(path) == [("我想自杀", Risk.high, "lex"), ("累死了", Risk.none, "lex")]
    own = ([Ex(f"不想活了{i}", f"不想活了{i}", Risk.high, "own", Assessment()) for i in range(10)]
           + [Ex(f"活着没意思{i}", f"活着没意思{i}", Risk.medium, "own", Assessment()) for i in range(10)]
           + [Ex(f"今天加班{i}", f"今天加班{i}", Risk.none, "own", Assessment()) for i in range(20)])
    lex = [Ex(f"我想自杀{i}", f"我想自杀{i}", Risk.high, "lex", Assessment()) for i in range(15)]
    cv = cross_validate(own + lex, 0.005, 0.01, log=lambda *a: None)
    n = cv["summary"]["rules_only"]["n"]
    assert (n["page"], n["concern"], n["negative"]) == (10, 10, 20)
