import pytest

from nlu.normalize import normalize


@pytest.mark.parametrize("raw, want", [
    ("我想自殺", "我想自杀"),
    ("活著沒意思", "活着没意思"),          # tw2s: 著 → 着 (t2s would leave 著)
    ("安眠藥已經吃了", "安眠药已经吃了"),
    ("遺書寫好了", "遗书写好了"),
    ("今晚就去跳樓", "今晚就去跳楼"),
    ("能死的彻底么", "能死的彻底么"),        # tw2s would turn 么 into 幺
    ("我想ＺＩＳＨＡ", "我想自杀"),           # full width + pinyin
    ("I Want To Kill Myself", "i want to kill myself"),
    ("我想自\u200b杀", "我想自杀"),           # zero width
    ("我想自 杀", "我想自杀"),
    ("自.杀", "自杀"),
    ("自-杀", "自杀"),
    ("自，杀", "自杀"),
    ("不 想 活 了", "不想活了"),
    ("想死死死死死", "想死"),
    ("好想紫砂", "好想自杀"),
    ("我要自鲨了", "我要自杀了"),
    ("想zs", "想自杀"),
    ("我想自s", "我想自杀"),
    ("s u i c i d e", "suicide"),
    ("💊💊💊 已经吃了", "药已经吃了"),
    ("买了一根🪢", "买了一根绳子"),
    ("⚰️等我", "棺材等我"),
    ("想去死🔪", "想去死刀"),
])
def test_normalize(raw, want):
    assert normalize(raw) == want


@pytest.mark.parametrize("raw", ["紫砂壶很好看", "zsh 配置", "发展趋势很好", "今天天气不错"])
def test_no_false_slang(raw):
    assert "自杀" not in normalize(raw) and "去死" not in normalize(raw)


@pytest.mark.parametrize("raw, want", [
    ("wo zai tian tai shang le", "我在天台上了"),
    ("wǒ bù xiǎng huó le", "我不想活了"),                      # tone marks
    ("ｗｏ ｙｉ ｊｉｎｇ ｃｈｉ ｌｅ ｙａｏ", "我已经吃了药"),           # full width; yao after 吃了 is 药
    ("buxiang huole, zhen de xiang si", "不想活了, 真的想死"),  # every run once one spells a cue
    ("tiao lou 就现在 17 lou", "跳楼就现在17楼"),
])
def test_pinyin_runs_are_read(raw, want):
    assert normalize(raw) == want


@pytest.mark.parametrize("raw", ["i'm on the bridge now", "ni hao", "you can die", "a ha ha", "hang in there",
                                 "women ming tian jian", "ok 2 ge"])
def test_pinyin_without_a_cue_and_english_stay_latin(raw):
    assert normalize(raw) == raw


def test_keeps_english_words_and_clauses():
    assert normalize("我很累, but i'm ok") == "我很累, but i'm ok"


def test_empty():
    assert normalize("") == ""


@pytest.fixture(scope="module")
def assessor_normalize():
    from nlu.assess import Assessor
    return Assessor(model=False, use_spacy=False).normalize


@pytest.mark.parametrize("raw, want", [
    ("wo xiang si le, zhen de", "我想死了, 真的"),              # 想死 is a pattern, not a single lexicon word
    ("zai daba shang le shui hen ji wo yao tiao le", "在da吧上了shuihenji我要跳了"),
])
def test_pinyin_is_read_when_that_reading_carries_a_risk_cue(assessor_normalize, raw, want):
    assert assessor_normalize(raw) == want


@pytest.mark.parametrize("raw", ["wo xiang qu shang ban", "jin wan chi huo guo", "women ming tian jian", "ni hao",
                                 "you can die", "i'm on the bridge now"])
def test_pinyin_without_a_risky_reading_stays_latin(assessor_normalize, raw):
    assert assessor_normalize(raw) == raw
