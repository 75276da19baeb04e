import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.assess import Assessor, default_assessor
from nlu.lexicon_load import LexiconError, load
from nlu.risk import Risk

A = default_assessor()
RULES = Assessor(model=False)  # what the lexicons alone do (the learned signal may raise on top)


def check(text):
    return A.assess(text)


@pytest.mark.parametrize("entry", load().all_entries, ids=lambda e: e.where.rsplit("/", 1)[-1] + " " + e.signal)
def test_every_lexicon_example_fires_its_entry_at_its_level(entry):
    a = RULES.assess(entry.example)
    assert any(f"{entry.kind}:{v}" in a.signals for v in entry.variants), (entry.where, a)
    assert a.risk == entry.level, (entry.where, a)
    if entry.level >= Risk.medium:
        assert a.category == entry.category, (entry.where, a)


def test_design_smoke_lines():
    assert check("我想自杀").risk >= Risk.high
    assert check("今天加班累死了").risk <= Risk.low


@pytest.mark.parametrize("text", [
    "今天加班累死了", "笑死我了哈哈", "烦死了", "气死我了", "饿死了", "热死了",
    "电脑又死机了，想死的心都有了", "开会说错话社死了", "原地去世", "电脑要杀毒", "今天杀青",
    "双十一秒杀", "新闻说发生了自杀式袭击", "商场跳楼价", "周末玩剧本杀", "lol i'm dead",
    "据报道一名男子在桥上轻生被民警救下", "我应该给狗狗安乐死吗",
])
def test_hyperbole_and_news_do_not_page(text):
    assert check(text).risk < Risk.high


@pytest.mark.parametrize("text, level, category", [
    ("我想自殺", Risk.high, "self"),                 # traditional
    ("活著沒意思", Risk.medium, "self"),
    ("我想自 杀", Risk.high, "self"),                # spaced
    ("自.杀", Risk.high, "self"),
    ("好想紫砂", Risk.high, "self"),                  # slang
    ("真想zisha", Risk.high, "self"),
    ("i want to kill myself", Risk.high, "self"),     # English
    ("我今晚就去跳楼", Risk.imminent, "self"),
    ("遗书写好了", Risk.imminent, "self"),
    ("药攒够了", Risk.imminent, "self"),
    ("💊💊💊 已经吃了 再见", Risk.imminent, "self"),  # emoji
    ("我又自残了", Risk.high, "self_harm"),
    ("永别了，谢谢你们", Risk.high, "self"),
    ("我真想杀了他", Risk.high, "others"),
    ("我同事说他想死", Risk.medium, "third_party"),   # third party
    ("我朋友在楼顶，说今晚要跳下去", Risk.imminent, "third_party"),  # someone else at the place now
    ("我爸说他今晚就去死", Risk.high, "third_party"),                   # a time alone: high
    ("我哥吞了一把安眠药 还有气 120还没到", Risk.imminent, "third_party"),  # their act under way
    ("一想起她跟那个男的就拿头撞墙 撞到缝了针", Risk.high, "self_harm"),  # 想起她: she is what I think of
    ("我同事给我发消息说永别了 谢谢你这些年照顾", Risk.high, "third_party"),  # their farewell
    ("以前想过自杀，现在好多了", Risk.medium, "self"),
    # passive ideation said at a dangerous place is the writer there now, not a mood
    ("我在天台上 觉得活着真没意思", Risk.imminent, "self"),
    ("在桥上站了好久 好想消失", Risk.imminent, "self"),
    ("在江边钓鱼 活着真没意思", Risk.medium, "self"),
    ("不如死了算了", Risk.medium, "self"),
    # subject rules: 我 inside 我想 still names the writer; a person named inside the gap of
    # 想…自杀 is not the one who wants to die; someone else's passive talk is not paged
    ("我老公不管，他回家了。我想自杀解脱", Risk.high, "self"),
    ("我想在他面前自杀", Risk.high, "self"),
    ("医生我想去死活着觉得很痛苦", Risk.high, "self"),
    ("与妻子吵架摔了平板心有自杀念头", Risk.high, "self"),
    ("她现在觉得自己活着太累", Risk.medium, "third_party"),
    # a person after 照顾/陪/带/给了 … is an object, not the subject; a colon ends a clause
    ("照顾孩子好累 想自杀", Risk.high, "self"),
    ("我是心理委员，想请教一下：同学跟我说有自杀念头怎么办", Risk.medium, "third_party"),
    # a vague threat with only a day stays a vague threat; with a weapon at hand it is imminent
    ("今天不把钱给我，谁都别想好过", Risk.medium, "others"),
    ("刀带着了 今天不给钱谁都别想好过", Risk.imminent, "others"),
    # pinyin typed instead of characters
    ("wo bu xiang huo le", Risk.high, "self"),
])
def test_levels(text, level, category):
    """The rules give exactly this; the learned signal may only add urgency (its imminent head
    can make a paging message imminent: 我朋友在楼顶，说今晚要跳下去)."""
    a = RULES.assess(text)
    assert (a.risk, a.category) == (level, category), a
    d = check(text)
    assert d.risk >= level and (d.category == category or level < Risk.medium), d


@pytest.mark.parametrize("text", ["我不想自杀", "我没想过死", "放心，我不会自杀的", "我不想死，只是想换工作",
                                  "我会希望她不要自杀", "怎么去劝一个人不自杀，好好活着"])
def test_negation(text):
    assert check(text).risk <= Risk.low


@pytest.mark.parametrize("text, level", [("是不是我死了就好了", Risk.medium), ("我是不是该去死", Risk.high),
                                         ("你说我想不想死", Risk.high)])
def test_a_not_a_question_is_not_a_negation(text, level):
    """是不是 / 想不想 ask; the 不 inside them negates nothing (是不是我死了就好了 was read as 不是 + 我死了)."""
    assert check(text).risk == level


def test_benign_is_none_and_prefilter_rejects():
    for text in ["我想预约心理咨询", "工会热线是多少", "今天心情不错", ""]:
        assert check(text).risk == Risk.none
    assert not A.prefilter(A.normalize("工会热线是多少"))


def test_signals_are_readable():
    a = check("我今晚就自杀")
    assert "intent:自杀" in a.signals and "time:今晚" in a.signals


def test_without_spacy_agrees_on_smoke_lines():
    b = Assessor(use_spacy=False)
    for text in ["我想自杀", "今天加班累死了", "我今晚就去跳楼"]:
        assert b.assess(text).risk == A.assess(text).risk


def test_raised_to_never_lowers():
    a = check("我今晚就去跳楼")
    assert a.raised_to(Risk.low, "none", "rasa:venting").risk == Risk.imminent


@pytest.mark.parametrize("name, body, match", [
    # an unknown level
    ("bad.yaml", "kind: intent\nentries:\n  - {term: x, level: high, category: self, example: x}\n"
                 "  - {term: y, level: huge, category: self, example: y}\n", r"bad.yaml:4"),
    # medium or more must name whose risk it is
    ("p.yaml", "patterns:\n  - {term: x, kind: hyperbole, pattern: x, level: low, category: none, example: x}\n"
               "  - {term: y, kind: hyperbole, pattern: y, level: medium, category: none, example: y}\n",
     r"p.yaml:3.*whose risk"),
    # a pattern naming a class that does not exist
    ("p.yaml", "classes: {A: [x]}\npatterns:\n"
               "  - {term: t, kind: intent, pattern: '{B}~2y', level: high, category: self, example: x}\n",
     r"p.yaml:3.*unknown class"),
], ids=["unknown-level", "medium-category-none", "unknown-class"])
def test_a_bad_lexicon_file_is_reported_with_file_and_line(tmp_path, name, body, match):
    (tmp_path / name).write_text(body, encoding="utf-8")
    with pytest.raises(LexiconError, match=match):
        load(tmp_path)


@pytest.mark.parametrize("text, level", [
    ("我想找个没人的地方安静地死掉", Risk.high),      # gap pattern
    ("有想过死", Risk.high),                          # counselling-chat reply
    ("我吞过一次药，没死成", Risk.medium),            # past attempt
    ("绳子我已经系好了", Risk.imminent),               # preparation
    ("刚买了把水果刀，今晚动手", Risk.imminent),       # means + near time
    ("我现在坐在楼顶边上", Risk.imminent),             # at an edge, now
    ("今天热得要死", Risk.low),                        # hyperbole pattern
    ("高中生害怕死亡", Risk.none),                     # fear of death is not ideation
    ("我想结束这段关系", Risk.none),
    ("今天买了把水果刀切西瓜", Risk.none),
    ("我家阳台的绳子已经挂好了，衣服可以晾了", Risk.none),
])
def test_gap_patterns(text, level):
    assert check(text).risk == level, check(text)


# Cues written for one area that misfired on ordinary messages of another (the lexicon files
# sh_*, fw_*, op_*, ng2_* were extended in parallel); each was fixed at its root entry.
@pytest.mark.parametrize("text", [
    "is 2 paracetamol enough for a headache",
    "割腕了会留疤吗",                                  # a question about scars: at most medium
    "我把剩下的消炎药都吃了",
    "感冒药都吃了 还是发烧",
    "婚礼的事我已经想好了 就差定个日子",
    "今年是鼠年 想鼠宝宝了",
    "我要跳出去这个圈子",
    "我在天台上打电话 信号好 先不下去了",
    "哪栋楼够高 能拍到全城夜景",
    "我现在坐在窗台上发呆",
    "我想一个人安安静静地走走",
    "同事说了句再见就下班了 电话打不通，估计在地铁里",
    "存款都转给我妈了，她帮我理财",
    "吃了安眠药半夜不会醒",
    "想过 上周还试过 没成功 那个蛋糕太难了",
    "喝了一整瓶啤酒",                                  # 刚喝了农药 took any 一整瓶 (2026-11-23)
    "对不起大家 今晚加班别等我了",
    "我妈把银行卡密码告诉我了 让我帮她取钱",
])
def test_cross_area_look_alikes_do_not_page(text):
    """The lexicons alone. The learned signal's own false pages are measured by its CV and the eval
    sets, not here (it does page 我把剩下的消炎药都吃了: recorded in the closing note of 2026-11-22)."""
    assert RULES.assess(text).risk < Risk.high, RULES.assess(text)


@pytest.mark.parametrize("text", [
    "老鼠药已经吃了 今晚别管我",
    "我把老鼠药放进他的饭里了",
    "奶奶走了 我活着也没意思 想去找她",
])
def test_cross_area_true_messages_page(text):
    assert check(text).risk >= Risk.high, check(text)


@pytest.mark.parametrize("text, level", [("以前想过死 现在好多了", Risk.medium), ("以前割过腕 现在不会了", Risk.medium),
                                         ("去年被机器压了手 工伤赔了六万 我跟你说实话 我已经不想活了", Risk.high)])
def test_a_past_marker_caps_only_until_the_story_comes_back_to_now(text, level):
    """去年/以前 caps what follows at medium, unless 现在/最近/又/已经 … bring the story back to now."""
    assert RULES.assess(text).risk >= level and (level >= Risk.high or RULES.assess(text).risk == level)


@pytest.mark.parametrize("text", ["吃了一整瓶安眠药", "我刚吞了一整板药", "喝了一整瓶白酒 又吃了一整瓶安眠药"])
def test_a_cue_written_for_someone_else_is_the_writers_when_nobody_else_is_named(text):
    """Third-party entries (他吞了一整板药) fire on the writer's own words too: with no one else
    named, staff must see the writer at risk (category self), not a report about someone else."""
    a = RULES.assess(text)
    assert a.risk == Risk.imminent and a.category == "self", a


_SEED_SCRIPT = """
import json, sys
from nlu.assess import Assessor
from nlu.crisis_eval import OWN_DEV_SETS, own_items
a = Assessor(use_spacy=False)
out = [[r.risk.name, r.category, list(r.signals)] for p in OWN_DEV_SETS for it in own_items(p) for r in [a.assess(it.text)]]
json.dump(out, sys.stdout)
"""


def test_assessment_does_not_depend_on_the_hash_seed():
    # hits used to be sorted by span only, so ties came out in set order, which PYTHONHASHSEED
    # changes: the same message got category self in one process and third_party in another
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", _SEED_SCRIPT], cwd=root, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    runs = [json.loads(p.communicate()[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert len(runs[0]) > 4000
    assert runs[0] == runs[1]


@pytest.mark.parametrize("text", [
    "房间打扫干净了，垃圾扔了，床单也换了新的，这样他们进来不会太难看。我现在去阳台",
    "不想活了……开玩笑的 就是有点累 他又不回我消息",
])
def test_a_risk_of_medium_or_more_always_names_whose_risk(text):
    # an in-progress or softened cue whose lexicon category is none used to leave category none
    # on an imminent or medium assessment; design.md keeps none for none/low
    a = RULES.assess(text)
    assert a.risk >= Risk.medium and a.category != "none", a


@pytest.mark.parametrize("text, level, category", [
    # the writer at a dangerous place now, nothing else said: writing to a crisis line from there
    ("我现在在江边 风好大", Risk.imminent, "self"),
    ("星星今晚特别亮 我现在在顶楼天台 想离它们近一点", Risk.imminent, "self"),
    # someone else there: high; there now: imminent
    ("孩子在楼顶 我该怎么办 急", Risk.high, "third_party"),
    ("我妈刚发语音 她现在一个人在河边 怎么办怎么办", Risk.imminent, "third_party"),
])
def test_being_at_a_dangerous_place_is_a_danger_sign(text, level, category):
    a = RULES.assess(text)
    assert (a.risk, a.category) == (level, category), a


@pytest.mark.parametrize("text", [
    "外婆家就在海边 这周末带娃回去给她过八十大寿", "现在在大桥上 堵死了", "我现在在窗台上擦玻璃",
    "我现在坐在窗台上发呆", "我现在在江边钓鱼", "他现在在天台收衣服", "我现在去阳台",
    "每次站在站台边上都会发呆",
])
def test_leisure_work_or_home_at_such_a_place_is_ordinary(text):
    assert RULES.assess(text).risk < Risk.high


@pytest.mark.parametrize("text, level, category", [
    # 我 inside the cue (安眠药我攒了一瓶) is this clause's subject: the daughter named before is not
    ("女儿还小，什么都不懂。安眠药我攒了一瓶，今晚就吃", Risk.imminent, "self"),
    # 给我 is an object: the husband named before stays the subject
    ("我老公最近老念叨要解脱，今天出门前把银行卡塞给我了，说密码是女儿生日，现在电话一直不接", Risk.high, "third_party"),
])
def test_a_clause_with_its_own_i_is_the_writers(text, level, category):
    a = RULES.assess(text)
    assert (a.risk, a.category) == (level, category), a


@pytest.mark.parametrize("text", [
    "猫把我手腕抓了几道 血一直流",  # the model paged it (0.99) on 血一直流
    "着火了就从窗户出去",          # the model paged it (0.93): a fire escape
    "把药给我妈送去了",            # the model paged it (0.97)
    "药我准备好了 感冒药 明天带去学校", "菜刀在手里 站在灶台边做饭", "发了张海边的照片 配文 拜拜了夏天",
    "想走进海里游泳",
    "希望这场雨早点结束",           # 想…结束 at the end of a clause read it as ending one's life
    "有个念头一直压着 和死有关",    # 一直压着 read as pressing on a burn (imminent)
])
def test_ordinary_look_alikes_do_not_page_with_the_model_on(text):
    assert A.assess(text).risk < Risk.high, A.assess(text)


@pytest.mark.parametrize("text, level", [
    ("药攒够了 明天带去公司吃", Risk.imminent),  # the errand guard excludes a hoard and taking it
    ("再见了 这个世界", Risk.high), ("想走进海里 再也不回来", Risk.high),
    ("菜刀在手里 他再敢动孩子我就砍", Risk.imminent),
])
def test_their_crisis_counterparts_still_page(text, level):
    assert RULES.assess(text).risk == level, RULES.assess(text)


def test_a_visit_with_an_errand_guards_the_model_too():
    # the model paged this (0.97): a hyperbole guard with no crisis cue keeps it from raising
    a = A.assess("今晚去海边找外婆 给她带点药")
    assert a.risk < Risk.medium, a


@pytest.mark.parametrize("text", ["我室友刚在群里说 谢谢大家这些年的照顾 然后手机就关机了",
                                  "我同事这两天把他的钓竿全送人了 还说以后用不上了"])
def test_someone_elses_farewell_is_theirs(text):
    # these patterns used to exclude ordinary messages with a look-ahead from the message start,
    # so their span began at 0 and the roommate's farewell read as the writer's; now `unless`
    a = RULES.assess(text)
    assert a.risk >= Risk.high and a.category == "third_party", a


@pytest.mark.parametrize("text", ["我想自杀 不是开玩笑", "真想杀了自己 不是开玩笑", "想弄死自己 没开玩笑"])
def test_not_a_joke_about_killing_oneself_is_the_writers_own_risk(text):
    # the "not a joke" threat pattern (op6) read the 杀 of 自杀 / 杀了自己 as a threat to others
    a = RULES.assess(text)
    assert (a.risk, a.category) == (Risk.high, "self"), a


@pytest.mark.parametrize("text, level", [
    ("ICU干了十年 送走那么多人 现在觉得该轮到我了", Risk.high),  # a view held now: no near time
    ("现在想想 活着也没什么意思", Risk.medium),
    ("我现在就想死", Risk.imminent),  # 现在 before the wish itself stays a near time
    ("我现在站在天台上", Risk.imminent),
    ("我已经想好了 等我妈走了我就跟着去", Risk.high),  # following her in death some day
    ("等家里人都睡了我就去跳河", Risk.imminent),
])
def test_now_that_opens_a_view_is_no_near_time(text, level):
    a = RULES.assess(text)
    assert a.risk == level, a


@pytest.mark.parametrize("text", ["宿舍那个偷我钱的 我就废了他 不是说着玩的",
                                  "同事天天在群里笑我游戏菜 总有一天我要弄死他 我是认真的"])
def test_a_denied_joke_does_not_make_a_threat_a_joke(text):
    # the joke hyperboles (说着玩, 游戏里干掉他) swallowed 不是说着玩 / 我是认真的
    a = RULES.assess(text)
    assert (a.risk >= Risk.high, a.category) == (True, "others"), a


@pytest.mark.parametrize("text, level", [
    ("每天坐在车里不想下车 不想动 活着好没意思", Risk.medium),  # 不想 negates 动, not what follows the space
    ("孩子不上学 我也不想上班 人生好像到头了", Risk.medium),
    ("我不想 自杀", Risk.low),       # a negation right before the space still reaches the cue after it
    ("我没有 想死", Risk.low),
    ("自 杀", Risk.high),            # a space inside a word is no break at all
    ("不 想 活 了", Risk.high),
])
def test_a_typed_space_ends_a_negations_reach(text, level):
    a = RULES.assess(text)
    assert a.risk == level, a


@pytest.mark.parametrize("text, paged", [
    ("i want to kill myself. i sent him everything, even my parents savings", True),  # a wish, then why
    ("i wanna kms i sent all my money to a scammer", True),
    ("lol kms i sent the invoice to the wrong client", False),                         # the groan stays a groan
    ("ugh kill myself i forgot my badge", False),
])
def test_a_wish_to_kill_oneself_is_no_groan_because_a_mishap_follows(text, paged):
    a = RULES.assess(text)
    assert (a.risk >= Risk.high) == paged, a
